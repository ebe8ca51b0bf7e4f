// The embedded rule kit: the library carries exactly lua/tailor.lua and lua/tailor/*.lua.
#include "tailor/rules/kit.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "tailor/rules/compile.h"

namespace tailor {
namespace {

std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(EmbeddedKit, IsTheSourceTreesKitByteForByte) {
    const std::filesystem::path lua = std::filesystem::path(TAILOR_SOURCE_DIR) / "lua";
    std::set<std::string> on_disk = {"tailor.lua"};
    for (const auto& e : std::filesystem::directory_iterator(lua / "tailor")) {
        if (e.path().extension() == ".lua") {
            on_disk.insert("tailor/" + e.path().filename().string());
        }
    }
    size_t n = 0;
    const KitFile* files = embedded_kit_files(&n);
    ASSERT_GT(n, 0u);
    EXPECT_EQ(files[0].name, "tailor.lua");
    std::set<std::string> embedded;
    for (size_t i = 0; i < n; ++i) {
        embedded.insert(std::string(files[i].name));
        EXPECT_EQ(files[i].text, read(lua / std::string(files[i].name))) << files[i].name;
    }
    EXPECT_EQ(embedded, on_disk);
}

TEST(EmbeddedKit, CompilesAPackWithoutAnyFileOnDisk) {
    RulesError err;
    auto pack =
        compile_rule_pack({{"pack.lua",
                            "local t = require 'tailor'\n"
                            "t.slot 'hero' { t.rule 'all' { when = function(v) return true end,"
                            " html = '<p>hi</p>' } }\n"}},
                          RulePackOptions{}, &err);
    ASSERT_TRUE(pack.has_value()) << err.message();
    EXPECT_EQ(pack->kit_name, "tailor.lua");
    EXPECT_EQ(pack->rules.size(), 1u);
}

}  // namespace
}  // namespace tailor
