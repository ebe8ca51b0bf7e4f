// version() is a Semantic Versioning 2.0.0 string and names the release the
// top-level CMakeLists.txt declares, so the two cannot drift apart.
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tailor/base/version.h"

namespace {

// The regular expression semver.org gives for a valid version: MAJOR.MINOR.PATCH
// without leading zeros, then an optional -pre.release and +build.metadata.
bool is_semver(const std::string& v) {
    static const std::regex re(
        R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))"
        R"((?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
        R"((?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)");
    return std::regex_match(v, re);
}

// The VERSION of `project(tailor VERSION x.y.z ...)` in the top-level CMakeLists.txt.
std::string cmake_project_version() {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/CMakeLists.txt");
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    std::smatch m;
    static const std::regex re(R"(project\s*\(\s*tailor\s+VERSION\s+([0-9A-Za-z.+-]+))");
    return std::regex_search(s, m, re) ? m[1].str() : std::string();
}

TEST(Version, SemverCheckRefusesNonVersions) {
    EXPECT_TRUE(is_semver("1.2.3"));
    EXPECT_TRUE(is_semver("0.1.0-rc.1+build.5"));
    for (const char* bad :
         {"", "1.2", "1.2.3.4", "01.2.3", "1.2.3-", "1.2.3-01", "v1.2.3", "1.2.3 ", "1..3"}) {
        EXPECT_FALSE(is_semver(bad)) << '"' << bad << '"';
    }
}

TEST(Version, IsSemver) {
    const std::string v(tailor::version());
    EXPECT_TRUE(is_semver(v)) << '"' << v << '"';
}

TEST(Version, MatchesTheCMakeProjectVersion) {
    const std::string declared = cmake_project_version();
    ASSERT_FALSE(declared.empty()) << "no project(tailor VERSION ...) in CMakeLists.txt";
    EXPECT_EQ(std::string(tailor::version()), declared);
}

}  // namespace
