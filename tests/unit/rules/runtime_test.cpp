// RuleRuntime: evaluation into a Decision, priority, failures falling back, counters, budgets.
#include "tailor/rules/runtime.h"

#include <gtest/gtest.h>

#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

constexpr std::string_view kHeroPack = R"(
local t = require "tailor"
t.slot "hero" {
  t.rule "vip"   { when = t.lifecycle "vip", html = [[<p>VIP {{first_name}}</p>]] },
  t.rule "buyer" { when = t.lifecycle {"new_buyer", "repeat_buyer"},
                   html = [[<p>Welcome back, {{first_name|there}}</p>]] },
}
)";

TEST(RulesRuntime, FillsTheWinningRule) {
    auto rt = runtime(kHeroPack);
    ASSERT_TRUE(rt);
    Profile p = typical_profile();
    Evaluated r = evaluate(*rt, p);
    EXPECT_TRUE(r.summary.ok) << r.summary.error;
    EXPECT_EQ(r.slot("hero"), "<p>Welcome back, Ann</p>");
    EXPECT_EQ(r.decision.variable("segment"), "repeat_buyer");
}

TEST(RulesRuntime, EscapesProfileData) {
    auto rt = runtime(kHeroPack);
    ASSERT_TRUE(rt);
    Profile p = typical_profile();
    p.first_name = "<script>x</script>";
    Evaluated r = evaluate(*rt, p);
    EXPECT_EQ(r.slot("hero"), "<p>Welcome back, &lt;script&gt;x&lt;/script&gt;</p>");
}

TEST(RulesRuntime, UnknownVisitorKeepsDefaults) {
    auto rt = runtime(kHeroPack);
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, Profile{});
    EXPECT_TRUE(r.summary.ok);
    EXPECT_FALSE(r.decision.changes_page());
    EXPECT_EQ(r.decision.variable("segment"), "new_visitor");
}

TEST(RulesRuntime, HigherPriorityWinsThenWrittenOrder) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "s" {
  t.rule "first"  { html = "first" },
  t.rule "second" { html = "second" },
  t.rule "urgent" { html = "urgent", priority = 10 },
}
t.slot "u" {
  t.rule "a" { html = "a" },
  t.rule "b" { html = "b" },
}
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "urgent");
    EXPECT_EQ(r.slot("u"), "a");
    ASSERT_EQ(rt->rule_stats().size(), 5u);
    EXPECT_EQ(rt->rule_stats()[0].info.id, "urgent");
    EXPECT_EQ(rt->rule_stats()[0].wins, 1u);
    EXPECT_EQ(rt->rule_stats()[1].evaluations, 0u);  // not reached
}

TEST(RulesRuntime, ErroringRuleFallsBackAndOthersRun) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "broken" {
  t.rule "boom" { when = function(v) return v.nope.x end, html = "never" },
  t.rule "lower" { html = "lower must not show" },
}
t.slot "fine" { t.rule "ok" { html = "ok" } }
)");
    ASSERT_TRUE(rt);
    for (int i = 0; i < 3; ++i) {
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_TRUE(r.summary.ok);
        EXPECT_EQ(r.slot("broken"), "<default>");
        EXPECT_EQ(r.slot("fine"), "ok");
        EXPECT_EQ(r.summary.failures, 1u);
    }
    EXPECT_EQ(rt->rule_stats()[0].errors, 3u);
    std::vector<RuleErrorEvent> events;
    EXPECT_EQ(rt->take_errors(&events), 0u);
    ASSERT_EQ(events.size(), 3u);
    EXPECT_EQ(events[0].rule, "boom");
    EXPECT_NE(events[0].message.find("unknown visitor field 'nope'"), std::string::npos)
        << events[0].message;
}

TEST(RulesRuntime, ErrorEventNamesTheRuleAndWhereThePackDeclaresIt) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "fine" { t.rule "ok" { html = "ok" } }
t.slot "broken" {
  t.rule "boom" { when = function(v) error("no stock") end, html = "never" },
}
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.summary.failures, 1u);
    std::vector<RuleErrorEvent> events;
    EXPECT_EQ(rt->take_errors(&events), 0u);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].rule, "boom");
    EXPECT_EQ(events[0].outcome, RuleOutcome::kError);
    EXPECT_EQ(events[0].file, "pack.lua");
    EXPECT_EQ(events[0].line, 5);
    ASSERT_LT(events[0].index, rt->rule_stats().size());
    EXPECT_EQ(rt->rule_stats()[events[0].index].info.id, "boom");
    EXPECT_NE(events[0].message.find("no stock"), std::string::npos) << events[0].message;
    events.clear();
    EXPECT_EQ(rt->take_errors(&events), 0u);
    EXPECT_TRUE(events.empty()) << "taken once";
}

