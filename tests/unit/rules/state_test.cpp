// Rules keep no state between visitors (issue 11, item 4): writes to a pack file's locals from
// its functions are refused when the pack loads, with file and line.
#include <gtest/gtest.h>

#include <string>

#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

RulesError refused(const std::string& text) {
    RulesError err;
    EXPECT_FALSE(compile(text, &err)) << text;
    return err;
}

TEST(RulesState, AssigningAFileLocalIsRefusedWithItsLine) {
    RulesError err = refused(R"(local t = require "tailor"
local last
t.slot "hero" { t.rule "hi" { html = "<p>{{prev|first}}</p>", vars = function(v)
  local prev = last
  last = v.first_name
  return { prev = prev }
end } }
)");
    EXPECT_EQ(err.file, "pack.lua");
    EXPECT_EQ(err.line, 5) << err.message();
    EXPECT_NE(err.reason.find("outlive this visitor"), std::string::npos) << err.message();
}

TEST(RulesState, EveryKindOfValueIsCaught) {
    for (const char* value : {"v.visits", "'x'", "1", "true", "{}", "nil"}) {
        RulesError err = refused(std::string(R"(local t = require "tailor"
local kept = false
t.slot "s" { t.rule "r" { when = function(v) kept = )") +
                                 value + R"( return true end, html = "x" } }
)");
        EXPECT_EQ(err.line, 3) << value << ": " << err.message();
    }
}

TEST(RulesState, GrowingAFileTableIsRefused) {
    for (const char* store :
         {"seen[#seen + 1] = v.first_name", "seen.last = v.first_name", "seen[1] = v.first_name"}) {
        RulesError err = refused(std::string(R"(local t = require "tailor"
local seen = {}
t.slot "s" { t.rule "r" { when = function(v)
  )") + store + R"(
  return false
end, html = "x" } }
)");
        EXPECT_EQ(err.line, 4) << store << ": " << err.message();
        EXPECT_NE(err.reason.find("table held in a local of the file"), std::string::npos)
            << err.message();
    }
}

TEST(RulesState, ThroughNestedFunctionsToo) {
    RulesError err = refused(R"(local t = require "tailor"
local count = 0
local function bump() return function() count = count + 1 end end
t.slot "s" { t.rule "r" { when = function(v) bump()() return true end, html = "x" } }
)");
    EXPECT_EQ(err.line, 3) << err.message();
}

TEST(RulesState, LocalsOfAFunctionAndTablesFilledAtLoadAreFine) {
    auto rt = runtime(R"(local t = require "tailor"
local catalog = {}
for i = 1, 3 do catalog["SKU-" .. i] = { name = "Item " .. i } end
local greeting = "Hi"
t.slot "s" { t.rule "r" { html = "{{x}}", vars = function(v)
  local n = 0
  ("abc"):gsub(".", function(c) n = n + 1 end)
  local mine = {}
  mine[#mine + 1] = catalog["SKU-2"].name
  return { x = greeting .. " " .. v.first_name .. " " .. n .. " " .. mine[1] }
end } }
)");
    ASSERT_TRUE(rt);
    for (int i = 0; i < 2; ++i) {
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_EQ(r.slot("s"), "Hi Ann 3 Item 2");
    }
}

TEST(RulesState, TableFunctionsRefuseThePacksOwnTables) {
    // the load-time check cannot see a call that stores; the table functions
    // refuse any table a rule reaches through its functions' upvalues, one
    // table down included
    for (const char* call : {"table.insert(seen, v.first_name)", "table.insert(box.seen, 1)",
                             "table.remove(seen)", "table.sort(seen)"}) {
        auto rt = runtime(std::string(R"(local t = require "tailor"
local seen = { "b", "a" }
local box = { seen = {} }
t.slot "s" { t.rule "r" { when = function(v) )") +
                          call + R"( return true end, html = "x" } }
t.slot "after" { t.rule "ok" { html = "ok" } }
)");
        ASSERT_TRUE(rt) << call;
        Evaluated r = evaluate(*rt, typical_profile());
        EXPECT_EQ(r.slot("s"), "<default>") << call;
        ASSERT_FALSE(r.trace.entries.empty());
        EXPECT_NE(r.trace.entries[0].detail.find("belongs to the pack"), std::string::npos)
            << call << ": " << r.trace.entries[0].detail;
        EXPECT_EQ(r.slot("after"), "ok");
    }
}

}  // namespace
}  // namespace tailor
