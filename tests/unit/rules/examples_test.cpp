// The example packs in lua/examples compile with the kit they ship with (their cases run in
// `tailorctl rules test`, which CI can call; this keeps them from rotting in the unit run).
#include <gtest/gtest.h>

#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

TEST(RulesExamples, EveryPackCompiles) {
    for (const char* name : {"lifecycle_hero", "reorder", "rewards", "recommendations",
                             "suppression", "experiment", "storefront"}) {
        std::string path = std::string(TAILOR_SOURCE_DIR) + "/lua/examples/" + name + ".lua";
        RulesError err;
        auto pack = compile_rule_pack_files({path}, options(), &err);
        EXPECT_TRUE(pack.has_value()) << err.message();
        if (pack) {
            EXPECT_FALSE(pack->rules.empty()) << name;
            EXPECT_NE(RuleRuntime::create(*pack, &err), nullptr) << err.message();
        }
    }
}

}  // namespace
}  // namespace tailor