TEST(RulesRuntime, InfiniteLoopIsCutAndTheStateSurvives) {
    LuaLimits limits = untimed();  // the instruction budget must do it alone
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "loop" { t.rule "spin" { when = function(v) while true do end end, html = "x" } }
t.slot "after" { t.rule "ok" { html = "ok" } }
)",
                      limits);
    ASSERT_TRUE(rt);
    for (int i = 0; i < 3; ++i) {
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_TRUE(r.summary.ok) << r.summary.error;
        EXPECT_EQ(r.slot("loop"), "<default>");
        EXPECT_EQ(r.slot("after"), "ok");
        ASSERT_FALSE(r.trace.entries.empty());
        EXPECT_EQ(r.trace.entries[0].outcome, RuleOutcome::kBudget);
    }
    EXPECT_EQ(rt->rule_stats()[0].budget_cuts, 3u);
}

TEST(RulesRuntime, LoopInsideStringCallbacksIsCutToo) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "loop" { t.rule "gsub" { when = function(v)
  local n = 0
  while true do ("abc"):gsub(".", function(c) n = n + 1 end) end
end, html = "x" } }
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("loop"), "<default>");
    EXPECT_EQ(rt->rule_stats()[0].budget_cuts, 1u);
}

// Without a trace a slot's rules run in one protected call: failures must
// still be the failing rule's, and each rule must keep its own budget.
TEST(RulesRuntime, OneCallPerSlotKeepsPerRuleBudgetsAndBlame) {
    LuaLimits limits = untimed();  // the instruction budgets must do it alone
    auto rt = runtime(R"(
local t = require "tailor"
local function burn(n) local x = 0 for i = 1, n do x = x + i end return x end
t.slot "heavy" {
  -- 150k instructions each: over one rule's budget together, not alone
  t.rule "h1" { when = function(v) burn(75000) return false end, html = "h1" },
  t.rule "h2" { when = function(v) burn(75000) return true end, html = "h2" },
}
t.slot "broken" {
  t.rule "fine" { when = false, html = "no" },
  t.rule "boom" { when = function(v) return v.nope end, html = "never" },
  t.rule "lower" { html = "lower must not show" },
}
t.slot "loop" {
  t.rule "quick" { when = function(v) return false end, html = "no" },
  t.rule "spin" { when = function(v) while true do end end, html = "x" },
}
t.slot "after" { t.rule "ok" { html = "{{first_name}}" } }
)",
                      limits);
    ASSERT_TRUE(rt);
    Profile p = typical_profile();
    for (int i = 0; i < 3; ++i) {
        Decision d;
        EvalSummary s = rt->evaluate(p, facts(), &d);
        EXPECT_TRUE(s.ok) << s.error;
        EXPECT_EQ(s.failures, 2u);
        EXPECT_EQ(s.rules_run, 7u);
        EXPECT_EQ(d.slot("heavy").value_or("<default>"), "h2");
        EXPECT_FALSE(d.slot("broken").has_value());
        EXPECT_FALSE(d.slot("loop").has_value());
        EXPECT_EQ(d.slot("after").value_or("<default>"), "Ann");
    }
    const auto& st = rt->rule_stats();
    ASSERT_EQ(st.size(), 8u);
    EXPECT_EQ(st[0].evaluations, 3u);
    EXPECT_EQ(st[0].matches, 0u);
    EXPECT_EQ(st[1].matches, 3u);
    EXPECT_EQ(st[1].wins, 3u);
    EXPECT_EQ(st[1].budget_cuts, 0u);
    EXPECT_EQ(st[3].errors, 3u);       // boom, not the rule before it
    EXPECT_EQ(st[4].evaluations, 0u);  // lower: not reached
    EXPECT_EQ(st[5].budget_cuts, 0u);
    EXPECT_EQ(st[6].budget_cuts, 3u);  // spin
    std::vector<RuleErrorEvent> events;
    (void)rt->take_errors(&events);
    ASSERT_EQ(events.size(), 6u);
    EXPECT_EQ(events[0].rule, "boom");
    EXPECT_EQ(events[1].rule, "spin");
    EXPECT_EQ(events[1].outcome, RuleOutcome::kBudget);
}

