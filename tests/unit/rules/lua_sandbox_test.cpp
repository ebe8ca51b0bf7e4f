// The sandbox: every forbidden capability is refused, at load time and inside a rule.
#include "tailor/rules/lua_sandbox.h"

#include <gtest/gtest.h>
#include <lua.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

// Each snippet must raise when a pack's top level runs it and when a rule does.
constexpr const char* kForbidden[] = {
    "io.write('x')",
    "os.exit(1)",
    "os.getenv('HOME')",
    "require 'os'",
    "require 'io'",
    "require 'ffi'",
    "require 'jit'",
    "require 'debug'",
    "require 'string'",
    "debug.getinfo(1)",
    "load('return 1')",
    "loadstring('return 1')",
    "dofile('/etc/passwd')",
    "loadfile('/etc/passwd')",
    "string.dump(function() end)",
    "(''):dump()",
    "local f = ('').dump; f(print)",
    "setmetatable({}, {})",
    "getmetatable('').__index = {}",
    "rawset(_G, 'x', 1)",
    "rawget(string, 'dump')()",
    "pcall(error)",
    "xpcall(error, error)",
    "coroutine.create(function() end)",
    "collectgarbage()",
    "setfenv(1, {})",
    "getfenv(1)",
    "_G.x = 1",
    "jit.on()",
    "newproxy(true)",
    "math.random()",
    "module('x')",
    "print('x')",
    "string.upper = nil",
    "table.insert = nil",
    "math.pi = 3",
    "local t = require 'tailor'; t.rule = nil",
    "string.find(('a'):rep(5000), 'a')",
    "string.match('a', ('.'):rep(200))",
    "package.loaded.os.exit(1)",
};

TEST(LuaSandbox, ForbiddenAtLoadTime) {
    for (const char* snippet : kForbidden) {
        RulesError err;
        auto pack = compile(std::string("\n") + snippet + "\n", &err);
        EXPECT_FALSE(pack.has_value()) << "allowed at load: " << snippet;
        if (!pack) {
            EXPECT_EQ(err.file, "pack.lua") << snippet << ": " << err.message();
        }
    }
}

TEST(LuaSandbox, ForbiddenInsideRules) {
    std::string pack = "local t = require 'tailor'\n";
    for (size_t i = 0; i < sizeof(kForbidden) / sizeof(kForbidden[0]); ++i) {
        pack += "t.slot 's" + std::to_string(i) + "' { t.rule 'r" + std::to_string(i) +
                "' { when = function(v) " + kForbidden[i] + " return true end, html = 'leak' } }\n";
    }
    // every snippet must be refused on its own merits, so the evaluation's
    // wall-clock budget is out of the way (a loaded machine must not turn
    // later rules into "skipped")
    LuaLimits limits;
    limits.evaluation_micros = 60 * 1000 * 1000;
    auto rt = runtime(pack, limits);
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_FALSE(r.decision.changes_page());
    const auto& stats = rt->rule_stats();
    for (size_t i = 0; i < stats.size(); ++i) {
        EXPECT_EQ(stats[i].errors, 1u) << "allowed in a rule: " << kForbidden[i];
    }
}

TEST(LuaSandbox, RuleKitConstructorsRefuseToRunFromRules) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "s" { t.rule "grow" { when = function(v) t.slot "more" {} return true end, html = "x" } }
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_NE(r.trace.entries[0].detail.find("only be called while the rule pack loads"),
              std::string::npos)
        << r.trace.entries[0].detail;
}

TEST(LuaSandbox, SafeStandardFunctionsWork) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "s" { t.rule "ok" { html = "{{out}}", vars = function(v)
  local parts = {}
  for i, w in ipairs({ "b", "a" }) do parts[#parts + 1] = w:upper() end
  table.sort(parts)
  local s = table.concat(parts, ",") .. string.format(" %d %s", math.floor(2.7), ("x"):rep(3))
  s = s .. " " .. select("#", 1, 2) .. " " .. tostring(tonumber("12") + 1)
  s = s .. " " .. (string.match("sku-42", "%d+")) .. " " .. bit.band(6, 3)
  for k in pairs({ only = true }) do s = s .. " " .. k end
  return { out = s }
end } }
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"), "A,B 2 xxx 2 13 42 2 only") << r.trace.entries[0].detail;
}

TEST(LuaSandbox, JitIsOffSoTheCountHookFires) {
    // No wall-clock deadline: on a loaded machine it can pass before the
    // instruction budget does, and the cut would be kTime. Both are checked
    // by the same count hook; the instruction budget is the one asserted.
    LuaLimits limits;
    limits.evaluation_micros = 0;
    std::string err;
    auto box = LuaSandbox::create(limits, &err);
    ASSERT_TRUE(box) << err;
    lua_State* L = box->state();
    // a hot loop that the JIT would compile into a trace and never leave
    ASSERT_EQ(luaL_loadstring(L, "local i = 0 while true do i = i + 1 end"), 0);
    box->begin_evaluation();
    box->enter_guarded();
    EXPECT_NE(lua_pcall(L, 0, 0, 0), 0);
    EXPECT_EQ(box->leave_guarded(), LuaCut::kInstructions);
    box->end_evaluation();
    lua_settop(L, 0);
    ASSERT_EQ(luaL_loadstring(L, "return 1 + 1"), 0);
    ASSERT_EQ(lua_pcall(L, 0, 1, 0), 0);
    EXPECT_EQ(lua_tointeger(L, -1), 2);
}

