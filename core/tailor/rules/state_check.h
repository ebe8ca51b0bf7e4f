// check_no_kept_state: refuses pack code that would keep state from one visitor to the next.
//
// A rule runs in a state shared by every visitor of the worker. The locals
// of a pack file live as long as the pack: a function that assigns one
// carries the value to the next visitor ("Previous visitor was Alice"), and
// one that stores into a table held in one grows it with every request
// until the memory ceiling fails every rule. Both are found in the compiled
// file's bytecode, before any of it runs: LuaJIT writes an upvalue only with
// USETV/USETS/USETN/USETP, and stores into a table loaded from an upvalue as
// UGET then TSETV/TSETS/TSETB on that register; each upvalue is followed to
// the function whose local it is, and only the file's own locals count (a
// function's locals are new at each call). The opcode numbers are learnt
// from small probe functions compiled by the same LuaJIT, not hard-coded.
//
// What it does not see: a function's local kept alive by a closure that
// function returned at load (a factory), a table from a file local passed
// to a function that stores into it (table.insert(seen, x): the table
// functions refuse the pack's tables at run time instead, natives_string.cpp),
// or reached through another table (cache.by_sku[x] = ...). docs/rules.md
// says so; the memory ceiling and the per-evaluation budgets still bound
// such a rule.
#pragma once

#include <string>

struct lua_State;

namespace tailor {

// KeptState
//
// The first offending function: its line (the statement's line when the
// file keeps line information, else the function's first line) and why.
struct KeptState {
    int line = 0;
    std::string reason;
};

// check_no_kept_state
//
// Checks the compiled chunk on top of the stack (left there) and every
// function nested in it. Returns true when none writes an upvalue or into a
// table held in one; false with `*found` filled otherwise, or when the
// chunk cannot be read (then `found->line` is 0).
//
// Example:
//   luaL_loadbufferx(L, text, len, "@pack.lua", "t");
//   KeptState k;
//   if (!check_no_kept_state(L, &k)) { /* pack.lua:k.line: k.reason */ }
[[nodiscard]] bool check_no_kept_state(lua_State* L, KeptState* found);

}  // namespace tailor