// Kit helpers that read the profile natively refuse a view kept from an
// earlier evaluation, as the view's own lazy fields do.
TEST(RulesRuntime, NativeHelpersRefuseAStaleView) {
    auto rt = runtime(R"(
local t = require "tailor"
-- hidden one table down from the check that refuses file-local state
local box = { stash = {} }
local helpers = { t.device "desktop", t.points_at_least(1), t.tier "gold" }
t.slot "s" { t.rule "r" { html = "x", when = function(v)
  local stash = box.stash
  local old = stash[1]
  stash[1] = v
  if old then return t.suppressed(old) or helpers[1](old) end
  return false
end } }
t.slot "w" { t.reward_reminder { html = "{{points}}", when = function(v)
  local stash = box.stash
  local old = stash[2]
  stash[2] = v
  return old == nil
end } }
)");
    ASSERT_TRUE(rt);
    Decision first;
    (void)rt->evaluate(typical_profile(), facts(), &first);
    EXPECT_EQ(first.slot("w").value_or("<default>"), "640");
    Decision second;
    EvalSummary s = rt->evaluate(typical_profile(), facts(), &second);
    EXPECT_EQ(s.failures, 1u);
    EXPECT_FALSE(second.slot("s").has_value());
    std::vector<RuleErrorEvent> events;
    (void)rt->take_errors(&events);
    ASSERT_EQ(events.size(), 1u);
    EXPECT_NE(events[0].message.find("outside its evaluation"), std::string::npos)
        << events[0].message;
}

TEST(RulesRuntime, TimeBudgetCutsASlowRule) {
    LuaLimits limits;
    limits.rule_instructions = 1ull << 40;
    limits.evaluation_instructions = 1ull << 40;
    limits.evaluation_micros = 2000;
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "slow" { t.rule "slow" { when = function(v) while true do end end, html = "x" } }
t.slot "next" { t.rule "next" { html = "next" } }
)",
                      limits);
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("slow"), "<default>");
    EXPECT_EQ(r.trace.entries[0].detail, "time budget exceeded");
    // the evaluation's time is spent, so later rules are skipped, not run
    EXPECT_EQ(r.slot("next"), "<default>");
    EXPECT_EQ(rt->rule_stats()[1].skipped, 1u);
}

TEST(RulesRuntime, MemoryCeilingHitFallsBackAndRecovers) {
    // this test is about memory, not time (untimed: a loaded machine took
    // over a second of wall clock for it) nor the bytes allocated (charged
    // as instructions, LuaSandbox::kBytesPerInstruction)
    LuaLimits limits = untimed();
    limits.memory_bytes = 4 * 1024 * 1024;
    limits.rule_instructions = 100000000;
    limits.evaluation_instructions = 100000000;
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "hog" { t.rule "hog" { when = function(v)
  local parts = {}
  for i = 1, 1e4 do parts[i] = ("x"):rep(50000) .. ("x"):rep(50000) .. i end
end, html = "x" } }
t.slot "after" { t.rule "ok" { html = "ok {{first_name}}" } }
)",
                      limits);
    ASSERT_TRUE(rt);
    for (int i = 0; i < 2; ++i) {
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_EQ(r.slot("hog"), "<default>");
        EXPECT_EQ(r.slot("after"), "ok Ann") << r.trace.entries.back().detail;
        ASSERT_FALSE(r.trace.entries.empty());
        EXPECT_EQ(r.trace.entries[0].outcome, RuleOutcome::kMemory) << r.trace.entries[0].detail;
    }
    EXPECT_EQ(rt->rule_stats()[0].memory_errors, 2u);
    EXPECT_LE(rt->memory_peak(), limits.memory_bytes);
    EXPECT_LT(rt->memory_used(), limits.memory_bytes / 2);
}

// Scalars are copies and stay readable in a stashed view (as they would in
// any upvalue); what points into the Profile must not.
TEST(RulesRuntime, StashedViewErrorsOnLaterUse) {
    auto rt = runtime(R"(
local t = require "tailor"
-- a file local is refused at load (RulesState); one level down is not
-- seen by that check, and this defence is what is left
local box = { kept = {} }
t.slot "s" { t.rule "stash" { when = function(v)
  local kept = box.kept
  if kept.v then return #kept.v.purchases > 0 end
  kept.v = v
  return false
end, html = "leaked" } }
)");
    ASSERT_TRUE(rt);
    Evaluated first = evaluate(*rt, typical_profile());
    EXPECT_EQ(first.slot("s"), "<default>");
    Evaluated second = evaluate(*rt, typical_profile());
    EXPECT_EQ(second.slot("s"), "<default>");
    ASSERT_FALSE(second.trace.entries.empty());
    EXPECT_NE(second.trace.entries[0].detail.find("outside its evaluation"), std::string::npos);
}

TEST(RulesRuntime, RulesCannotSetGlobals) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "s" { t.rule "g" { when = function(v) last_name = v.first_name return true end,
                          html = "x" } }
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_NE(r.trace.entries[0].detail.find("may not set global"), std::string::npos);
}

}  // namespace
}  // namespace tailor
