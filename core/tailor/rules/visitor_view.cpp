// LuaVisitorView: the shared __index closure that materialises visitor fields on first read.
#include "tailor/rules/visitor_view.h"

#include <algorithm>
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
constexpr Field kEagerFields[] = {
    Field::kFirstName,
    Field::kKnown,
    Field::kLoggedIn,
    Field::kCurrency,
    Field::kNow,
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
    push_field(Builder{L, lua_upvalueindex(3)}, field, *ctx->profile, *ctx->facts);
    // Cache it: the next read is a plain table hit.
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

int view_newindex(lua_State* L) {
    return luaL_error(L, "the visitor view is read-only");
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
            lua_createtable(S, 0, 3);  // the metatable
            lua_pushlightuserdata(S, &self->context_);
            lua_createtable(S, 0, static_cast<int>(sizeof(kFields) / sizeof(kFields[0])));
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
            self->metatable_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            const auto* chunk = static_cast<const std::string*>(lua_touserdata(S, 2));
            if (luaL_loadbuffer(S, chunk->data(), chunk->size(), "=tailor.view") != 0) {
                return lua_error(S);
            }
            lua_getglobal(S, "setmetatable");
            lua_rawgeti(S, LUA_REGISTRYINDEX, self->metatable_ref_);
            lua_pushcfunction(S, view_newindex);
            lua_call(S, 3, 1);
            self->make_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            return 0;
        }
    };
    // The constructor: a table constructor with every eager key present (one
    // table copy, then stores into existing slots, where a lua_rawset per
    // field from C hashed a new key each time; a nil value still reads
    // through __index), then the metatable.
    std::string chunk;
    try {
        chunk = "local setmetatable, mt, readonly = ...\nreturn function(";
        std::string body = "  local v = {";
        std::string stores;
        for (size_t i = 0; i < kEagerCount; ++i) {
            std::string arg = "a" + std::to_string(i);
            std::string name = field_name(kEagerFields[i]);
            chunk += (i == 0 ? "" : ", ") + arg;
            body += " " + name + " = false,";
            stores += "  v." + name + " = " + arg + "\n";
        }
        // rules get an empty proxy reading through to the fields: the eager
        // fields are plain keys of `v`, which __newindex would not guard
        chunk += ")\n" + body + " }\n" + stores +
                 "  setmetatable(v, mt)\n"
                 "  return setmetatable({}, { __index = v, __newindex = readonly,\n"
                 "                            __metatable = \"tailor.view\" }), v\nend\n";
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
    for (const auto& f : kFields) {
        if (name == f.name) {
            return true;
        }
    }
    return false;
}

void LuaVisitorView::push(lua_State* L, const Profile& profile, const RequestFacts& facts) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, make_ref_);
    // Scalars only: push_field never reads the keys table for them.
    Builder b{L, 0};
    for (Field field : kEagerFields) {
        push_field(b, field, profile, facts);
    }
    lua_call(L, static_cast<int>(kEagerCount), 2);  // the proxy, the fields
    context_.profile = &profile;
    context_.facts = &facts;
    // The proxy's metatable is per view, so a stashed old view never reads
    // through to a later visitor's fields.
    context_.table = lua_topointer(L, -1);
    context_.proxy = lua_topointer(L, -2);
    lua_pop(L, 1);
}

const Profile* LuaVisitorView::profile_of(lua_State* L, int idx) const noexcept {
    if (context_.proxy == nullptr || lua_topointer(L, idx) != context_.proxy) {
        return nullptr;
    }
    return context_.profile;
}

void LuaVisitorView::invalidate() noexcept {
    context_.profile = nullptr;
    context_.facts = nullptr;
    context_.table = nullptr;
    context_.proxy = nullptr;
}

}  // namespace tailor