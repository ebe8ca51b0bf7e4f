// LuaVisitorView: the shared __index closure that materialises visitor fields on first read.
#include "tailor/rules/visitor_view.h"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include <lua.hpp>

#include "tailor/rules/view_fields.h"

namespace tailor {

using namespace view_detail;

namespace {

// Field names sit in the keys table after the item keys.
constexpr int kFieldKeyBase = 100;
static_assert(kKeyCount < kFieldKeyBase, "field keys must not overlap item keys");

// Scalars are cheap to copy and nearly every pack reads them: set them up
// front, so reading one is a plain table hit instead of a metamethod call.
// Not `now`: reading it must be seen (LuaVisitorView::clock_read).
constexpr Field kEagerFields[] = {
    Field::kFirstName,
    Field::kKnown,
    Field::kLoggedIn,
    Field::kCurrency,
    Field::kVisits,
    Field::kFirstSeen,
    Field::kLastSeen,
    Field::kOrdersCount,
    Field::kLastOrderAt,
    Field::kTotalSpent,
    Field::kDaysSinceLastOrder,
    Field::kDaysSinceFirstSeen,
    Field::kHoursSinceLastPurchase,
    Field::kCartCount,
    Field::kCartValue,
    Field::kTopCategory,
    Field::kPoints,
    Field::kTier,
};

constexpr size_t kEagerCount = sizeof(kEagerFields) / sizeof(kEagerFields[0]);

constexpr int kFieldCount = static_cast<int>(sizeof(kFields) / sizeof(kFields[0]));
static_assert(kFieldCount < 64, "LuaVisitorView::Context::cached has a bit per field");

uint64_t field_bit(Field field) {
    return uint64_t{1} << static_cast<int>(field);
}

// Whether a field or a native measures something of `p` against now (days
// since the last order or first visit, hours since a purchase, consumables
// due, days to points expiry): the decision may then depend on the clock,
// whatever is read. For an empty profile only `v.now` itself does.
bool measures_against_now(const Profile& p) {
    return p.last_order_at > 0 || p.first_seen > 0 || !p.purchases.empty() ||
           p.loyalty.points_expire_at > 0;
}

const char* field_name(Field field) {
    for (const auto& f : kFields) {
        if (f.field == field) {
            return f.name;
        }
    }
    return "";
}

// __index(view, key): upvalue 1 is the Context, 2 the field map, 3 the keys.
int view_index(lua_State* L) {
    auto* ctx = static_cast<LuaVisitorView::Context*>(lua_touserdata(L, lua_upvalueindex(1)));
    if (ctx->table == nullptr || lua_topointer(L, 1) != ctx->table) {
        return luaL_error(L, "visitor view used outside its evaluation");
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(2));
    if (!lua_isnumber(L, -1)) {
        const char* key = lua_isstring(L, 2) ? lua_tostring(L, 2) : luaL_typename(L, 2);
        return luaL_error(L, "unknown visitor field '%s'", key);
    }
    auto field = static_cast<Field>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    if (field == Field::kNow) {
        ctx->clock_read = true;
    }
    push_field(Builder{L, lua_upvalueindex(3)}, field, *ctx->profile, *ctx->facts);
    // Cache it: the next read is a plain table hit; invalidate() drops it.
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    ctx->cached |= field_bit(field);
    return 1;
}

int view_newindex(lua_State* L) {
    return luaL_error(L, "the visitor view is read-only");
}

// The __index of a view whose evaluation is over.
int view_dead(lua_State* L) {
    return luaL_error(L, "visitor view used outside its evaluation");
}

}  // namespace

bool LuaVisitorView::install(lua_State* L) noexcept {
    struct Install {
        static int run(lua_State* S) {
            auto* self = static_cast<LuaVisitorView*>(lua_touserdata(S, 1));
            lua_createtable(S, kFieldKeyBase + 40, 0);  // the keys
            for (int k = 1; k < kKeyCount; ++k) {
                lua_pushstring(S, kKeyNames[k]);
                lua_rawseti(S, -2, k);
            }
            for (const auto& f : kFields) {
                lua_pushstring(S, f.name);
                lua_rawseti(S, -2, kFieldKeyBase + static_cast<int>(f.field));
            }
            lua_pushvalue(S, -1);
            self->keys_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            int keys = lua_gettop(S);
            // The fields table, with room for every field, so caching a lazy
            // one never grows it. Its key slots stay when a value is set to
            // nil, and a nil value still reads through __index.
            lua_createtable(S, 0, 2 * kFieldCount);
            int fields = lua_gettop(S);
            lua_createtable(S, 0, 3);  // its metatable
            lua_pushlightuserdata(S, &self->context_);
            lua_createtable(S, 0, kFieldCount);
            for (const auto& f : kFields) {
                lua_pushinteger(S, static_cast<lua_Integer>(f.field));
                lua_setfield(S, -2, f.name);
            }
            lua_pushvalue(S, keys);
            lua_pushcclosure(S, view_index, 3);
            lua_setfield(S, -2, "__index");
            lua_pushcfunction(S, view_newindex);
            lua_setfield(S, -2, "__newindex");
            lua_pushliteral(S, "tailor.view");
            lua_setfield(S, -2, "__metatable");
            int fields_mt = lua_gettop(S);
            lua_pushvalue(S, fields_mt);
            self->fields_mt_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            lua_pushvalue(S, fields);
            lua_pushvalue(S, fields_mt);
            lua_setmetatable(S, -2);
            self->fields_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            lua_pushcfunction(S, view_dead);
            self->dead_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            lua_pushboolean(S, 0);  // a slot for the live proxy's metatable
            self->proxy_mt_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            const auto* chunk = static_cast<const std::string*>(lua_touserdata(S, 2));
            if (luaL_loadbuffer(S, chunk->data(), chunk->size(), "=tailor.view") != 0) {
                return lua_error(S);
            }
            lua_getglobal(S, "setmetatable");
            lua_pushvalue(S, fields);
            lua_pushcfunction(S, view_newindex);
            lua_call(S, 3, 1);
            self->fill_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            return 0;
        }
    };
    // The refill: stores every scalar into the fields table (push() takes
    // its protected metatable off meanwhile: a nil slot would call
    // __newindex) and returns a new proxy and its metatable. Stores into
    // existing slots are cheap; a lua_rawset per field from C cost more.
    std::string chunk;
    try {
        chunk = "local setmetatable, v, readonly = ...\nreturn function(";
        std::string stores;
        for (size_t i = 0; i < kEagerCount; ++i) {
            std::string arg = "a" + std::to_string(i);
            chunk += (i == 0 ? "" : ", ") + arg;
            stores += "  v." + std::string(field_name(kEagerFields[i])) + " = " + arg + "\n";
        }
        // rules get an empty proxy reading through to the fields: the eager
        // fields are plain keys of `v`, which __newindex would not guard
        chunk +=
            ")\n" + stores +
            "  local mt = { __index = v, __newindex = readonly, __metatable = \"tailor.view\" }\n"
            "  return setmetatable({}, mt), mt\nend\n";
    } catch (const std::exception&) {
        return false;
    }
    lua_pushcfunction(L, &Install::run);
    lua_pushlightuserdata(L, this);
    lua_pushlightuserdata(L, &chunk);
    if (lua_pcall(L, 2, 0, 0) != 0) {
        lua_pop(L, 1);
        return false;
    }
    return true;
}

bool LuaVisitorView::is_field(std::string_view name) noexcept {
    // string_view compares sizes first: templates ask per placeholder
    static constexpr auto kNames = [] {
        std::array<std::string_view, kFieldCount> names{};
        for (size_t i = 0; i < names.size(); ++i) {
            names[i] = kFields[i].name;
        }
        return names;
    }();
    for (std::string_view field : kNames) {
        if (name == field) {
            return true;
        }
    }
    return false;
}

void LuaVisitorView::push(lua_State* L, const Profile& profile, const RequestFacts& facts) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, fields_ref_);
    int fields = lua_gettop(L);
    lua_pushnil(L);
    lua_setmetatable(L, fields);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fill_ref_);
    // Scalars only: push_field never reads the keys table for them.
    Builder b{L, 0};
    for (Field field : kEagerFields) {
        push_field(b, field, profile, facts);
    }
    lua_call(L, static_cast<int>(kEagerCount), 2);  // the proxy, its metatable
    // The proxy's metatable is per view, so a stashed old view never reads
    // through to a later visitor's fields: invalidate() kills it.
    lua_rawseti(L, LUA_REGISTRYINDEX, proxy_mt_ref_);
    lua_rawgeti(L, LUA_REGISTRYINDEX, fields_mt_ref_);
    lua_setmetatable(L, fields);
    context_.table = lua_topointer(L, fields);
    lua_remove(L, fields);
    context_.profile = &profile;
    context_.facts = &facts;
    context_.proxy = lua_topointer(L, -1);
    context_.clock_read = measures_against_now(profile);
}

