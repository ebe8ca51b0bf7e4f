// compile_rule_pack: syntax errors and kit misuse come back with the pack's file and line.
#include "tailor/rules/compile.h"

#include <gtest/gtest.h>

#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

RulesError refused(std::string_view text, LuaLimits limits = {}) {
    RulesError err;
    auto pack = compile(text, &err, limits);
    EXPECT_FALSE(pack.has_value()) << text;
    return err;
}

void expect_refused(std::string_view text, int line, std::string_view reason_part) {
    RulesError err = refused(text);
    EXPECT_EQ(err.file, "pack.lua") << err.message();
    EXPECT_EQ(err.line, line) << err.message();
    EXPECT_NE(err.reason.find(reason_part), std::string::npos) << err.message();
}

TEST(RulesPack, CompilesAndSummarises) {
    RulesError err;
    auto pack = compile(R"(
local t = require "tailor"
t.experiment "e" { variants = { a = 1, b = 1 } }
t.slot "hero" {
  t.rule "low" { html = "low" },
  t.rule "high" { html = "high", priority = 5, experiment = "e", variant = "a" },
}
t.slot "reorder" { t.reorder_prompt { html = "{{sku}}" } }
)",
                        &err);
    ASSERT_TRUE(pack) << err.message();
    ASSERT_EQ(pack->rules.size(), 3u);
    EXPECT_EQ(pack->rules[0].id, "high");
    EXPECT_EQ(pack->rules[0].line, 6);
    EXPECT_EQ(pack->rules[0].experiment, "e");
    EXPECT_EQ(pack->rules[1].id, "low");
    EXPECT_EQ(pack->rules[2].kind, "reorder_prompt");
    EXPECT_EQ(pack->rules[2].id, "reorder");
    EXPECT_EQ(pack->slots, (std::vector<std::string>{"hero", "reorder"}));
    EXPECT_EQ(pack->experiments, (std::vector<std::string>{"e"}));
}

TEST(RulesPack, SyntaxErrorHasFileAndLine) {
    expect_refused("local t = require 'tailor'\n\nlocal x = = 1\n", 3, "unexpected symbol");
}

TEST(RulesPack, RuntimeErrorAtLoadHasFileAndLine) {
    expect_refused("local t = require 'tailor'\nlocal x = nil\nx.y = 1\n", 3, "attempt to index");
}

TEST(RulesPack, UnknownOptionNamesTheOptionAndTheKnownOnes) {
    expect_refused(R"(local t = require "tailor"
t.slot "hero" {
  t.rule "vip" { wen = true, html = "x" },
})",
                   3, "rule \"vip\": unknown option 'wen' (known: experiment, html, priority");
}

TEST(RulesPack, MissingHtml) {
    expect_refused("local t = require 'tailor'\nt.slot 'a' { t.rule 'b' { when = true } }\n", 2,
                   "option 'html' is required");
}

TEST(RulesPack, BadTypes) {
    expect_refused("local t = require 'tailor'\nt.slot 'a' { t.rule 'b' { html = 5 } }\n", 2,
                   "option 'html' must be a string, got number");
    expect_refused(
        "local t = require 'tailor'\nt.slot 'a' { t.rule 'b' { html = 'x', when = 'yes' } }\n", 2,
        "option 'when' must be a function");
    expect_refused(
        "local t = require 'tailor'\n\nt.slot 'a' { t.reorder_prompt { html = 'x', due_within_days "
        "= 'soon' } }\n",
        3, "'due_within_days' must be a number");
    expect_refused("local t = require 'tailor'\nt.slot 'a' { 'not a rule' }\n", 2,
                   "item 1 is not a rule");
}

TEST(RulesPack, UnknownStageAndConfigKey) {
    expect_refused("local t = require 'tailor'\nlocal p = t.lifecycle 'vipp'\n", 2,
                   "unknown stage 'vipp'");
    expect_refused("local t = require 'tailor'\nt.config { lifecycle = { lapsed = 3 } }\n", 2,
                   "unknown option 'lapsed'");
    expect_refused("local t = require 'tailor'\nt.config { lifecycle = { lapsed_days = 10 } }\n", 2,
                   "lapsed_days (10) is below at_risk_days (60)");
}

