// The example packs in lua/examples compile with the kit they ship with (their cases run in
// `tailorctl rules test`, which CI can call; this keeps them from rotting in the unit run).
// The packs are globbed, so a new example is covered the day it lands.
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

// Every lua/examples/*.lua but the *_cases.lua files, sorted.
std::vector<std::filesystem::path> example_packs() {
    const std::string suffix = "_cases.lua";
    std::vector<std::filesystem::path> out;
    for (const auto& entry :
         std::filesystem::directory_iterator(std::string(TAILOR_SOURCE_DIR) + "/lua/examples")) {
        const std::string name = entry.path().filename().string();
        const bool is_cases = name.size() > suffix.size() &&
                              name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
        if (entry.is_regular_file() && entry.path().extension() == ".lua" && !is_cases) {
            out.push_back(entry.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

TEST(RulesExamples, EveryPackCompiles) {
    const auto packs = example_packs();
    ASSERT_FALSE(packs.empty()) << "no packs in " << TAILOR_SOURCE_DIR << "/lua/examples";
    for (const auto& path : packs) {
        SCOPED_TRACE(path.filename().string());
        RulesError err;
        auto pack = compile_rule_pack_files({path.string()}, options(), &err);
        EXPECT_TRUE(pack.has_value()) << err.message();
        if (pack) {
            EXPECT_FALSE(pack->rules.empty());
            EXPECT_NE(RuleRuntime::create(*pack, &err), nullptr) << err.message();
        }
    }
}

}  // namespace
}  // namespace tailor
