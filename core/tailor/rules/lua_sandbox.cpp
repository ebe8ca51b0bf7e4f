// LuaSandbox: the counting allocator, the budget hook and the reduced standard library.
#include "tailor/rules/lua_sandbox.h"

#include <chrono>
#include <cstdlib>
#include <ctime>

#include <lua.hpp>

namespace tailor {
namespace {

// What the state may use from the standard library. io, os, package and ffi
// are never opened, so no path to the file system or to C exists; debug is
// opened for the kit to read line numbers and is removed from the globals
// once the kit has kept what it needs (see lua/tailor.lua and rules/load.cpp).
const struct {
    const char* name;
    lua_CFunction open;
} kLibraries[] = {
    {"", luaopen_base},
    {LUA_TABLIBNAME, luaopen_table},
    {LUA_STRLIBNAME, luaopen_string},
    {LUA_MATHLIBNAME, luaopen_math},
    {LUA_BITLIBNAME, luaopen_bit},
    {LUA_DBLIBNAME, luaopen_debug},
};

int open_libraries(lua_State* L) {
    for (const auto& lib : kLibraries) {
        lua_pushcfunction(L, lib.open);
        lua_pushstring(L, lib.name);
        lua_call(L, 1, 0);
    }
    // string.dump would hand rules bytecode, and it is reachable from any
    // string through the string metatable, so it goes for everyone.
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    return 0;
}

}  // namespace

const char* lua_cut_name(LuaCut cut) noexcept {
    switch (cut) {
        case LuaCut::kNone:
            return "none";
        case LuaCut::kInstructions:
            return "instructions";
        case LuaCut::kTime:
            return "time";
        case LuaCut::kMemory:
            return "memory";
    }
    return "none";
}

std::unique_ptr<LuaSandbox> LuaSandbox::create(const LuaLimits& limits,
                                               std::string* error) noexcept {
    std::unique_ptr<LuaSandbox> box(new (std::nothrow) LuaSandbox(limits));
    if (!box) {
        if (error != nullptr) {
            *error = "out of memory";
        }
        return nullptr;
    }
    // LuaJIT's own allocator is several times faster than malloc for its
    // small objects, so the state starts with it and the counting wrapper is
    // put in front of it; what the fresh state holds is counted from GCCOUNT.
    box->state_ = luaL_newstate();
    if (box->state_ == nullptr) {
        if (error != nullptr) {
            *error = "luaL_newstate failed";
        }
        return nullptr;
    }
    lua_State* L = box->state_;
    box->inner_ = lua_getallocf(L, &box->inner_ud_);
    box->used_ = static_cast<size_t>(lua_gc(L, LUA_GCCOUNT, 0)) * 1024 +
                 static_cast<size_t>(lua_gc(L, LUA_GCCOUNTB, 0));
    box->peak_ = box->used_;
    if (box->used_ > limits.memory_bytes) {
        if (error != nullptr) {
            *error = "memory ceiling below what an empty Lua state needs";
        }
        return nullptr;
    }
    lua_setallocf(L, &LuaSandbox::allocate, box.get());
    if (luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF) == 0) {
        if (error != nullptr) {
            *error = "cannot switch the JIT off, so budgets could not hold";
        }
        return nullptr;
    }
    box->arm_hook(true);
    lua_pushcfunction(L, open_libraries);
    if (lua_pcall(L, 0, 0, 0) != 0) {
        if (error != nullptr) {
            const char* msg = lua_tostring(L, -1);
            *error = std::string("opening the standard library: ") + (msg ? msg : "?");
        }
        return nullptr;
    }
    return box;
}

LuaSandbox::~LuaSandbox() {
    if (state_ != nullptr) {
        // LuaJIT destroys its allocator's arena on close only when the
        // state's allocator is still its own; behind the counting wrapper it
        // freed the state's blocks but kept the arena: ~400 KiB per state,
        // so per worker runtime and per nginx -t / reload. Every block came
        // from the inner allocator, so handing it back for the close is safe.
        lua_setallocf(state_, inner_, inner_ud_);
        lua_close(state_);
    }
}