TEST(RulesPack, TemplateErrorPointsIntoTheHtml) {
    expect_refused(
        "local t = require 'tailor'\nt.slot 'a' {\n  t.rule 'b' { html = [[<p>\nHi {{name</p>]] "
        "},\n}\n",
        3, "html line 2, column 4");
    expect_refused(
        "local t = require 'tailor'\nt.slot 'a' { t.rule 'b' { html = [[<a "
        "href=\"{{url}}\">x</a>]] } }\n",
        2, "rule \"b\": html line 1");
}

TEST(RulesPack, CrossChecksUseTheRuleLine) {
    expect_refused(R"(local t = require "tailor"
t.slot "a" {
  t.rule "b" { experiment = "nope", variant = "x", html = "x" },
})",
                   3, "unknown experiment \"nope\"");
    expect_refused(R"(local t = require "tailor"
t.experiment "e" { variants = { a = 1 } }
t.slot "a" {
  t.rule "b" { experiment = "e", variant = "z", html = "x" },
})",
                   4, "has no variant \"z\"");
    expect_refused(R"(local t = require "tailor"
local orphan = t.rule "lost" { html = "x" }
)",
                   2, "rule \"lost\" is not in any slot");
}

TEST(RulesPack, DuplicatesAreRefused) {
    expect_refused("local t = require 'tailor'\nt.slot 'a' {}\nt.slot 'a' {}\n", 3,
                   "defined twice");
    expect_refused(
        "local t = require 'tailor'\nt.slot 'a' { t.rule 'r' { html = 'x' },\n t.rule 'r' { html = "
        "'y' } }\n",
        3, "already exists");
    expect_refused("local t = require 'tailor'\nt.experiment 'e' { variants = { a = 0 } }\n", 2,
                   "weight of 'a'");
    expect_refused(
        "local t = require 'tailor'\nt.experiment 'e' { variants = { a = 1 }, holdout = 101 }\n", 2,
        "holdout");
}

TEST(RulesPack, TopLevelLoopIsCutAtLoad) {
    LuaLimits limits;
    limits.load_instructions = 100000;
    RulesError err = refused("local t = require 'tailor'\nwhile true do end\n", limits);
    EXPECT_EQ(err.file, "pack.lua");
    EXPECT_NE(err.reason.find("instructions budget"), std::string::npos) << err.message();
}

TEST(RulesPack, BytecodeIsRefused) {
    RulesError err = refused(std::string("\x1bLJ\x02\x00junk", 9));
    EXPECT_NE(err.reason.find("bytecode is refused"), std::string::npos) << err.message();
}

TEST(RulesPack, MissingFilesAndKit) {
    RulesError err;
    EXPECT_FALSE(compile_rule_pack_files({"/nonexistent/pack.lua"}, options(), &err));
    EXPECT_EQ(err.message(), "/nonexistent/pack.lua: cannot read: No such file or directory");
    RulePackOptions o;
    o.kit_path = "/nonexistent/tailor.lua";
    EXPECT_FALSE(compile_rule_pack({{"p.lua", ""}}, o, &err));
    EXPECT_EQ(err.file, "/nonexistent/tailor.lua");
}

TEST(RulesPack, LongPathsKeepTheirFullNameInErrors) {
    std::string name(120, 'd');
    name = "/" + name + "/pack.lua";
    RulesError err;
    EXPECT_FALSE(compile_rule_pack({{name, "local x = nil\nx.y = 1\n"}}, options(), &err));
    EXPECT_EQ(err.file, name) << err.message();
    EXPECT_EQ(err.line, 2);
}

TEST(RulesPack, TwoFilesShareOneNamespaceOfSlots) {
    RulesError err;
    auto pack = compile_rule_pack(
        {{"a.lua", "local t = require 'tailor'\nt.slot 'x' { t.rule 'r1' { html = '1' } }\n"},
         {"b.lua", "local t = require 'tailor'\nt.slot 'x' { t.rule 'r2' { html = '2' } }\n"}},
        options(), &err);
    EXPECT_FALSE(pack);
    EXPECT_EQ(err.file, "b.lua");
    EXPECT_EQ(err.line, 2);
}

}  // namespace
}  // namespace tailor
