// Pack integrity (issue 11, items 5 and 6): unknown template names are refused when the pack
// loads; the view and what the kit hands out (rules, triggers, t.html, t.stages) are read-only.
#include <gtest/gtest.h>

#include <string>

#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

// The default 5 ms per evaluation is a wall-clock budget: on a loaded
// machine it could cut these rules first. What is tested here is the work
// counted, not the time, so the clock is out of the way.
LuaLimits unhurried() {
    LuaLimits limits;
    limits.evaluation_micros = 10 * 1000 * 1000;
    return limits;
}

RulesError refused(const std::string& text) {
    RulesError err;
    EXPECT_FALSE(compile(text, &err)) << text;
    return err;
}

TEST(RulesIntegrity, TypoedPlaceholderIsRefusedAtLoadWithFileAndLine) {
    RulesError err = refused(R"(local t = require "tailor"
t.slot "hero" {
  t.rule "hi" { html = "<p>Hi {{frist_name}}</p>" },
}
)");
    EXPECT_EQ(err.file, "pack.lua");
    EXPECT_EQ(err.line, 3);
    EXPECT_NE(err.reason.find("{{frist_name}}"), std::string::npos) << err.message();
}

TEST(RulesIntegrity, EachKindKnowsItsOwnVariables) {
    // a built-in kind's variables and the view's fields are fine
    RulesError err;
    EXPECT_TRUE(compile(R"(local t = require "tailor"
t.slot "a" { t.reward_reminder { html = "{{points}} {{tier}} {{first_name}} {{consent.email}}" } }
t.slot "b" { t.recommendations { sources = { "viewed" }, html = "{{count}}: {{{items}}}", item_html = "{{name}} {{url}}" } }
)",
                        &err))
        << err.message();
    // but not another kind's, nor the view's inside an item
    EXPECT_NE(refused(R"(local t = require "tailor"
t.slot "a" { t.reward_reminder { html = "{{sku}}" } }
)")
                  .reason.find("{{sku}}"),
              std::string::npos);
    EXPECT_NE(refused(R"(local t = require "tailor"
t.slot "b" { t.recommendations { sources = { "viewed" }, html = "{{{items}}}", item_html = "{{first_name}}" } }
)")
                  .reason.find("not a variable of this template"),
              std::string::npos);
    EXPECT_NE(refused(R"(local t = require "tailor"
t.popup "p" { trigger = t.exit_intent(), intent = "cart", html = "<p>{{frist_name}}</p>" }
)")
                  .reason.find("{{frist_name}}"),
              std::string::npos);
}

TEST(RulesIntegrity, AnUnknownNameFromVarsRendersItsDefaultAndTheRestGoesOn) {
    auto rt = runtime(R"(local t = require "tailor"
t.slot "a" { t.rule "v" { html = "<p>{{nope|friend}} {{first_name}}</p>",
                          vars = function(v) return { other = 1 } end } }
t.slot "b" { t.rule "after" { html = "ok" } }
)",
                      unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_TRUE(r.summary.ok) << r.summary.error;
    EXPECT_EQ(r.slot("a"), "<p>friend Ann</p>");
    EXPECT_EQ(r.slot("b"), "ok");
}

TEST(RulesIntegrity, TheViewIsReadOnly) {
    for (const char* write : {"v.first_name = 'Eve'", "v.visits = 0", "v.anything = 1"}) {
        auto rt = runtime(std::string(R"(local t = require "tailor"
t.slot "a" { t.rule "w" { when = function(v) )") +
                              write + R"( return true end, html = "x" } }
t.slot "b" { t.rule "name" { html = "{{first_name}}" } }
)",
                          unhurried());
        ASSERT_TRUE(rt);
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_EQ(r.slot("a"), "<default>") << write;
        ASSERT_FALSE(r.trace.entries.empty());
        EXPECT_NE(r.trace.entries[0].detail.find("read-only"), std::string::npos)
            << r.trace.entries[0].detail;
        EXPECT_EQ(r.slot("b"), "Ann") << write;
    }
}

TEST(RulesIntegrity, DeclaredObjectsAreReadOnly) {
    EXPECT_NE(refused(R"(local t = require "tailor"
local tr = t.exit_intent()
tr.json = '{"type":"exit_intent"}</script><script>alert(1)</script>'
)")
                  .reason.find("read-only"),
              std::string::npos);
    EXPECT_NE(refused(R"(local t = require "tailor"
local r = t.rule "x" { html = "x" }
r.tpl = 0
)")
                  .reason.find("read-only"),
              std::string::npos);
    EXPECT_NE(refused(R"(local t = require "tailor"
t.stages.vip = "lapsed"
)")
                  .reason.find("read-only"),
              std::string::npos);
    // t.html made at load, rewritten by a rule: refused (one table down,
    // where the load-time state check does not look), the pack's HTML stays
    auto rt = runtime(R"(local t = require "tailor"
local k = { banner = t.html("<b>sale</b>") }
t.slot "a" { t.rule "swap" { when = function(v) local b = k.banner b.html = v.first_name
                                                return true end,
                             html = "x" } }
t.slot "b" { t.rule "show" { html = "{{{banner}}}", vars = function(v) return { banner = k.banner } end } }
)",
                      unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("a"), "<default>");
    EXPECT_EQ(r.slot("b"), "<b>sale</b>");
}

TEST(RulesIntegrity, ATriggerCannotBeForged) {
    // a table that looks like a trigger is not one
    EXPECT_NE(refused(R"(local t = require "tailor"
t.popup "p" { trigger = { json = '{"type":"exit_intent"}' }, intent = "cart", html = "x" }
)")
                  .reason.find("'trigger' must be"),
              std::string::npos);
}

}  // namespace
}  // namespace tailor
