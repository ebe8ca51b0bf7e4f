// The natives the kit calls while a pack loads: templates, experiments and rules declared.
#include <optional>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include <lua.hpp>

#include "tailor/decision/experiment.h"
#include "tailor/html/template.h"
#include "tailor/rules/natives.h"
#include "tailor/rules/pack.h"

namespace tailor {
namespace rules_detail {

// native.kit_module(name) -> the compiled part <kit dir>/tailor/<name>.lua, its chunk name;
// only while the kit's entry file runs
int native_kit_module(lua_State* L) {
    Impl* m = impl_of(L);
    std::string_view name = check_sv(L, 1);
    if (m->loading_kit == nullptr) {
        return luaL_error(L, "the kit's parts load only with the kit");
    }
    for (const RulePackSource& part : m->loading_kit->kit_modules) {
        std::string_view path = part.name;
        size_t slash = path.find_last_of('/');
        std::string_view file = slash == std::string_view::npos ? path : path.substr(slash + 1);
        if (file.size() != name.size() + 4 || file.substr(0, name.size()) != name ||
            file.substr(name.size()) != ".lua") {
            continue;
        }
        std::string chunk = "@" + part.name;
        if (luaL_loadbufferx(L, part.text.data(), part.text.size(), chunk.c_str(), "t") != 0) {
            return lua_error(L);
        }
        lua_pushlstring(L, chunk.data(), chunk.size());
        return 2;
    }
    return luaL_error(L, "the rule kit has no part '%s' (tailor/%s.lua)", std::string(name).c_str(),
                      std::string(name).c_str());
}

// native.init(trusted_metatable, marker, trusted_text): trusted_text maps a
// t.html value to its text (templates read it without its __index). The
// marker table is the kit's, no longer read: native.run_slots tells the
// sandbox itself when it moves on to the next rule (LuaSandbox::next_rule).
int native_init(lua_State* L) {
    Impl* m = impl_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_settop(L, 3);
    m->trusted_text_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    m->trusted_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

// native.compile(html) -> id | nil, message, line, column
int native_compile(lua_State* L) {
    Impl* m = impl_of(L);
    std::string_view source = check_sv(L, 1);
    return guarded(L, [&]() -> int {
        TemplateError err;
        std::optional<Template> t = compile_template(source, &err);
        if (!t) {
            lua_pushnil(L);
            lua_pushlstring(L, err.message.data(), err.message.size());
            lua_pushinteger(L, static_cast<lua_Integer>(err.line));
            lua_pushinteger(L, static_cast<lua_Integer>(err.column));
            return 4;
        }
        m->templates.push_back(std::move(*t));
        lua_pushinteger(L, static_cast<lua_Integer>(m->templates.size() - 1));
        return 1;
    });
}

// native.template_names(id) -> { name, ... }: the first part of each
// placeholder's name ("consent" for {{consent.email}}), each once
int native_template_names(lua_State* L) {
    Impl* m = impl_of(L);
    size_t tpl = check_index(L, 1, m->templates.size(), "template");
    return guarded(L, [&]() -> int {
        std::vector<std::string_view> names = m->templates[tpl].variables();
        lua_createtable(L, static_cast<int>(names.size()), 0);
        int n = 0;
        for (size_t i = 0; i < names.size(); ++i) {
            std::string_view head = names[i].substr(0, names[i].find('.'));
            bool seen = false;
            for (size_t j = 0; j < i && !seen; ++j) {
                seen = names[j].substr(0, names[j].find('.')) == head;
            }
            if (!seen) {
                lua_pushlstring(L, head.data(), head.size());
                lua_rawseti(L, -2, ++n);
            }
        }
        return 1;
    });
}

// native.view_field(name) -> whether the visitor view has this field
int native_view_field(lua_State* L) {
    lua_pushboolean(L, LuaVisitorView::is_field(check_sv(L, 1)) ? 1 : 0);
    return 1;
}

// native.experiment(name, salt, holdout, { {name, weight}, ... }) -> id | nil, message
int native_experiment(lua_State* L) {
    Impl* m = impl_of(L);
    ExperimentSpec spec;
    spec.name = std::string(check_sv(L, 1));
    spec.salt = std::string(check_sv(L, 2));
    lua_Number holdout = luaL_checknumber(L, 3);
    luaL_checktype(L, 4, LUA_TTABLE);
    spec.holdout_percent = holdout < 0 ? 101u : static_cast<uint32_t>(holdout);
    for (int i = 1;; ++i) {
        lua_rawgeti(L, 4, i);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            break;
        }
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        ExperimentVariant variant;
        variant.name = std::string(check_sv(L, -2));
        lua_Number weight = luaL_checknumber(L, -1);
        variant.weight = weight < 0 || weight > 4e9 ? 0u : static_cast<uint32_t>(weight);
        spec.variants.push_back(std::move(variant));
        lua_pop(L, 3);
    }
    ExperimentError err;
    std::optional<Experiment> e = Experiment::create(std::move(spec), &err);
    if (!e) {
        lua_pushnil(L);
        lua_pushlstring(L, err.message.data(), err.message.size());
        return 2;
    }
    m->experiments.push_back(std::move(*e));
    lua_pushinteger(L, static_cast<lua_Integer>(m->experiments.size() - 1));
    return 1;
}

// native.register_rule(slot, id, kind, file, line, priority, experiment, variant) -> index
int native_register_rule(lua_State* L) {
    Impl* m = impl_of(L);
    RuleStats stats;
    stats.info.slot = std::string(check_sv(L, 1));
    stats.info.id = std::string(check_sv(L, 2));
    stats.info.kind = std::string(check_sv(L, 3));
    stats.info.file = std::string(check_sv(L, 4));
    stats.info.line = static_cast<int>(luaL_checkinteger(L, 5));
    stats.info.priority = luaL_checknumber(L, 6);
    stats.info.experiment = std::string(check_sv(L, 7));
    stats.info.variant = std::string(check_sv(L, 8));
    m->rules.push_back(std::move(stats));
    lua_pushinteger(L, static_cast<lua_Integer>(m->rules.size() - 1));
    return 1;
}

}  // namespace rules_detail
}  // namespace tailor