const Profile* LuaVisitorView::profile_of(lua_State* L, int idx) const noexcept {
    if (context_.proxy == nullptr || lua_topointer(L, idx) != context_.proxy) {
        return nullptr;
    }
    return context_.profile;
}

bool LuaVisitorView::push_fields(lua_State* L, int idx) const noexcept {
    if (context_.proxy == nullptr || lua_topointer(L, idx) != context_.proxy) {
        return false;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, fields_ref_);
    return true;
}

void LuaVisitorView::invalidate(lua_State* L) noexcept {
    if (context_.proxy != nullptr) {
        // Every store below goes to a key the table already holds: no
        // allocation, so nothing here can raise outside a protected call.
        lua_rawgeti(L, LUA_REGISTRYINDEX, proxy_mt_ref_);
        if (lua_istable(L, -1)) {
            lua_pushliteral(L, "__index");
            lua_rawgeti(L, LUA_REGISTRYINDEX, dead_ref_);
            lua_rawset(L, -3);
        }
        lua_pop(L, 1);
        if (context_.cached != 0) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, fields_ref_);
            lua_rawgeti(L, LUA_REGISTRYINDEX, keys_ref_);
            for (const auto& f : kFields) {
                if ((context_.cached & field_bit(f.field)) != 0) {
                    lua_rawgeti(L, -1, kFieldKeyBase + static_cast<int>(f.field));
                    lua_pushnil(L);
                    lua_rawset(L, -4);
                }
            }
            lua_pop(L, 2);
        }
    }
    context_.cached = 0;
    context_.profile = nullptr;
    context_.facts = nullptr;
    context_.table = nullptr;
    context_.proxy = nullptr;
}

}  // namespace tailor