// LuaVisitorView: the table rules read as `v`, built lazily from a Profile and RequestFacts.
//
// Each evaluation gets a fresh table holding the scalars (numbers, flags,
// short strings: ~20 fields, stored by a generated Lua table constructor), whose metatable's
// __index (one C closure shared by all views) builds everything else, the
// lists (purchases, viewed, cart, consumables, ...) and small sub-tables, the
// first time a rule reads it, and caches it with rawset. Scalars went eager
// because nearly every pack reads them and a table hit is several times
// cheaper than a metamethod call; lists stay lazy because most rules never
// look at them. bench/rules_bench.cpp measures the view alone
// (BM_Rules_ViewTouchAll) and an empty evaluation (BM_Rules_Evaluate_Empty).
//
// A view is valid only during the evaluation that made it: the closure
// checks the table is the current one before it dereferences the Profile,
// so a rule that stashes `v` somewhere gets an error later, not freed memory.
// An unknown field is an error too ("unknown visitor field"), so a typo in a
// rule shows up in `tailorctl rules test` instead of silently reading nil.
//
// docs/rules.md lists every field.
#pragma once

#include <vector>

#include "tailor/profile/profile.h"
#include "tailor/request/facts.h"

struct lua_State;

namespace tailor {

// LuaVisitorView
//
// Owns the per-state context the shared __index closure reads. Not
// thread-safe; lives as long as its state.
//
// Example:
//   LuaVisitorView view;
//   view.install(L);                    // once per state
//   view.push(L, profile, facts);       // a new, read-only `v` on the stack
//   ... run the rules ...
//   view.invalidate();                  // `v` is dead from here
class LuaVisitorView {
  public:
    // install
    //
    // Creates the shared metatable and field map in the state. Call once,
    // before push; returns false if the state ran out of memory.
    //
    // Example:
    //   if (!view.install(L)) { /* state unusable */ }
    [[nodiscard]] bool install(lua_State* L) noexcept;

    // push
    //
    // Pushes a new empty view bound to `profile` and `facts`, which must
    // outlive the evaluation. May raise a Lua memory error: call it inside a
    // protected call.
    //
    // Example:
    //   view.push(L, p, f);  // stack: ... v
    void push(lua_State* L, const Profile& profile, const RequestFacts& facts);

    // invalidate
    //
    // Unbinds the current view, so a stale reference to it errors.
    void invalidate() noexcept;

    // profile_of
    //
    // The Profile behind the value at `idx` if it is the live view, else
    // null: natives that read the profile directly use it instead of
    // building the view's lists.
    //
    // Example:
    //   const Profile* p = view.profile_of(L, 1);  // null outside an evaluation
    [[nodiscard]] const Profile* profile_of(lua_State* L, int idx) const noexcept;

    // is_field
    //
    // Whether `v.<name>` is a field of the view (docs/rules.md); reading any
    // other name raises.
    //
    // Example:
    //   LuaVisitorView::is_field("first_name") == true
    [[nodiscard]] static bool is_field(std::string_view name) noexcept;

    // Context for the __index closure; public for the C callback only.
    struct Context {
        const Profile* profile = nullptr;
        const RequestFacts* facts = nullptr;
        const void* table = nullptr;  // the live view's fields table, or null
        const void* proxy = nullptr;  // the live view as rules see it, or null
    };

  private:
    Context context_;
    int metatable_ref_ = -2;  // LUA_NOREF
    int keys_ref_ = -2;
    int make_ref_ = -2;  // the Lua constructor of a view from its scalars
};

// latest_consumables
//
// The lines `v.consumables` lists, in its order: per sku bought with
// cycle_days, the latest line, soonest due first.
//
// Example:
//   for (const Purchase* line : latest_consumables(p)) { ... line->sku ... }
[[nodiscard]] std::vector<const Purchase*> latest_consumables(const Profile& p);

}  // namespace tailor
