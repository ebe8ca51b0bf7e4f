// RuleRuntime: the kit and packs in a LuaSandbox, the native functions the kit calls, evaluate().
#include "tailor/rules/runtime.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#include <lua.hpp>

#include "tailor/decision/experiment.h"
#include "tailor/html/escape.h"
#include "tailor/rules/visitor_view.h"
#include "tailor/popup/policy.h"
#include "tailor/popup/runtime.h"
#include "tailor/rules/natives.h"
#include "tailor/html/template.h"

namespace tailor {
namespace rules_detail {
namespace {

// The natives the kit calls that are defined here; the rest are in
// natives_kit.cpp and natives_popup.cpp.

// native.init(trusted_metatable, marker): marker[1] is the position of the
// rule running inside native.run_slot
int native_init(lua_State* L) {
    Impl* m = impl_of(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    m->marker_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    m->trusted_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    m->sandbox->set_rule_marker(m->marker_ref);
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
    m->experiment_names.emplace_back(e->spec().name);
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
    if (m->slots.empty() || m->slots.back() != stats.info.slot) {
        m->slots.push_back(stats.info.slot);
    }
    m->rules.push_back(std::move(stats));
    lua_pushinteger(L, static_cast<lua_Integer>(m->rules.size() - 1));
    return 1;
}

// Counts and reports a rule whose protected call failed with `rc`; the
// error value is on top of the stack.
void rule_failed(lua_State* L, Impl* m, size_t idx, int rc, LuaCut cut) {
    RuleStats& st = m->rules[idx];
    RuleOutcome outcome = RuleOutcome::kError;
    if (rc == LUA_ERRMEM || cut == LuaCut::kMemory) {
        outcome = RuleOutcome::kMemory;
        ++st.memory_errors;
        // LuaJIT does not collect when an allocation fails; the failed
        // rule's garbage would starve the next rules, so collect it now.
        lua_gc(L, LUA_GCCOLLECT, 0);
    } else if (cut != LuaCut::kNone) {
        outcome = RuleOutcome::kBudget;
        ++st.budget_cuts;
    } else {
        ++st.errors;
    }
    ++m->summary->failures;
    std::string message;
    size_t len = 0;
    const char* text = lua_isstring(L, -1) ? lua_tolstring(L, -1, &len) : nullptr;
    try {
        message = text != nullptr ? std::string(text, len)
                                  : std::string("error object is a ") + luaL_typename(L, -1);
        if (outcome == RuleOutcome::kBudget) {
            message = std::string(lua_cut_name(cut)) + " budget exceeded";
        }
        m->record(idx, outcome, message);
        m->queue_error(idx, outcome, message);
    } catch (const std::exception&) {
        // counting already happened; the message is a luxury
    }
}

// native.run(index, fn, v) -> true, matched, vars | false
// Runs one rule's test under the per-rule budget and counts the outcome.
int native_run(lua_State* L) {
    Impl* m = impl_of(L);
    size_t idx = check_index(L, 1, m->rules.size(), "rule");
    RuleStats& st = m->rules[idx];
    LuaSandbox& box = *m->sandbox;
    ++m->summary->rules_run;
    if (box.evaluation_exhausted()) {
        ++st.skipped;
        ++m->summary->failures;
        m->record(idx, RuleOutcome::kSkipped, "evaluation budget spent");
        lua_pushboolean(L, 0);
        return 1;
    }
    ++st.evaluations;
    lua_settop(L, 3);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    box.enter_guarded();
    int rc = lua_pcall(L, 1, 2, 0);
    LuaCut cut = box.leave_guarded();
    if (rc == 0) {
        bool matched = lua_toboolean(L, -2) != 0;
        if (matched) {
            ++st.matches;
        }
        lua_pushboolean(L, 1);
        lua_insert(L, -3);
        return 3;
    }
    rule_failed(L, m, idx, rc, cut);
    lua_pushboolean(L, 0);
    return 1;
}

// native.run_slot(first index, count, runner, rules, v) -> true, position, vars | false
// Runs a whole slot's rules (runner(rules, v), which returns the position of
// the rule that decided the slot, 0 for none, and its vars) in one protected
// call instead of one per rule; marker[1] says which rule was running when
// it failed, and the hook gives each rule its own instruction budget.
int native_run_slot(lua_State* L) {
    Impl* m = impl_of(L);
    size_t first = check_index(L, 1, m->rules.size(), "rule");
    lua_Integer count = luaL_checkinteger(L, 2);
    if (count < 1 || static_cast<size_t>(count) > m->rules.size() - first) {
        return luaL_error(L, "bad rule count");
    }
    LuaSandbox& box = *m->sandbox;
    if (box.evaluation_exhausted()) {
        ++m->summary->rules_run;
        ++m->rules[first].skipped;
        ++m->summary->failures;
        m->record(first, RuleOutcome::kSkipped, "evaluation budget spent");
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_settop(L, 5);
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 4);
    lua_pushvalue(L, 5);
    box.enter_guarded();
    int rc = lua_pcall(L, 2, 2, 0);
    LuaCut cut = box.leave_guarded();
    auto n = static_cast<size_t>(count);
    if (rc == 0) {
        lua_Integer pos = lua_tointeger(L, -2);
        size_t ran = pos > 0 && static_cast<size_t>(pos) <= n ? static_cast<size_t>(pos) : n;
        for (size_t i = 0; i < ran; ++i) {
            ++m->rules[first + i].evaluations;
        }
        m->summary->rules_run += static_cast<uint32_t>(ran);
        if (pos > 0) {
            ++m->rules[first + ran - 1].matches;
        }
        lua_pushboolean(L, 1);
        lua_insert(L, -3);
        return 3;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->marker_ref);
    lua_rawgeti(L, -1, 1);
    lua_Integer pos = lua_tointeger(L, -1);
    lua_pop(L, 2);
    size_t ran = pos > 0 && static_cast<size_t>(pos) <= n ? static_cast<size_t>(pos) : 1;
    for (size_t i = 0; i < ran; ++i) {
        ++m->rules[first + i].evaluations;
    }
    m->summary->rules_run += static_cast<uint32_t>(ran);
    rule_failed(L, m, first + ran - 1, rc, cut);
    lua_pushboolean(L, 0);
    return 1;
}

// native.matched(index): a rule matched but its experiment sent the visitor
// elsewhere (counted here; the winner is counted by run_slot)
int native_matched(lua_State* L) {
    Impl* m = impl_of(L);
    ++m->rules[check_index(L, 1, m->rules.size(), "rule")].matches;
    return 0;
}

// Template lookups read the rule's vars first, then the visitor view; dotted
// names walk into tables. Values stay on the Lua stack until the render is
// done, so their text cannot be collected under the template.
struct LuaLookup {
    lua_State* L;
    int vars;  // stack index or 0
    int view;  // stack index or 0
    int trusted_ref;
    char number[24] = {};  // a whole number's digits, used before the next lookup

    // Lua's tostring of a number ("%.14g") for whole numbers below 1e14,
    // without making a Lua string; false for the rest.
    bool format_whole(lua_Number n, TemplateValue* value) {
        if (!(n > -1e14 && n < 1e14) || n != static_cast<lua_Number>(static_cast<int64_t>(n))) {
            return false;
        }
        auto i = static_cast<int64_t>(n);
        if (i == 0 && std::signbit(n)) {
            return false;  // "-0"
        }
        uint64_t u = i < 0 ? static_cast<uint64_t>(-i) : static_cast<uint64_t>(i);
        char* end = number + sizeof(number);
        char* p = end;
        do {
            *--p = static_cast<char>('0' + u % 10);
            u /= 10;
        } while (u != 0);
        if (i < 0) {
            *--p = '-';
        }
        value->text = std::string_view(p, static_cast<size_t>(end - p));
        value->trusted = false;
        return true;
    }

    bool operator()(std::string_view name, TemplateValue* value) {
        if (!lua_checkstack(L, 4)) {
            return false;
        }
        size_t start = 0;
        bool first = true;
        while (start <= name.size()) {
            size_t dot = name.find('.', start);
            std::string_view part = name.substr(
                start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
            if (part.empty() || part.size() > Template::kMaxNameBytes) {
                return false;
            }
            if (first) {
                lua_pushnil(L);
                if (vars != 0 && lua_istable(L, vars)) {
                    lua_pop(L, 1);
                    lua_pushlstring(L, part.data(), part.size());
                    lua_gettable(L, vars);
                }
                if (lua_isnil(L, -1) && view != 0 && lua_istable(L, view)) {
                    lua_pop(L, 1);
                    lua_pushlstring(L, part.data(), part.size());
                    lua_gettable(L, view);
                }
                first = false;
            } else {
                if (!lua_istable(L, -1)) {
                    return false;
                }
                lua_pushlstring(L, part.data(), part.size());
                lua_gettable(L, -2);
            }
            if (dot == std::string_view::npos) {
                break;
            }
            start = dot + 1;
        }
        int type = lua_type(L, -1);
        if (type == LUA_TNUMBER && format_whole(lua_tonumber(L, -1), value)) {
            return true;
        }
        if (type == LUA_TSTRING || type == LUA_TNUMBER) {
            size_t len = 0;
            const char* s = lua_tolstring(L, -1, &len);
            value->text = std::string_view(s, len);
            value->trusted = false;
            return len != 0;
        }
        if (type == LUA_TBOOLEAN) {
            value->text = lua_toboolean(L, -1) ? "true" : "false";
            value->trusted = false;
            return true;
        }
        if (type == LUA_TTABLE && lua_getmetatable(L, -1)) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, trusted_ref);
            bool is_trusted = lua_rawequal(L, -1, -2) != 0;
            lua_pop(L, 2);
            if (is_trusted) {
                lua_getfield(L, -1, "html");
                size_t len = 0;
                const char* s = lua_tolstring(L, -1, &len);
                if (s != nullptr) {
                    value->text = std::string_view(s, len);
                    value->trusted = true;
                    return true;
                }
            }
        }
        return false;
    }
};

}  // namespace

void render_template(lua_State* L, Impl* m, size_t tpl, int vars, int view, std::string& out) {
    int top = lua_gettop(L);
    LuaLookup lookup{L, vars, view, m->trusted_ref};
    m->templates[tpl].render_with(out, lookup);
    lua_settop(L, top);
}

namespace {

// native.fill(slot, index, template, vars, v)
int native_fill(lua_State* L) {
    Impl* m = impl_of(L);
    std::string_view slot = check_sv(L, 1);
    size_t idx = check_index(L, 2, m->rules.size(), "rule");
    size_t tpl = check_index(L, 3, m->templates.size(), "template");
    lua_settop(L, 5);
    return guarded(L, [&]() -> int {
        std::string html;
        html.reserve(m->templates[tpl].literal_bytes() + 64);
        render_template(L, m, tpl, 4, 5, html);
        if (m->decision->set_slot(slot, std::move(html))) {
            ++m->rules[idx].wins;
            m->record(idx, RuleOutcome::kWon, "");
        } else {
            m->record(idx, RuleOutcome::kError, "decision is full (too many slots)");
        }
        return 0;
    });
}

// native.render(template, vars) -> string, for blocks built from items
int native_render(lua_State* L) {
    Impl* m = impl_of(L);
    size_t tpl = check_index(L, 1, m->templates.size(), "template");
    lua_settop(L, 2);
    return guarded(L, [&]() -> int {
        std::string html;
        render_template(L, m, tpl, 2, 0, html);
        lua_pushlstring(L, html.data(), html.size());
        return 1;
    });
}

// native.assign(experiment index) -> variant name
int native_assign(lua_State* L) {
    Impl* m = impl_of(L);
    size_t e = check_index(L, 1, m->experiments.size(), "experiment");
    Assignment a = m->experiments[e].assign(m->facts->visitor_id);
    lua_pushlstring(L, a.variant.data(), a.variant.size());
    return 1;
}

// native.expose(rule index, experiment, variant)
int native_expose(lua_State* L) {
    Impl* m = impl_of(L);
    size_t idx = check_index(L, 1, m->rules.size(), "rule");
    std::string_view experiment = check_sv(L, 2);
    std::string_view variant = check_sv(L, 3);
    return guarded(L, [&]() -> int {
        (void)m->decision->add_exposure(m->rules[idx].info.id, experiment, variant);
        return 0;
    });
}

// native.set_var(name, value)
int native_set_var(lua_State* L) {
    Impl* m = impl_of(L);
    std::string_view name = check_sv(L, 1);
    std::string_view value = check_sv(L, 2);
    return guarded(L, [&]() -> int {
        (void)m->decision->set_variable(name, std::string(value));
        return 0;
    });
}

RuleOutcome outcome_from(std::string_view code) {
    if (code == "no-match")
        return RuleOutcome::kNoMatch;
    if (code == "other-variant")
        return RuleOutcome::kOtherVariant;
    if (code == "holdout")
        return RuleOutcome::kHoldout;
    if (code == "suppressed")
        return RuleOutcome::kSuppressed;
    if (code == "not-reached")
        return RuleOutcome::kNotReached;
    return RuleOutcome::kError;
}

// native.note(rule index, outcome, detail): explain output only
int native_note(lua_State* L) {
    Impl* m = impl_of(L);
    size_t idx = check_index(L, 1, m->rules.size(), "rule");
    std::string_view code = check_sv(L, 2);
    std::string_view detail = check_sv(L, 3);
    return guarded(L, [&]() -> int {
        m->record(idx, outcome_from(code), std::string(detail));
        return 0;
    });
}

constexpr struct {
    const char* name;
    lua_CFunction fn;
} kNatives[] = {
    {"popup", native_popup},
    {"popup_options", native_popup_options},
    {"choose_popup", native_choose_popup},
    {"init", native_init},
    {"compile", native_compile},
    {"experiment", native_experiment},
    {"register_rule", native_register_rule},
    {"run", native_run},
    {"run_slot", native_run_slot},
    {"matched", native_matched},
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
    if (lua_pcall(L, 1, 1, 0) != 0) {
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
        lua_rawgeti(L, LUA_REGISTRYINDEX, m->runtime_ref);
        lua_getfield(L, -1, "load_pack");
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
    lua_gc(L, LUA_GCCOLLECT, 0);
    // Each evaluation makes a few KiB of short-lived tables and strings; a
    // longer pause (the default is 200%) means fewer cycles and more SKU
    // strings still interned at the next request: ~12% per evaluation in
    // BM_Rules_Evaluate_Typical, for a heap about twice the live data, which
    // the memory ceiling still bounds.
    lua_gc(L, LUA_GCSETPAUSE, 400);
    return true;
}

struct EvalArgs {
    Impl* m;
    const Profile* profile;
    bool tracing;
};

// Inside a protected call, because building the view may raise.
int eval_entry(lua_State* L) {
    auto* args = static_cast<EvalArgs*>(lua_touserdata(L, 1));
    lua_rawgeti(L, LUA_REGISTRYINDEX, args->m->evaluate_ref);
    args->m->view.push(L, *args->profile, *args->m->facts);
    lua_pushboolean(L, args->tracing ? 1 : 0);
    lua_call(L, 2, 0);
    return 0;
}

}  // namespace
}  // namespace rules_detail

using namespace rules_detail;

const char* rule_outcome_name(RuleOutcome outcome) noexcept {
    switch (outcome) {
        case RuleOutcome::kWon:
            return "won";
        case RuleOutcome::kNoMatch:
            return "no-match";
        case RuleOutcome::kOtherVariant:
            return "other-variant";
        case RuleOutcome::kHoldout:
            return "holdout";
        case RuleOutcome::kSuppressed:
            return "suppressed";
        case RuleOutcome::kNotReached:
            return "not-reached";
        case RuleOutcome::kError:
            return "error";
        case RuleOutcome::kBudget:
            return "budget";
        case RuleOutcome::kMemory:
            return "memory";
        case RuleOutcome::kSkipped:
            return "skipped";
        case RuleOutcome::kCapped:
            return "capped";
        case RuleOutcome::kExcluded:
            return "excluded";
    }
    return "error";
}

RuleRuntime::RuleRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RuleRuntime::~RuleRuntime() = default;

std::unique_ptr<RuleRuntime> RuleRuntime::create(const RulePack& pack, RulesError* error) noexcept {
    try {
        auto impl = std::make_unique<Impl>();
        if (!load(impl.get(), pack, error)) {
            return nullptr;
        }
        return std::unique_ptr<RuleRuntime>(new RuleRuntime(std::move(impl)));
    } catch (const std::exception& e) {
        if (error != nullptr) {
            error->file = pack.kit_name;
            error->line = 0;
            error->reason = e.what();
        }
        return nullptr;
    }
}

EvalSummary RuleRuntime::evaluate(const Profile& profile, const RequestFacts& facts, Decision* out,
                                  RuleTrace* trace) noexcept {
    static const PopupCaps kNoCaps;
    return evaluate(profile, facts, &kNoCaps, out, trace);
}

EvalSummary RuleRuntime::evaluate(const Profile& profile, const RequestFacts& facts,
                                  const PopupCaps* caps, Decision* out, RuleTrace* trace) noexcept {
    EvalSummary summary;
    Impl* m = impl_.get();
    m->caps = caps;
    lua_State* L = m->sandbox->state();
    m->decision = out;
    m->facts = &facts;
    m->trace = trace;
    m->summary = &summary;
    ++m->evaluations;
    int top = lua_gettop(L);
    m->sandbox->begin_evaluation();
    EvalArgs args{m, &profile, trace != nullptr};
    lua_pushcfunction(L, eval_entry);
    lua_pushlightuserdata(L, &args);
    int rc = lua_pcall(L, 1, 0, 0);
    m->view.invalidate();
    m->sandbox->end_evaluation();
    if (rc != 0) {
        summary.ok = false;
        ++m->failed_evaluations;
        try {
            summary.error = pop_message(L);
        } catch (const std::exception&) {
        }
    }
    lua_settop(L, top);
    // A state near its ceiling gets a full collection now rather than failing
    // the next visitor's rules; a healthy one leaves it to the incremental GC.
    if (m->sandbox->memory_used() > m->sandbox->limits().memory_bytes / 2) {
        lua_gc(L, LUA_GCCOLLECT, 0);
    }
    m->decision = nullptr;
    m->facts = nullptr;
    m->trace = nullptr;
    m->summary = nullptr;
    m->caps = nullptr;
    return summary;
}

bool RuleRuntime::has_popup(std::string_view id) const noexcept {
    for (const Impl::Popup& p : impl_->popups) {
        if (impl_->rules[p.rule].info.id == id) {
            return true;
        }
    }
    return false;
}

const std::vector<RuleStats>& RuleRuntime::rule_stats() const noexcept {
    return impl_->rules;
}

size_t RuleRuntime::take_errors(std::vector<RuleErrorEvent>* out) {
    for (auto& e : impl_->errors) {
        out->push_back(std::move(e));
    }
    impl_->errors.clear();
    size_t dropped = impl_->errors_dropped;
    impl_->errors_dropped = 0;
    return dropped;
}

uint64_t RuleRuntime::evaluations() const noexcept {
    return impl_->evaluations;
}
uint64_t RuleRuntime::failed_evaluations() const noexcept {
    return impl_->failed_evaluations;
}
size_t RuleRuntime::memory_used() const noexcept {
    return impl_->sandbox->memory_used();
}
size_t RuleRuntime::memory_peak() const noexcept {
    return impl_->sandbox->memory_peak();
}

}  // namespace tailor
