// What a rule calls in C stays inside its budget: bounded patterns, capped builtins, bounded
// re-entry (issue 11, items 1-3). Outcomes are asserted, never wall-clock times.
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

// A pack with one rule under test in slot "s" and a plain rule after it,
// so a test also sees that the evaluation went on.
std::string pack_with(const std::string& when) {
    return "local t = require 'tailor'\n"
           "t.slot 's' { t.rule 'r' { when = function(v)\n" +
           when +
           "\nend, html = 'fired' } }\n"
           "t.slot 'after' { t.rule 'ok' { html = 'ok {{first_name}}' } }\n";
}

RuleTraceEntry first_entry(const Evaluated& r) {
    return r.trace.entries.empty() ? RuleTraceEntry{} : r.trace.entries[0];
}

TEST(RulesBounds, BacktrackingPatternIsRefusedAndTheWorkerGoesOn) {
    auto rt =
        runtime(pack_with(R"(return string.find(("a"):rep(4096), "a*a*b") ~= nil)"), unhurried());
    ASSERT_TRUE(rt);
    for (int i = 0; i < 3; ++i) {
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_EQ(r.slot("s"), "<default>");
        EXPECT_EQ(r.slot("after"), "ok Ann");
        RuleTraceEntry e = first_entry(r);
        EXPECT_TRUE(e.outcome == RuleOutcome::kError || e.outcome == RuleOutcome::kBudget)
            << e.detail;
    }
    EXPECT_EQ(rt->rule_stats()[0].errors + rt->rule_stats()[0].budget_cuts, 3u);
}