void* LuaSandbox::allocate(void* ud, void* ptr, size_t osize, size_t nsize) noexcept {
    auto* box = static_cast<LuaSandbox*>(ud);
    if (ptr == nullptr) {
        osize = 0;  // for a new block, osize encodes the type, not a size
    }
    if (nsize == 0) {
        box->inner_(box->inner_ud_, ptr, osize, 0);
        box->used_ = osize < box->used_ ? box->used_ - osize : 0;
        return nullptr;
    }
    if (nsize > osize && box->used_ + (nsize - osize) > box->limits_.memory_bytes) {
        box->memory_failed_ = true;
        return nullptr;
    }
    if (box->guarded_ && nsize > osize) {
        if (nsize > kMaxRuleAllocation && box->eval_limit_ != 0) {
            box->memory_failed_ = true;
            return nullptr;
        }
        size_t grown = nsize - osize;
        box->charged_ += grown / kBytesPerInstruction;
        box->allocated_unchecked_ += grown;
        if (box->allocated_unchecked_ >= kAllocationCheckBytes) {
            box->allocated_unchecked_ = 0;
            if (box->charge(0) != LuaCut::kNone) {
                return nullptr;  // LuaJIT raises; leave_guarded reports the cut
            }
        }
    }
    void* block = box->inner_(box->inner_ud_, ptr, ptr == nullptr ? 0 : osize, nsize);
    if (block == nullptr) {
        box->memory_failed_ = true;
        return nullptr;
    }
    box->used_ = box->used_ - osize + nsize;
    if (box->used_ > box->peak_) {
        box->peak_ = box->used_;
    }
    return block;
}

