// LuaVisitorView: the table rules read as `v`, built lazily from a Profile and RequestFacts.
//
// Rules get `v`, an empty read-only proxy whose metatable's __index is the
// fields table. The fields table is made once per state and refilled per
// evaluation: the scalars (numbers, flags, short strings: ~20 fields) are
// stored into their existing slots by a generated Lua function, and its own
// metatable's __index (one C closure) builds everything else, the lists
// (purchases, viewed, cart, consumables, ...), small sub-tables and `now`,
// the first time a rule reads it, and caches it with rawset. Scalars went
// eager because nearly every pack reads them and a table hit is several
// times cheaper than a metamethod call; lists stay lazy because most rules
// never look at them. `now` is lazy so the runtime knows whether a decision
// read the clock (the cookie-less memo in engine/ needs to). Reusing the
// fields table saves making and collecting a 32-slot table per request.
// bench/rules_bench.cpp measures the view alone (BM_Rules_ViewTouchAll) and
// an empty evaluation (BM_Rules_Evaluate_Empty).
//
// A view is valid only during the evaluation that made it. The proxy and
// its metatable are new per evaluation; invalidate() points the metatable's
// __index at a function that raises and removes every lazy field it
// cached, so a rule that stashes `v` somewhere gets an error later, never
// the next visitor's fields. Natives that read the Profile directly check
// the proxy is the live one. An unknown field is an error too ("unknown
// visitor field"), so a typo in a rule shows up in `tailorctl rules test`
// instead of silently reading nil.
//
// docs/rules.md lists every field.
#pragma once

#include <cstdint>
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
    // Unbinds the current view, so a stale reference to it errors, and drops
    // what its lazy fields cached. Allocates nothing, so it cannot raise.
    void invalidate(lua_State* L) noexcept;

    // clock_read
    //
    // Whether `v.now` was read since the last push (by a rule, a template or
    // the kit): the decision then depends on the clock.
    //
    // Example:
    //   view.push(L, p, f); ... ; bool timed = view.clock_read();
    [[nodiscard]] bool clock_read() const noexcept { return context_.clock_read; }

    // profile_of
    //
    // The Profile behind the value at `idx` if it is the live view, else
    // null: natives that read the profile directly use it instead of
    // building the view's lists.
    //
    // Example:
    //   const Profile* p = view.profile_of(L, 1);  // null outside an evaluation
    [[nodiscard]] const Profile* profile_of(lua_State* L, int idx) const noexcept;

    // push_fields
    //
    // If the value at `idx` is the live view, pushes the table its proxy
    // reads through (scalars stored, lists built on first read, unknown
    // names raise) and returns true; else pushes nothing. For core's own
    // reads (templates): the same values as `v.<name>` without the proxy's
    // metamethod. Never hand the table to rule code: it is writable.
    //
    // Example:
    //   if (view.push_fields(L, 1)) { lua_getfield(L, -1, "first_name"); }
    [[nodiscard]] bool push_fields(lua_State* L, int idx) const noexcept;

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
        uint64_t cached = 0;          // bit per Field the __index closure cached
        bool clock_read = false;      // `now` was read
    };

  private:
    Context context_;
    int keys_ref_ = -2;    // LUA_NOREF
    int fields_ref_ = -2;  // the fields table, reused
    int fields_mt_ref_ = -2;
    int fill_ref_ = -2;      // the Lua function that refills the scalars, returns a new proxy
    int proxy_mt_ref_ = -2;  // the live proxy's metatable (a fixed registry slot)
    int dead_ref_ = -2;      // the __index of a dead proxy: raises
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