// Stands in for the worker being kept off the CPU: wall time passes, CPU time does not.
int off_cpu_ms(lua_State* L) {
    std::this_thread::sleep_for(std::chrono::milliseconds(luaL_checkinteger(L, 1)));
    return 0;
}

// Runs `code` (which may call off_cpu(ms)) as one guarded evaluation under a 2 ms budget and
// no instruction budget that matters; the cut it got.
LuaCut run_timed(const char* code) {
    LuaLimits limits;
    limits.rule_instructions = 1ull << 40;
    limits.evaluation_instructions = 1ull << 40;
    limits.evaluation_micros = 2000;
    std::string err;
    auto box = LuaSandbox::create(limits, &err);
    EXPECT_TRUE(box) << err;
    if (!box) {
        return LuaCut::kNone;
    }
    lua_State* L = box->state();
    lua_pushcfunction(L, off_cpu_ms);
    lua_setglobal(L, "off_cpu");
    EXPECT_EQ(luaL_loadstring(L, code), 0);
    box->begin_evaluation();
    box->enter_guarded();
    (void)lua_pcall(L, 0, 0, 0);
    LuaCut cut = box->leave_guarded();
    box->end_evaluation();
    return cut;
}

TEST(LuaSandbox, AWorkerKeptOffTheCpuIsNotARuleRunningLong) {
    // 6 ms off the CPU, three budgets of wall clock, then a little work: not cut for time
    EXPECT_EQ(run_timed("off_cpu(6) local i = 0 for k = 1, 20000 do i = i + k end"), LuaCut::kNone);
    // off the CPU twice, the second past the window the first opened: still not the rule's
    // doing
    EXPECT_EQ(run_timed("off_cpu(6) local i = 0 for k = 1, 20000 do i = i + k end "
                        "off_cpu(6) for k = 1, 20000 do i = i + k end"),
              LuaCut::kNone);
}

TEST(LuaSandbox, ARuleRunningLongIsCutForTimeEvenAfterAPause) {
    // preempted first, then spinning: the CPU confirms it, cut within the next window
    EXPECT_EQ(run_timed("off_cpu(6) while true do end"), LuaCut::kTime);
    EXPECT_EQ(run_timed("while true do end"), LuaCut::kTime);
}

TEST(LuaSandbox, MemoryCeilingRefusesAllocationsPastIt) {
    LuaLimits limits;
    limits.memory_bytes = 2 * 1024 * 1024;
    std::string err;
    auto box = LuaSandbox::create(limits, &err);
    ASSERT_TRUE(box) << err;
    lua_State* L = box->state();
    ASSERT_EQ(luaL_loadstring(L, "local s = ('x'):rep(4 * 1024 * 1024)"), 0);
    box->begin_evaluation();
    box->enter_guarded();
    EXPECT_EQ(lua_pcall(L, 0, 0, 0), LUA_ERRMEM);
    EXPECT_EQ(box->leave_guarded(), LuaCut::kMemory);
    box->end_evaluation();
    EXPECT_LE(box->memory_peak(), limits.memory_bytes);
}

TEST(LuaSandbox, CeilingBelowTheBaseStateFailsCleanly) {
    LuaLimits limits;
    limits.memory_bytes = 1024;
    std::string err;
    EXPECT_EQ(LuaSandbox::create(limits, &err), nullptr);
    EXPECT_FALSE(err.empty());
}

long resident_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::stol(line.substr(6));
        }
    }
    return -1;
}

// Behind the counting allocator, closing a state used to keep LuaJIT's
// allocator arena: ~400 KiB per state, per worker runtime, per reload.
TEST(LuaSandbox, ClosingAStateReturnsItsMemory) {
    auto cycle = [] {
        std::string err;
        auto box = LuaSandbox::create(LuaLimits{}, &err);
        ASSERT_TRUE(box) << err;
        ASSERT_EQ(luaL_dostring(box->state(), "local t = {} for i = 1, 1e4 do t[i] = {i} end"), 0);
    };
    for (int i = 0; i < 20; ++i) {
        cycle();  // warm up the C heap
    }
    long before = resident_kib();
    if (before < 0) {
        GTEST_SKIP() << "no /proc/self/status";
    }
    for (int i = 0; i < 300; ++i) {
        cycle();
    }
    // leaking would be ~120 MiB here; the C heap may keep a little
    EXPECT_LT(resident_kib() - before, 16 * 1024);
}

}  // namespace
}  // namespace tailor
