// The string functions rules call in place of LuaJIT's: bounded patterns, capped sizes,
// bounded re-entry.
//
// string.find/match/gmatch/gsub run the PatternMatcher (pattern.h): every
// step is counted, a call stops past PatternMatcher::Limits::max_steps, and
// the steps are charged to the rule's budgets (LuaSandbox::charge), which the
// count hook cannot see while C runs. Subjects and patterns are capped.
// table.sort/insert/remove/concat are charged for the length they walk.
// gsub's function replacement and table.sort's comparator call back into
// Lua from C; each such re-entry is counted, and past kMaxReentry nested
// ones the call is refused instead of growing the C stack
// (`local function g(s) return (string.gsub(s, "a", g)) end` overflowed it).
// string.rep is capped by the size of its result.
#include <cstring>
#include <string_view>

#include <lua.hpp>

#include "tailor/rules/natives.h"
#include "tailor/rules/pattern.h"

namespace tailor {
namespace rules_detail {
namespace {

// The string of argument `idx`, capped.
std::string_view check_capped(lua_State* L, int idx, size_t cap, const char* fn, const char* what) {
    std::string_view s = check_sv(L, idx);
    if (s.size() > cap) {
        luaL_error(L, "string.%s: %s longer than %d bytes", fn, what, static_cast<int>(cap));
    }
    return s;
}

// Charges the matcher's steps (and the subject's bytes) to the rule's
// budgets; raises when they are spent or the matcher refused.
void settle(lua_State* L, Impl* m, const PatternMatcher& pm, PatternStatus st, size_t bytes,
            const char* fn) {
    LuaCut cut = m->sandbox->charge(pm.steps() + bytes / LuaSandbox::kBytesPerInstruction);
    if (cut != LuaCut::kNone) {
        luaL_error(L, "tailor: %s budget exceeded", lua_cut_name(cut));
    }
    if (st == PatternStatus::kMalformed || st == PatternStatus::kTooComplex ||
        st == PatternStatus::kTooDeep) {
        luaL_error(L, "string.%s: %s", fn, pm.message());
    }
}

// Guards one call that may call back into Lua: counted while it runs. A
// Lua error unwinds past the decrement; the runtime resets the count before
// each rule (reset_reentry), and no rule can catch an error (no pcall).
void enter(lua_State* L, Impl* m, const char* fn) {
    if (m->c_depth >= kMaxReentry) {
        luaL_error(L, "%s: nested too deeply (at most %d calls from C back into the rule)", fn,
                   kMaxReentry);
    }
    ++m->c_depth;
}

void leave(Impl* m) {
    if (m->c_depth > 0) {
        --m->c_depth;
    }
}

lua_Integer relative(lua_Integer pos, size_t len) {
    if (pos < 0) {
        pos += static_cast<lua_Integer>(len) + 1;
    }
    return pos >= 0 ? pos : 0;
}

void push_one_capture(lua_State* L, const PatternMatcher& pm, int i, std::string_view whole) {
    if (i >= pm.captures()) {
        if (i == 0) {
            lua_pushlstring(L, whole.data(), whole.size());
            return;
        }
        luaL_error(L, "invalid capture index");
    }
    if (pm.is_unclosed(i)) {
        luaL_error(L, "unfinished capture");
    }
    if (pm.is_position(i)) {
        lua_pushinteger(L, static_cast<lua_Integer>(pm.capture_position(i)));
        return;
    }
    std::string_view c = pm.capture(i);
    lua_pushlstring(L, c.data(), c.size());
}

// Pushes the captures (or the whole match when there are none); returns how many.
int push_captures(lua_State* L, const PatternMatcher& pm, std::string_view whole,
                  bool whole_if_none) {
    int n = pm.captures() == 0 && whole_if_none ? 1 : pm.captures();
    luaL_checkstack(L, n, "too many captures");
    for (int i = 0; i < n; ++i) {
        push_one_capture(L, pm, i, whole);
    }
    return n;
}

bool has_specials(std::string_view p) {
    return p.find_first_of("^$*+?.([%-") != std::string_view::npos;
}

int find_aux(lua_State* L, bool find) {
    Impl* m = impl_of(L);
    const char* fn = find ? "find" : "match";
    std::string_view s = check_capped(L, 1, kMaxPatternSubject, fn, "subject");
    std::string_view p = check_capped(L, 2, kMaxPattern, fn, "pattern");
    lua_Integer init = relative(luaL_optinteger(L, 3, 1), s.size()) - 1;
    if (init < 0) {
        init = 0;
    } else if (static_cast<size_t>(init) > s.size()) {
        init = static_cast<lua_Integer>(s.size());
    }
    auto from = static_cast<size_t>(init);
    if (find && (lua_toboolean(L, 4) != 0 || !has_specials(p))) {
        LuaCut cut = m->sandbox->charge(s.size() / LuaSandbox::kBytesPerInstruction);
        if (cut != LuaCut::kNone) {
            return luaL_error(L, "tailor: %s budget exceeded", lua_cut_name(cut));
        }
        size_t at = s.find(p, from);
        if (at == std::string_view::npos) {
            lua_pushnil(L);
            return 1;
        }
        lua_pushinteger(L, static_cast<lua_Integer>(at + 1));
        lua_pushinteger(L, static_cast<lua_Integer>(at + p.size()));
        return 2;
    }
    PatternMatcher pm(s, p, {});
    size_t start = 0;
    size_t end = 0;
    PatternStatus st = pm.find(from, &start, &end);
    settle(L, m, pm, st, s.size() - from, fn);
    if (st != PatternStatus::kMatch) {
        lua_pushnil(L);
        return 1;
    }
    std::string_view whole = s.substr(start, end - start);
    if (find) {
        lua_pushinteger(L, static_cast<lua_Integer>(start + 1));
        lua_pushinteger(L, static_cast<lua_Integer>(end));
        return push_captures(L, pm, whole, false) + 2;
    }
    return push_captures(L, pm, whole, true);
}

int native_str_find(lua_State* L) {
    return find_aux(L, true);
}

int native_str_match(lua_State* L) {
    return find_aux(L, false);
}

// The gmatch iterator: upvalues 1 the Impl, 2 the subject, 3 the pattern, 4 the position.
int gmatch_next(lua_State* L) {
    Impl* m = impl_of(L);
    size_t slen = 0;
    size_t plen = 0;
    const char* sp = lua_tolstring(L, lua_upvalueindex(2), &slen);
    const char* pp = lua_tolstring(L, lua_upvalueindex(3), &plen);
    std::string_view s(sp, slen);
    std::string_view p(pp, plen);
    auto pos = static_cast<size_t>(lua_tointeger(L, lua_upvalueindex(4)));
    if (pos > s.size()) {
        return 0;
    }
    PatternMatcher pm(s, p, {});
    for (size_t src = pos; src <= s.size(); ++src) {
        size_t end = 0;
        PatternStatus st = pm.match_at(src, &end, false);
        if (st == PatternStatus::kNoMatch) {
            continue;
        }
        settle(L, m, pm, st, 0, "gmatch");
        size_t next = end == src ? end + 1 : end;  // an empty match moves on by one
        lua_pushinteger(L, static_cast<lua_Integer>(next));
        lua_replace(L, lua_upvalueindex(4));
        return push_captures(L, pm, s.substr(src, end - src), true);
    }
    settle(L, m, pm, PatternStatus::kNoMatch, s.size() - pos, "gmatch");
    return 0;
}

int native_str_gmatch(lua_State* L) {
    check_capped(L, 1, kMaxPatternSubject, "gmatch", "subject");
    check_capped(L, 2, kMaxPattern, "gmatch", "pattern");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, gmatch_next, 4);
    return 1;
}

// One replacement of gsub into the buffer; the match is s[start, end).
void add_value(lua_State* L, Impl* m, luaL_Buffer* b, const PatternMatcher& pm,
               std::string_view whole) {
    int type = lua_type(L, 3);
    if (type == LUA_TNUMBER || type == LUA_TSTRING) {
        size_t len = 0;
        const char* news = lua_tolstring(L, 3, &len);
        for (size_t i = 0; i < len; ++i) {
            if (news[i] != '%') {
                luaL_addchar(b, news[i]);
                continue;
            }
            ++i;
            auto c = static_cast<unsigned char>(i < len ? news[i] : '\0');
            if (c < '0' || c > '9') {
                luaL_addchar(b, static_cast<char>(c));
            } else if (c == '0') {
                luaL_addlstring(b, whole.data(), whole.size());
            } else {
                push_one_capture(L, pm, c - '1', whole);
                luaL_addvalue(b);
            }
        }
        return;
    }
    if (type == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(L, pm, whole, true);
        enter(L, m, "string.gsub");
        lua_call(L, n, 1);
        leave(m);
    } else {
        push_one_capture(L, pm, 0, whole);
        lua_gettable(L, 3);
    }
    if (lua_toboolean(L, -1) == 0) {
        lua_pop(L, 1);
        lua_pushlstring(L, whole.data(), whole.size());
    } else if (lua_isstring(L, -1) == 0) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    }
    luaL_addvalue(b);
}

int native_str_gsub(lua_State* L) {
    Impl* m = impl_of(L);
    std::string_view s = check_capped(L, 1, kMaxPatternSubject, "gsub", "subject");
    std::string_view p = check_capped(L, 2, kMaxPattern, "gsub", "pattern");
    int type = lua_type(L, 3);
    luaL_argcheck(
        L,
        type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TFUNCTION || type == LUA_TTABLE,
        3, "string/function/table expected");
    lua_Integer max_s = luaL_optinteger(L, 4, static_cast<lua_Integer>(s.size()) + 1);
    lua_settop(L, 3);
    bool anchor = !p.empty() && p[0] == '^';
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t src = 0;
    lua_Integer n = 0;
    uint64_t steps = 0;
    while (n < max_s) {
        // a matcher per position: its steps are settled before any callback
        PatternMatcher pm(s, p, {});
        size_t end = 0;
        PatternStatus st = pm.match_at(src, &end, true);
        steps += pm.steps();
        settle(L, m, pm, st, 0, "gsub");
        bool matched = st == PatternStatus::kMatch;
        if (matched) {
            ++n;
            add_value(L, m, &b, pm, s.substr(src, end - src));
        }
        if (matched && end > src) {
            src = end;
        } else if (src < s.size()) {
            luaL_addchar(&b, s[src++]);
        } else {
            break;
        }
        if (anchor) {
            break;
        }
        if (steps > PatternMatcher::Limits{}.max_steps) {
            return luaL_error(L, "string.gsub: pattern too complex for this subject (step budget)");
        }
    }
    luaL_addlstring(&b, s.data() + src, s.size() - src);
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

// string.rep(s, n [, sep]) with its result capped.
int native_str_rep(lua_State* L) {
    size_t len = 0;
    const char* s = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    size_t seplen = 0;
    const char* sep = luaL_optlstring(L, 3, "", &seplen);
    if (n <= 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    auto count = static_cast<uint64_t>(n);
    uint64_t total = (static_cast<uint64_t>(len) + seplen) * count;
    if ((len + seplen != 0 && total / (len + seplen) != count) || total > kMaxRepBytes) {
        return luaL_error(L, "string.rep: result longer than %d bytes",
                          static_cast<int>(kMaxRepBytes));
    }
    // interned results allocate nothing the second time: charge the copy itself
    LuaCut cut = impl_of(L)->sandbox->charge(total / LuaSandbox::kBytesPerInstruction);
    if (cut != LuaCut::kNone) {
        return luaL_error(L, "tailor: %s budget exceeded", lua_cut_name(cut));
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (uint64_t i = 0; i < count; ++i) {
        luaL_addlstring(&b, s, len);
        if (i + 1 < count) {
            luaL_addlstring(&b, sep, seplen);
        }
    }
    luaL_pushresult(&b);
    return 1;
}

// table.sort/insert/remove/concat: the original (upvalue 2) after charging
// the work it does in C on the table's length (upvalue 3: 1 linear, 2 n log n),
// and with re-entry counted (sort's comparator runs rule code). Those that
// change the table (upvalue 4) refuse the pack's own tables (upvalue 5: the
// name, for the message).
int native_table_op(lua_State* L) {
    Impl* m = impl_of(L);
    int args = lua_gettop(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    if (m->frozen_ref != LUA_NOREF && lua_tointeger(L, lua_upvalueindex(4)) != 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, m->frozen_ref);
        lua_pushvalue(L, 1);
        lua_rawget(L, -2);
        bool frozen = lua_toboolean(L, -1) != 0;
        lua_pop(L, 2);
        if (frozen) {
            return luaL_error(L,
                              "table.%s: this table belongs to the pack and outlives the "
                              "visitor (rules keep no state: copy it into a local table)",
                              lua_tostring(L, lua_upvalueindex(5)));
        }
    }
    auto n = static_cast<uint64_t>(lua_objlen(L, 1));
    uint64_t work = n;
    if (lua_tointeger(L, lua_upvalueindex(3)) == 2) {
        uint64_t log = 1;
        while ((uint64_t{1} << log) < n && log < 63) {
            ++log;
        }
        work = n * log;
    }
    LuaCut cut = m->sandbox->charge(work);
    if (cut != LuaCut::kNone) {
        return luaL_error(L, "tailor: %s budget exceeded", lua_cut_name(cut));
    }
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 1);
    enter(L, m, "table function");
    lua_call(L, args, LUA_MULTRET);
    leave(m);
    return lua_gettop(L);
}

}  // namespace

// native.freeze_table(t): t belongs to the pack (reached from a rule's
// function when the pack finished loading); table.insert/remove/sort
// refuse it from now on.
int native_freeze_table(lua_State* L) {
    Impl* m = impl_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    if (m->frozen_ref == LUA_NOREF) {
        lua_createtable(L, 0, 16);
        lua_createtable(L, 0, 1);
        lua_pushliteral(L, "k");
        lua_setfield(L, -2, "__mode");
        lua_setmetatable(L, -2);
        m->frozen_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->frozen_ref);
    lua_pushvalue(L, 1);
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    return 0;
}

void reset_reentry(Impl* m) noexcept {
    m->c_depth = 0;
}

// native.bounded_string() -> { find, match, gmatch, gsub, rep, sort, insert,
// remove, concat }: the kit puts them in the sandbox's string and table
// libraries (and the string metatable) in place of LuaJIT's.
int native_bounded_string(lua_State* L) {
    Impl* m = impl_of(L);
    static const struct {
        const char* name;
        lua_CFunction fn;
    } kFns[] = {
        {"find", native_str_find}, {"match", native_str_match}, {"gmatch", native_str_gmatch},
        {"gsub", native_str_gsub}, {"rep", native_str_rep},
    };
    lua_createtable(L, 0, 6);
    for (const auto& f : kFns) {
        lua_pushlightuserdata(L, m);
        lua_pushcclosure(L, f.fn, 1);
        lua_setfield(L, -2, f.name);
    }
    static const struct {
        const char* name;
        int cost;     // 1: linear in the length, 2: n log n
        int changes;  // 1: it changes the table (refused on the pack's own)
    } kTableFns[] = {{"sort", 2, 1}, {"insert", 1, 1}, {"remove", 1, 1}, {"concat", 1, 0}};
    lua_getglobal(L, "table");
    int table = lua_gettop(L);
    for (const auto& f : kTableFns) {
        lua_pushlightuserdata(L, m);
        lua_getfield(L, table, f.name);
        lua_pushinteger(L, f.cost);
        lua_pushinteger(L, f.changes);
        lua_pushstring(L, f.name);
        lua_pushcclosure(L, native_table_op, 5);
        lua_setfield(L, table - 1, f.name);
    }
    lua_pop(L, 1);
    return 1;
}

}  // namespace rules_detail
}  // namespace tailor
