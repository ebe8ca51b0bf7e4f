// Loading `tailorctl rules test` cases: Lua values to JSON, relative times resolved.
#include "rules_cases.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <lua.hpp>

#include "tailor/rules/compile.h"

namespace tailorctl {

using nlohmann::json;

namespace {

// Cases files: plain Lua (base, string, table, math), returning a table.
// Times may be written relative to the case's clock: days_ago(3),
// hours_ago(2), days_from_now(5) give markers resolved against `now`.
constexpr const char* kCasesPrelude = R"(
local function rel(s) return { __tailor_rel = s } end
function days_ago(n) return rel(-n * 86400) end
function hours_ago(n) return rel(-n * 3600) end
function days_from_now(n) return rel(n * 86400) end
)";

json lua_to_json(lua_State* L, int idx, int64_t now, int depth = 0) {
    if (idx < 0) {
        idx = lua_gettop(L) + idx + 1;  // absolute, as the stack grows below
    }
    switch (lua_type(L, idx)) {
        case LUA_TBOOLEAN:
            return lua_toboolean(L, idx) != 0;
        case LUA_TNUMBER: {
            double d = lua_tonumber(L, idx);
            if (std::floor(d) == d && std::fabs(d) < 9e15) {
                return static_cast<int64_t>(d);
            }
            return d;
        }
        case LUA_TSTRING: {
            size_t len = 0;
            const char* s = lua_tolstring(L, idx, &len);
            return std::string(s, len);
        }
        case LUA_TTABLE: {
            if (depth > 16) {
                return nullptr;
            }
            lua_getfield(L, idx, "__tailor_rel");
            if (lua_isnumber(L, -1)) {
                auto rel = static_cast<int64_t>(lua_tonumber(L, -1));
                lua_pop(L, 1);
                return now + rel;
            }
            lua_pop(L, 1);
            size_t n = lua_objlen(L, idx);
            if (n > 0) {
                json arr = json::array();
                for (size_t i = 1; i <= n; ++i) {
                    lua_rawgeti(L, idx, static_cast<int>(i));
                    arr.push_back(lua_to_json(L, -1, now, depth + 1));
                    lua_pop(L, 1);
                }
                return arr;
            }
            json obj = json::object();
            lua_pushnil(L);
            while (lua_next(L, idx) != 0) {
                if (lua_type(L, -2) == LUA_TSTRING) {
                    obj[lua_tostring(L, -2)] = lua_to_json(L, -1, now, depth + 1);
                }
                lua_pop(L, 1);
            }
            return obj;
        }
        default:
            return nullptr;
    }
}

}  // namespace

std::optional<std::vector<Case>> load_cases(const std::string& path, int64_t default_now) {
    std::string why;
    auto text = tailor::read_text_file(path, &why);
    if (!text) {
        std::fprintf(stderr, "%s: cannot read: %s\n", path.c_str(), why.c_str());
        return std::nullopt;
    }
    std::unique_ptr<lua_State, void (*)(lua_State*)> state(luaL_newstate(), lua_close);
    lua_State* L = state.get();
    for (lua_CFunction open : {luaopen_base, luaopen_string, luaopen_table, luaopen_math}) {
        lua_pushcfunction(L, open);
        lua_call(L, 0, 0);
    }
    for (const char* name : {"dofile", "loadfile", "load", "loadstring", "require"}) {
        lua_pushnil(L);
        lua_setglobal(L, name);
    }
    if (luaL_dostring(L, kCasesPrelude) != 0) {
        return std::nullopt;
    }
    std::string chunk = "@" + path;
    if (luaL_loadbufferx(L, text->data(), text->size(), chunk.c_str(), "t") != 0 ||
        lua_pcall(L, 0, 1, 0) != 0) {
        std::fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return std::nullopt;
    }
    if (!lua_istable(L, -1)) {
        std::fprintf(stderr, "%s: must return a table of cases\n", path.c_str());
        return std::nullopt;
    }
    int top = lua_gettop(L);
    lua_getfield(L, top, "now");
    int64_t now = lua_isnumber(L, -1) ? static_cast<int64_t>(lua_tonumber(L, -1)) : default_now;
    lua_pop(L, 1);
    std::vector<Case> cases;
    size_t n = lua_objlen(L, top);
    for (size_t i = 1; i <= n; ++i) {
        lua_rawgeti(L, top, static_cast<int>(i));
        int c = lua_gettop(L);
        Case k;
        k.name = "case " + std::to_string(i);
        lua_getfield(L, c, "name");
        if (lua_isstring(L, -1)) {
            k.name = lua_tostring(L, -1);
        }
        lua_getfield(L, c, "now");
        k.now = lua_isnumber(L, -1) ? static_cast<int64_t>(lua_tonumber(L, -1)) : now;
        lua_pop(L, 2);
        auto field = [&](const char* key) {
            lua_getfield(L, c, key);
            json j = lua_isnil(L, -1) ? json(nullptr) : lua_to_json(L, -1, k.now);
            lua_pop(L, 1);
            return j;
        };
        k.profile = field("profile");
        k.live = field("live");
        k.request = field("request");
        k.expect = field("expect");
        k.contains = field("contains");
        k.not_contains = field("not_contains");
        k.caps = field("caps");
        k.popup = field("popup");
        k.popup_why = field("popup_why");
        k.exposed = field("exposed");
        json seg = field("segment");
        if (seg.is_string()) {
            k.segment = seg.get<std::string>();
        }
        lua_pushnil(L);
        while (lua_next(L, c) != 0) {
            // string keys only: the array part of a case is not a field
            if (lua_type(L, -2) == LUA_TSTRING) {
                std::string key = lua_tostring(L, -2);
                bool known = false;
                for (const char* f : kCaseFields) {
                    known = known || key == f;
                }
                if (!known) {
                    k.unknown_fields.push_back(key);
                }
            }
            lua_pop(L, 1);
        }
        cases.push_back(std::move(k));
        lua_settop(L, top);
    }
    return cases;
}

}  // namespace tailorctl
