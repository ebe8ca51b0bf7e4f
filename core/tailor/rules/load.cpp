// Loading the kit and a pack's files into a fresh sandbox, and mapping load errors to file:line.
#include <string>
#include <string_view>
#include <vector>

#include <lua.hpp>

#include "tailor/rules/natives.h"
#include "tailor/rules/pack.h"
#include "tailor/rules/state_check.h"

namespace tailor {
namespace rules_detail {

namespace {

constexpr struct {
    const char* name;
    lua_CFunction fn;
} kNatives[] = {
    {"kit_module", native_kit_module},
    {"bounded_string", native_bounded_string},
    {"freeze_table", native_freeze_table},
    {"popup", native_popup},
    {"popup_options", native_popup_options},
    {"choose_popup", native_choose_popup},
    {"init", native_init},
    {"compile", native_compile},
    {"template_names", native_template_names},
    {"view_field", native_view_field},
    {"experiment", native_experiment},
    {"register_rule", native_register_rule},
    {"run", native_run},
    {"plan", native_plan},
    {"run_slots", native_run_slots},
    {"current_rule", native_current_rule},
    {"fill", native_fill},
    {"render", native_render},
    {"recommend", native_recommend},
    {"due_consumable", native_due_consumable},
    {"flags", native_flags},
    {"loyalty", native_loyalty},
    {"request", native_request},
    {"affinity", native_affinity},
    {"assign", native_assign},
    {"expose", native_expose},
    {"set_var", native_set_var},
    {"note", native_note},
};

// Globals the kit captured and rules must never reach, even through a bug
// in the kit's environment handling.
constexpr const char* kRemovedGlobals[] = {
    "debug",          "load",   "loadstring", "loadfile", "dofile",  "getfenv", "setfenv",
    "collectgarbage", "gcinfo", "newproxy",   "module",   "require", "print",   "coroutine",
    "pcall",          "xpcall", "rawset",     "rawget",   "jit",
};

// Turns a Lua error message "file:line: reason" into a RulesError, mapping a
// chunk name LuaJIT shortened ("...tail/of/path.lua") back to the full name.
RulesError parse_error(std::string_view msg, const std::vector<std::string>& names) {
    RulesError e;
    for (const std::string& name : names) {
        std::string_view rest;
        if (msg.size() > name.size() && msg.substr(0, name.size()) == name &&
            msg[name.size()] == ':') {
            rest = msg.substr(name.size() + 1);
        } else if (msg.substr(0, 3) == "...") {
            size_t colon = msg.find(':', 3);
            std::string_view tail = msg.substr(3, colon == std::string_view::npos ? 0 : colon - 3);
            if (!tail.empty() && name.size() >= tail.size() &&
                std::string_view(name).substr(name.size() - tail.size()) == tail) {
                rest = msg.substr(colon + 1);
            }
        }
        if (rest.empty()) {
            continue;
        }
        size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
            ++digits;
        }
        if (digits == 0 || digits > 9 || digits >= rest.size() || rest[digits] != ':') {
            continue;
        }
        e.file = name;
        e.line = std::stoi(std::string(rest.substr(0, digits)));
        std::string_view reason = rest.substr(digits + 1);
        if (!reason.empty() && reason[0] == ' ') {
            reason.remove_prefix(1);
        }
        e.reason = std::string(reason);
        return e;
    }
    e.reason = std::string(msg);
    return e;
}

}  // namespace

std::string pop_message(lua_State* L) {
    size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    std::string msg = s != nullptr ? std::string(s, len) : std::string("(error is not a string)");
    lua_pop(L, 1);
    return msg;
}

// Loads the kit and the packs into `m`; returns false with `*error` filled.
bool load(Impl* m, const RulePack& pack, RulesError* error) {
    std::vector<std::string> names;
    names.push_back(pack.kit_name);
    for (const RulePackSource& s : pack.kit_modules) {
        names.push_back(s.name);
    }
    for (const RulePackSource& s : pack.sources) {
        names.push_back(s.name);
    }
    auto fail = [&](std::string msg) {
        if (error != nullptr) {
            *error = parse_error(msg, names);
            if (error->file.empty()) {
                error->file = pack.sources.empty() ? pack.kit_name : pack.sources.front().name;
            }
        }
        return false;
    };

    std::string why;
    m->sandbox = LuaSandbox::create(pack.limits, &why);
    if (!m->sandbox) {
        return fail(why);
    }
    lua_State* L = m->sandbox->state();
    if (!m->view.install(L)) {
        return fail("not enough memory for the visitor view");
    }
    LuaSandbox& box = *m->sandbox;
    box.begin_load();
    struct EndLoad {
        LuaSandbox& box;
        ~EndLoad() { box.end_load(); }
    } end_load{box};

    // The kit: a chunk called with the natives table, returning its entry points.
    std::string kit_chunk = "@" + pack.kit_name;
    if (luaL_loadbufferx(L, pack.kit_text.data(), pack.kit_text.size(), kit_chunk.c_str(), "t") !=
        0) {
        return fail(pop_message(L));
    }
    lua_createtable(L, 0, static_cast<int>(sizeof(kNatives) / sizeof(kNatives[0])));
    for (const auto& n : kNatives) {
        lua_pushlightuserdata(L, m);
        lua_pushcclosure(L, n.fn, 1);
        lua_setfield(L, -2, n.name);
    }
    m->loading_kit = &pack;
    int kit_rc = lua_pcall(L, 1, 1, 0);
    m->loading_kit = nullptr;
    if (kit_rc != 0) {
        return fail(pop_message(L));
    }
    if (!lua_istable(L, -1)) {
        return fail("the kit did not return its entry points");
    }
    m->runtime_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (const char* name : kRemovedGlobals) {
        lua_pushnil(L);
        lua_setfield(L, LUA_GLOBALSINDEX, name);
    }

    for (const RulePackSource& source : pack.sources) {
        if (!source.text.empty() && source.text[0] == '\x1b') {
            return fail(source.name + ": precompiled bytecode is refused; ship the Lua source");
        }
        std::string chunk = "@" + source.name;
        // mode "t": text only, precompiled bytecode is refused
        if (luaL_loadbufferx(L, source.text.data(), source.text.size(), chunk.c_str(), "t") != 0) {
            return fail(pop_message(L));
        }
        KeptState kept;
        if (!check_no_kept_state(L, &kept)) {
            return fail(source.name + ":" + std::to_string(kept.line) + ": " + kept.reason);
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, m->runtime_ref);
        lua_getfield(L, -1, "load_pack");
        reset_reentry(m);
        lua_remove(L, -2);
        lua_insert(L, -2);
        int rc = lua_pcall(L, 1, 0, 0);
        LuaCut cut = box.leave_guarded();
        box.begin_load();
        if (rc != 0) {
            std::string msg = pop_message(L);
            if (cut != LuaCut::kNone) {
                RulesError e = parse_error(msg, names);
                msg = source.name + ":" + std::to_string(e.line) +
                      ": loading the pack ran past its " + lua_cut_name(cut) + " budget";
            }
            return fail(msg);
        }
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->runtime_ref);
    lua_getfield(L, -1, "finish");
    if (lua_pcall(L, 0, 0, 0) != 0) {
        return fail(pop_message(L));
    }
    lua_getfield(L, -1, "evaluate");
    m->evaluate_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    // made once: a C function pushed per evaluation is a new object each time
    lua_pushcfunction(L, eval_entry);
    m->eval_entry_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushcfunction(L, prepare_render_names);
    lua_pushlightuserdata(L, m);
    if (lua_pcall(L, 1, 0, 0) != 0) {
        return fail(pop_message(L));
    }
    lua_gc(L, LUA_GCCOLLECT, 0);
    // Each evaluation makes a few KiB of short-lived tables and strings; a
    // longer pause (the default is 200%) means fewer cycles and more SKU
    // strings still interned at the next request: ~12% per evaluation in
    // BM_Rules_Evaluate_Typical, for a heap about twice the live data, which
    // the memory ceiling still bounds.
    lua_gc(L, LUA_GCSETPAUSE, 400);
    return true;
}

}  // namespace rules_detail
}  // namespace tailor
