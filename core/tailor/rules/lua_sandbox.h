// LuaSandbox: one LuaJIT state with a memory ceiling and an instruction/time budget that holds.
//
// Why the budget really stops a loop: LuaJIT's count hook is checked by the
// interpreter only; a loop compiled into a trace never looks at it. So the
// state runs with the JIT engine off (luaJIT_setmode(..., LUAJIT_MODE_OFF)),
// so no hot loop is ever recorded, and the count hook armed from birth and
// whenever guarded code runs (an evaluation may disarm it between rules:
// begin_evaluation, pause_hook). Rules are short predicates over a handful
// of fields; the interpreter runs them in a few hundred nanoseconds each,
// and the trace compiler would not pay for itself there anyway (bench/rules_bench.cpp
// measures both). Work done inside C functions is invisible to the hook:
// the runtime charges it with charge() (patterns, string.rep, the table
// functions: natives_string.cpp), and allocations made while a rule runs
// are charged here and capped in size, so an allocating builtin is bounded
// too (docs/rules.md, "The sandbox").
//
// Memory: every allocation of the state goes through a counting wrapper put
// in front of LuaJIT's own allocator with lua_setallocf (LuaJIT's allocator
// is much faster than malloc for its small objects; what the fresh state
// already holds is counted from LUA_GCCOUNT). An allocation past the
// ceiling fails and LuaJIT raises "not enough memory" as LUA_ERRMEM, which
// the runtime catches like any other rule error. Frees always succeed.
//
// Internal to core: runtime.cpp and pack.cpp are its users.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct lua_State;
struct lua_Debug;

namespace tailor {

// LuaLimits
//
// The bounds of one state. Defaults are documented in docs/rules.md.
struct LuaLimits {
    size_t memory_bytes = 32 * 1024 * 1024;      // whole state, kit and packs included
    uint64_t rule_instructions = 200000;         // one rule's predicate and vars
    uint64_t evaluation_instructions = 2000000;  // everything one request runs
    int64_t evaluation_micros = 5000;            // time of one evaluation (wall, confirmed on CPU)
    uint64_t load_instructions = 50000000;       // loading the kit and the packs
};

// LuaCut
//
// Why the sandbox stopped the code it guarded.
enum class LuaCut : unsigned char { kNone = 0, kInstructions, kTime, kMemory };

// LuaSandbox
//
// Owns the lua_State. Not thread-safe: one per worker (or per thread).
//
// Example:
//   std::string err;
//   auto box = LuaSandbox::create(LuaLimits{}, &err);
//   box->begin_evaluation();
//   box->enter_guarded();   // rule code from here: the hook may raise
//   int rc = lua_pcall(box->state(), 0, 0, 0);
//   LuaCut why = box->leave_guarded();
//   box->end_evaluation();
class LuaSandbox {
  public:
    // The hook fires every kHookInstructions VM instructions; budgets are
    // rounded up to this grain.
    static constexpr int kHookInstructions = 1000;

    // create
    //
    // A state with base, string, table, math, bit and (for the kit's line
    // numbers only) debug opened; no io, os, package or ffi exist in it. JIT
    // off, hook armed. Returns null and fills `*error` if the state cannot be
    // made.
    //
    // Example:
    //   auto box = LuaSandbox::create({}, &err);  // box->state() != nullptr
    [[nodiscard]] static std::unique_ptr<LuaSandbox> create(const LuaLimits& limits,
                                                            std::string* error) noexcept;

    ~LuaSandbox();
    LuaSandbox(const LuaSandbox&) = delete;
    LuaSandbox& operator=(const LuaSandbox&) = delete;

    [[nodiscard]] lua_State* state() const noexcept { return state_; }
    [[nodiscard]] const LuaLimits& limits() const noexcept { return limits_; }

    // Bytes the state holds now, and the most it ever held.
    [[nodiscard]] size_t memory_used() const noexcept { return used_; }
    [[nodiscard]] size_t memory_peak() const noexcept { return peak_; }

    // begin_load / end_load
    //
    // Guards everything between them with the load budget: a pack whose top
    // level loops is cut like a rule, so config checks never hang.
    void begin_load() noexcept;
    void end_load() noexcept;

    // begin_evaluation / end_evaluation
    //
    // Starts the per-request instruction and time budget. Kit code between
    // rules is not interrupted (it is bounded by construction); only code
    // inside enter_guarded/leave_guarded is. With `hook_only_guarded`, the
    // count hook is armed only inside enter_guarded/leave_guarded for this
    // evaluation: while it is armed, LuaJIT's interpreter sends every
    // instruction through its hook dispatch (about as much again as the
    // instruction itself), which kit code between rules need not pay. The
    // budgets then count guarded code only, and each arming restarts the
    // hook's count, so a guarded section shorter than kHookInstructions is
    // not counted: the per-rule budget is unchanged, the evaluation's is
    // short by less than one grain per guarded section. Without it (the
    // default), the hook stays armed throughout, as at load.
    void begin_evaluation(bool hook_only_guarded = false) noexcept;
    void end_evaluation() noexcept;