int64_t LuaSandbox::now_micros() noexcept {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

int64_t LuaSandbox::thread_cpu_micros() noexcept {
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) {
        return -1;
    }
    return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// The wall clock alone would blame a rule for its worker being preempted (a loaded machine,
// a noisy neighbour): the first time an evaluation is late, the thread's CPU clock is read
// (only then: the read is a system call) and it gets one more budget of wall time. At the end
// of that window, and of each one after, it is cut if it has run on the CPU for at least half
// a budget since it was first late; if not, it was kept off the CPU, and another window
// starts. A rule running alone on a core is cut by twice the budget, one sharing a core later
// in proportion; the instruction budgets bound everything regardless.
bool LuaSandbox::past_deadline() noexcept {
    if (deadline_ == 0) {
        return false;
    }
    int64_t now = now_micros();
    if (now <= deadline_) {
        return false;
    }
    int64_t cpu = thread_cpu_micros();
    if (cpu < 0) {
        return true;  // no CPU clock: the wall clock decides
    }
    if (cpu_mark_ < 0) {
        cpu_mark_ = cpu;
    } else if (cpu - cpu_mark_ >= limits_.evaluation_micros / 2) {
        return true;
    }
    deadline_ = now + limits_.evaluation_micros;
    return false;
}

LuaCut LuaSandbox::over_budget() noexcept {
    if (ticks_ - guard_start_ > guard_limit_) {
        return LuaCut::kInstructions;
    }
    if (eval_limit_ != 0 && ticks_ - eval_start_ > eval_limit_) {
        return LuaCut::kInstructions;
    }
    if (past_deadline()) {
        return LuaCut::kTime;
    }
    return LuaCut::kNone;
}

void LuaSandbox::check_deadline() noexcept {
    if (!time_spent_ && past_deadline()) {
        time_spent_ = true;
    }
}

void LuaSandbox::hook(lua_State* L, lua_Debug*) {
    void* ud = nullptr;
    lua_getallocf(L, &ud);
    auto* box = static_cast<LuaSandbox*>(ud);
    ++box->ticks_;
    if (!box->guarded_) {
        box->check_deadline();
        return;
    }
    LuaCut cut = box->over_budget();
    if (cut == LuaCut::kNone) {
        return;
    }
    box->cut_ = cut;
    if (cut == LuaCut::kTime) {
        box->time_spent_ = true;
    }
    // Raised again at every tick until the guarded code unwinds: the sandbox
    // offers no pcall, so nothing inside a rule can swallow it for good.
    luaL_error(L, "tailor: %s budget exceeded", lua_cut_name(cut));
}

static uint64_t ticks_for(uint64_t instructions) {
    return (instructions + LuaSandbox::kHookInstructions - 1) / LuaSandbox::kHookInstructions;
}

void LuaSandbox::arm_hook(bool armed) noexcept {
    if (armed == hook_armed_) {
        return;
    }
    // lua_sethook switches the interpreter's dispatch table (a hundred-odd
    // entries) and restarts the count; it allocates nothing and never raises
    if (armed) {
        lua_sethook(state_, &LuaSandbox::hook, LUA_MASKCOUNT, kHookInstructions);
    } else {
        lua_sethook(state_, nullptr, 0, 0);
    }
    hook_armed_ = armed;
}

void LuaSandbox::begin_load() noexcept {
    arm_hook(true);
    guarded_ = true;
    guard_start_ = ticks_;
    guard_limit_ = ticks_for(limits_.load_instructions);
    eval_limit_ = 0;
    deadline_ = 0;
    cut_ = LuaCut::kNone;
}

void LuaSandbox::end_load() noexcept {
    guarded_ = false;
    cut_ = LuaCut::kNone;
}

void LuaSandbox::begin_evaluation(bool hook_only_guarded) noexcept {
    hook_only_guarded_ = hook_only_guarded;
    arm_hook(!hook_only_guarded);
    eval_start_ = ticks_;
    eval_limit_ = ticks_for(limits_.evaluation_instructions);
    deadline_ = limits_.evaluation_micros > 0 ? now_micros() + limits_.evaluation_micros : 0;
    cpu_mark_ = -1;
    time_spent_ = false;
    cut_ = LuaCut::kNone;
    memory_failed_ = false;
}

void LuaSandbox::end_evaluation() noexcept {
    if (hook_only_guarded_) {
        arm_hook(false);  // the next evaluation's kit code runs without it
    }
    hook_only_guarded_ = false;
    guarded_ = false;
    eval_limit_ = 0;
    deadline_ = 0;
}

void LuaSandbox::enter_guarded() noexcept {
    arm_hook(true);
    guarded_ = true;
    guard_start_ = ticks_;
    guard_limit_ = ticks_for(limits_.rule_instructions);
    cut_ = LuaCut::kNone;
    memory_failed_ = false;
}

LuaCut LuaSandbox::leave_guarded() noexcept {
    guarded_ = false;
    LuaCut cut = cut_;
    if (memory_failed_ && cut == LuaCut::kNone) {
        cut = LuaCut::kMemory;
    }
    cut_ = LuaCut::kNone;
    memory_failed_ = false;
    return cut;
}

LuaCut LuaSandbox::charge(uint64_t instructions) noexcept {
    charged_ += instructions;
    ticks_ += charged_ / kHookInstructions;
    charged_ %= kHookInstructions;
    if (!guarded_) {
        return LuaCut::kNone;
    }
    if (cut_ != LuaCut::kNone) {
        return cut_;
    }
    LuaCut cut = over_budget();
    if (cut != LuaCut::kNone) {
        cut_ = cut;
        if (cut == LuaCut::kTime) {
            time_spent_ = true;
        }
    }
    return cut;
}

bool LuaSandbox::evaluation_exhausted() const noexcept {
    // No clock read here (it would be one per rule): the hook reads the clock
    // every kHookInstructions and latches time_spent_ when the deadline passes.
    return time_spent_ || (eval_limit_ != 0 && ticks_ - eval_start_ > eval_limit_);
}

}  // namespace tailor