TEST(RulesBounds, MethodCallsOnStringsAreBoundedToo) {
    auto rt = runtime(pack_with(R"(local s = ("a"):rep(4000) return s:match("(a*)*b") ~= nil)"),
                      unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_EQ(r.slot("after"), "ok Ann");
}

TEST(RulesBounds, PatternStepsCountAgainstTheRuleBudget) {
    // each call stays under the matcher's own cap; many of them spend the
    // rule's instruction budget, which the hook alone would not see
    auto rt = runtime(pack_with(R"(
local s = ("ab"):rep(100)
for i = 1, 1e6 do string.find(s, "a.-c") end
return true)"),
                      unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_EQ(first_entry(r).outcome, RuleOutcome::kBudget) << first_entry(r).detail;
    EXPECT_EQ(rt->rule_stats()[0].budget_cuts, 1u);
}

TEST(RulesBounds, SubjectAndPatternAreCapped) {
    auto rt = runtime(pack_with(R"(return string.find(("a"):rep(5000), "b") ~= nil)"), unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_NE(first_entry(r).detail.find("subject longer than 4096 bytes"), std::string::npos)
        << first_entry(r).detail;
    auto rt2 =
        runtime(pack_with(R"(return string.find("a", ("a?"):rep(100)) ~= nil)"), unhurried());
    ASSERT_TRUE(rt2);
    r = evaluate(*rt2, typical_profile());
    EXPECT_NE(first_entry(r).detail.find("pattern longer than 128 bytes"), std::string::npos)
        << first_entry(r).detail;
}

TEST(RulesBounds, StringRepIsCappedAndItsAllocationsCharged) {
    auto rt = runtime(pack_with(R"(return #string.rep("x", 1e6) > 0)"), unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_NE(first_entry(r).detail.find("string.rep: result longer than"), std::string::npos)
        << first_entry(r).detail;
    // under the cap, in a loop: the bytes it allocates spend the instruction
    // budget (the time budget is out of the way here)
    LuaLimits limits;
    limits.evaluation_micros = 60 * 1000 * 1000;
    auto loop = runtime(pack_with(R"(
local n = 0
for i = 1, 1e9 do n = n + #("x"):rep(60000) end
return n > 0)"),
                        limits);
    ASSERT_TRUE(loop);
    r = evaluate(*loop, typical_profile());
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_EQ(first_entry(r).outcome, RuleOutcome::kBudget) << first_entry(r).detail;
    EXPECT_EQ(r.slot("after"), "ok Ann") << first_entry(r).detail;
}

TEST(RulesBounds, DoublingAStringIsCutByItsAllocations) {
    LuaLimits limits;
    limits.evaluation_micros = 60 * 1000 * 1000;  // the instruction budget must cut it
    auto rt = runtime(pack_with(R"(
local s = ("x"):rep(60000)
for i = 1, 40 do s = s .. s end
return #s > 0)"),
                      limits);
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "<default>");
    RuleOutcome o = first_entry(r).outcome;
    EXPECT_TRUE(o == RuleOutcome::kBudget || o == RuleOutcome::kMemory) << first_entry(r).detail;
    EXPECT_EQ(r.slot("after"), "ok Ann");
}

TEST(RulesBounds, GsubCallbackRecursionIsRefusedNotACrash) {
    auto rt = runtime(R"(
local t = require 'tailor'
local function g(s) return (string.gsub(s, "a", g)) end
t.slot 's' { t.rule 'r' { when = function(v) return g("aaaa") ~= "" end, html = 'fired' } }
t.slot 'after' { t.rule 'ok' { html = 'ok {{first_name}}' } }
)",
                      unhurried());
    ASSERT_TRUE(rt);
    for (int i = 0; i < 2; ++i) {
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_EQ(r.slot("s"), "<default>");
        EXPECT_NE(first_entry(r).detail.find("nested too deeply"), std::string::npos)
            << first_entry(r).detail;
        EXPECT_EQ(r.slot("after"), "ok Ann");
    }
}

TEST(RulesBounds, SortComparatorRecursionIsRefused) {
    auto rt = runtime(R"(
local t = require 'tailor'
local function cmp(a, b) table.sort({3, 2, 1}, cmp) return a < b end
t.slot 's' { t.rule 'r' { when = function(v) table.sort({2, 1}, cmp) return true end,
                         html = 'fired' } }
)",
                      unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_NE(first_entry(r).detail.find("nested too deeply"), std::string::npos)
        << first_entry(r).detail;
}

TEST(RulesBounds, GsubAndGmatchStillWork) {
    auto rt = runtime(R"(
local t = require 'tailor'
t.slot 's' { t.rule 'r' { when = true, html = '{{x}}', vars = function(v)
  local words = {}
  for w in string.gmatch("one two three", "%a+") do words[#words + 1] = w:upper() end
  local s = string.gsub("a-b-c", "-", function(c) return "+" end)
  table.sort(words)
  return { x = table.concat(words, ",") .. " " .. s .. " " .. (string.rep("ab", 3, "|")) }
end } }
)",
                      unhurried());
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "ONE,THREE,TWO a+b+c ab|ab|ab");
}

RequestFacts facts_at(const std::string& path) {
    RequestFacts f = facts();
    static std::string stored;
    stored = path;
    f.path = stored;
    return f;
}

TEST(RulesBounds, PathPatternOnAHostileUrlIsBounded) {
    auto rt = runtime(R"(
local t = require 'tailor'
t.slot 's' { t.rule 'r' { when = t.path "^/c/.*/.*/.*%.html$", html = 'cat' } }
t.slot 'after' { t.rule 'ok' { html = 'ok' } }
)",
                      unhurried());
    ASSERT_TRUE(rt);
    // 3.2 KB of slashes: LuaJIT's matcher took 13 s on this
    std::string hostile = "/c/";
    for (int i = 0; i < 1600; ++i) {
        hostile += "a/";
    }
    Evaluated r = evaluate(*rt, typical_profile(), facts_at(hostile));
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_EQ(r.slot("after"), "ok");
    // over the subject cap: no match, not an error
    Evaluated longer =
        evaluate(*rt, typical_profile(), facts_at("/c/x/y/" + std::string(5000, 'z') + ".html"));
    EXPECT_EQ(longer.slot("s"), "<default>");
    EXPECT_EQ(first_entry(longer).outcome, RuleOutcome::kNoMatch);
    Evaluated fine = evaluate(*rt, typical_profile(), facts_at("/c/a/b/c.html"));
    EXPECT_EQ(fine.slot("s"), "cat");
}

TEST(RulesBounds, MalformedPathPatternIsRefusedAtLoad) {
    RulesError err;
    EXPECT_FALSE(
        compile("local t = require 'tailor'\n"
                "t.slot 's' { t.rule 'r' { when = t.path '[a-', html = 'x' } }\n",
                &err));
    EXPECT_EQ(err.file, "pack.lua");
    EXPECT_EQ(err.line, 2);
    EXPECT_NE(err.reason.find("t.path"), std::string::npos) << err.message();
}

}  // namespace
}  // namespace tailor