    // enter_guarded / leave_guarded
    //
    // Brackets one rule. leave_guarded says whether and why the hook or the
    // allocator stopped it, and clears that for the next rule.
    void enter_guarded() noexcept;
    [[nodiscard]] LuaCut leave_guarded() noexcept;

    // next_rule
    //
    // Restarts the per-rule instruction budget inside one guarded section:
    // native.run_slots walks every slot's rules in one protected call and
    // calls this as it moves on to the next rule, so each rule still gets
    // its own budget. Also forgets a cut or failed allocation a rule before
    // it may have left behind.
    //
    // Example:
    //   box->enter_guarded(); ... box->next_rule(); /* run the rule */ ...
    void next_rule() noexcept {
        guard_start_ = ticks_;
        cut_ = LuaCut::kNone;
        memory_failed_ = false;
    }

    // pause_hook
    //
    // In an evaluation begun with `hook_only_guarded`, disarms the count
    // hook until the next guarded section (which arms it again); otherwise
    // does nothing. For a caller that knows only kit code follows: leaving a
    // guarded section keeps the hook armed, as re-arming it costs more than
    // a few kit instructions between two rules save.
    void pause_hook() noexcept {
        if (hook_only_guarded_) {
            arm_hook(false);
        }
    }

    // charge
    //
    // Counts `instructions` of work done in C on the guarded code's behalf
    // (the hook cannot see it: pattern steps, bytes copied) against the
    // per-rule and per-evaluation budgets, and reads the clock. Returns the
    // cut when a budget is now spent; the caller then raises
    // "tailor: <cut> budget exceeded" (leave_guarded reports it). Outside
    // guarded code it only counts.
    //
    // Example:
    //   if (LuaCut c = box->charge(matcher.steps()); c != LuaCut::kNone) { raise... }
    [[nodiscard]] LuaCut charge(uint64_t instructions) noexcept;

    // Bytes allocated while guarded are charged one instruction per
    // kBytesPerInstruction, and every kAllocationCheckBytes the budgets and
    // the clock are checked: an allocating builtin (string.rep, table.concat,
    // `..`) that runs past them gets a failed allocation, reported as the
    // budget it overran. So work in C that allocates is bounded too.
    static constexpr size_t kBytesPerInstruction = 16;
    static constexpr size_t kAllocationCheckBytes = 64 * 1024;

    // The largest single allocation rule code may make while it runs for a
    // visitor (not while the pack loads): a string or table part past it
    // fails as a memory error. It bounds what one builtin can walk in C
    // between two ticks of the hook, for work that allocates nothing (a
    // result LuaJIT finds already interned): see docs/rules.md, "Slack".
    static constexpr size_t kMaxRuleAllocation = 256 * 1024;

    // evaluation_exhausted
    //
    // Whether the per-request instruction or time budget is spent: the
    // runtime then skips the remaining rules instead of starting them.
    [[nodiscard]] bool evaluation_exhausted() const noexcept;

  private:
    explicit LuaSandbox(const LuaLimits& limits) : limits_(limits) {}

    static void* allocate(void* ud, void* ptr, size_t osize, size_t nsize) noexcept;
    static void hook(lua_State* L, lua_Debug* ar);
    [[nodiscard]] LuaCut over_budget() noexcept;
    [[nodiscard]] static int64_t now_micros() noexcept;
    [[nodiscard]] static int64_t thread_cpu_micros() noexcept;
    [[nodiscard]] bool past_deadline() noexcept;
    void check_deadline() noexcept;
    void arm_hook(bool armed) noexcept;

    LuaLimits limits_;
    lua_State* state_ = nullptr;
    void* (*inner_)(void*, void*, size_t, size_t) = nullptr;  // LuaJIT's allocator
    void* inner_ud_ = nullptr;
    size_t used_ = 0;
    size_t peak_ = 0;
    bool memory_failed_ = false;

    // Budget state, in hook ticks (kHookInstructions each).
    uint64_t ticks_ = 0;
    bool guarded_ = false;
    uint64_t guard_start_ = 0;
    uint64_t guard_limit_ = 0;  // ticks a guarded section may run
    uint64_t eval_start_ = 0;
    uint64_t eval_limit_ = 0;  // ticks an evaluation may run, 0 = none
    int64_t deadline_ = 0;     // monotonic micros, 0 = none
    int64_t cpu_mark_ = -1;    // thread CPU micros when first late, -1 = not yet
    bool time_spent_ = false;  // the deadline passed during this evaluation
    LuaCut cut_ = LuaCut::kNone;
    bool hook_armed_ = false;         // the count hook is set in the state
    bool hook_only_guarded_ = false;  // this evaluation arms it per guarded section
    uint64_t charged_ = 0;            // instructions charged, not yet a whole tick
    size_t allocated_unchecked_ = 0;  // bytes allocated since the last budget check
};

// lua_cut_name
//
// "instructions", "time", "memory" or "none", for logs and explain output.
//
// Example:
//   lua_cut_name(LuaCut::kTime) == "time"
[[nodiscard]] const char* lua_cut_name(LuaCut cut) noexcept;

}  // namespace tailor
