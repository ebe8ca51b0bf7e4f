// RuleRuntime: the kit and packs in a LuaSandbox, the native functions the kit calls, evaluate().
#include "tailor/rules_runtime.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <new>
#include <optional>
#include <string_view>
#include <utility>

#include <lua.hpp>

#include "tailor/experiment.h"
#include "tailor/html_escape.h"
#include "tailor/lua_visitor_view.h"
#include "tailor/popup_policy.h"
#include "tailor/popup_runtime.h"
#include "tailor/template.h"

namespace tailor {

struct RuleRuntime::Impl {
    std::unique_ptr<LuaSandbox> sandbox;
    LuaVisitorView view;
    std::vector<Template> templates;
    std::vector<Experiment> experiments;
    std::vector<RuleStats> rules;
    std::vector<std::string> slots;
    std::vector<std::string> experiment_names;
    int runtime_ref = LUA_NOREF;
    int evaluate_ref = LUA_NOREF;
    int trusted_ref = LUA_NOREF;
    int marker_ref = LUA_NOREF;

    // Pop-ups, in declaration order; `candidate.id` is set per evaluation
    // (it views rules[rule].info.id, stable once loading is done).
    struct Popup {
        size_t rule = 0;
        size_t tpl = 0;
        std::string trigger_json;
        PopupCandidate candidate;
    };
    std::vector<Popup> popups;
    PopupPolicyOptions popup_options;
    std::vector<PopupCandidate> popup_candidates;  // per evaluation, reused
    std::vector<size_t> popup_positions;
    std::vector<lua_Integer> popup_results;
    std::vector<PopupVerdict> popup_verdicts;
    const PopupCaps* caps = nullptr;  // null: the caps blob was refused

    // Per evaluation.
    Decision* decision = nullptr;
    const RequestFacts* facts = nullptr;
    RuleTrace* trace = nullptr;
    EvalSummary* summary = nullptr;

    std::deque<RuleErrorEvent> errors;
    size_t errors_dropped = 0;
    uint64_t evaluations = 0;
    uint64_t failed_evaluations = 0;

    void record(size_t idx, RuleOutcome outcome, std::string detail) {
        if (trace != nullptr) {
            const RuleInfo& info = rules[idx].info;
            trace->entries.push_back({info.slot, info.id, outcome, std::move(detail)});
        }
    }

    void queue_error(size_t idx, RuleOutcome outcome, const std::string& message) {
        if (errors.size() >= kMaxPendingErrors) {
            errors.pop_front();
            ++errors_dropped;
        }
        errors.push_back({rules[idx].info.id, outcome, message});
    }
};

namespace {

using Impl = RuleRuntime::Impl;

Impl* impl_of(lua_State* L) {
    return static_cast<Impl*>(lua_touserdata(L, lua_upvalueindex(1)));
}

std::string_view check_sv(lua_State* L, int idx) {
    size_t len = 0;
    const char* s = luaL_checklstring(L, idx, &len);
    return std::string_view(s, len);
}

size_t check_index(lua_State* L, int idx, size_t size, const char* what) {
    lua_Integer i = luaL_checkinteger(L, idx);
    if (i < 0 || static_cast<size_t>(i) >= size) {
        luaL_error(L, "bad %s index", what);
    }
    return static_cast<size_t>(i);
}

// Runs `fn` (a C++ body that may throw bad_alloc) and turns a throw into a
// Lua error raised after the C++ frame is gone.
template <typename Fn>
int guarded(lua_State* L, Fn&& fn) {
    bool failed = false;
    int results = 0;
    try {
        results = fn();
    } catch (const std::exception&) {
        failed = true;
    }
    if (failed) {
        return luaL_error(L, "not enough memory");
    }
    return results;
}

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

void render_template(lua_State* L, Impl* m, size_t tpl, int vars, int view, std::string& out) {
    int top = lua_gettop(L);
    LuaLookup lookup{L, vars, view, m->trusted_ref};
    m->templates[tpl].render_with(out, lookup);
    lua_settop(L, top);
}

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

// Renders one recommendation item into `html`: variables sku, and name
// (default: the sku), url, category from the catalog entry at `entry` (a
// table, or anything else for none). Values stay on the stack until the
// caller restores its top.
void render_item(lua_State* L, const Template& tpl, std::string_view sku, int entry,
                 std::string& html) {
    bool has_item = lua_istable(L, entry);
    auto lookup = [&](std::string_view name, TemplateValue* value) -> bool {
        if (name == "sku") {
            value->text = sku;
            return true;
        }
        if (!has_item || (name != "name" && name != "url" && name != "category")) {
            if (name == "name") {
                value->text = sku;
                return true;
            }
            return false;
        }
        lua_pushlstring(L, name.data(), name.size());
        lua_rawget(L, entry);  // stays on the stack until this item is done
        size_t len = 0;
        const char* s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : nullptr;
        if (s == nullptr || len == 0) {
            if (name == "name") {
                value->text = sku;
                return true;
            }
            return false;
        }
        value->text = std::string_view(s, len);
        return true;
    };
    tpl.render_with(html, lookup);
}

// Candidate picking for native.recommend: an array and a set at once, as
// the kit's offer_all did it, straight from the Profile.
struct Picker {
    const Profile& p;
    double limit;
    std::vector<std::string_view> picked;

    bool full() const { return static_cast<double>(picked.size()) >= limit; }

    void offer(std::string_view sku) {
        if (sku.empty() || full()) {
            return;
        }
        for (std::string_view q : picked) {
            if (q == sku) {
                return;
            }
        }
        for (const Purchase& line : p.purchases) {  // anything bought is never shown
            if (line.sku == sku) {
                return;
            }
        }
        if (p.in_cart(sku)) {
            return;
        }
        picked.push_back(sku);
    }

    // The list at `list` (pairs[sku]): its strings in order, anything else
    // skipped; a string or false/nil offers nothing, as in the kit before.
    void offer_list(lua_State* L, int list) {
        if (lua_type(L, list) != LUA_TTABLE) {
            return;
        }
        int n = static_cast<int>(lua_objlen(L, list));
        for (int i = 1; i <= n && !full(); ++i) {
            lua_rawgeti(L, list, i);
            if (lua_type(L, -1) == LUA_TSTRING) {
                size_t len = 0;
                const char* s = lua_tolstring(L, -1, &len);
                offer(std::string_view(s, len));  // the string lives in the pack's table
            }
            lua_pop(L, 1);
        }
    }
};

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// native.recommend(v, item template, sources, pairs, catalog, limit, min_items) -> n, html
// The recommendations rule's picking and rendering in one call, reading the
// Profile behind `v` directly instead of building v.purchased, v.in_cart,
// v.viewed_skus and v.purchase_skus: candidates from `sources` in order
// ("viewed", "paired", "replenish", "attribute:NAME"), deduplicated, never
// bought or in the cart, up to `limit`. html is "" when n < min_items.
int native_recommend(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile* profile = m->view.profile_of(L, 1);
    if (profile == nullptr) {
        return luaL_error(L, "visitor view used outside its evaluation");
    }
    size_t tpl = check_index(L, 2, m->templates.size(), "template");
    luaL_checktype(L, 3, LUA_TTABLE);
    luaL_checktype(L, 4, LUA_TTABLE);
    luaL_checktype(L, 5, LUA_TTABLE);
    lua_Number limit = luaL_checknumber(L, 6);
    lua_Number min_items = luaL_checknumber(L, 7);
    lua_settop(L, 7);
    if (!lua_checkstack(L, 16)) {
        return luaL_error(L, "not enough memory");
    }
    const Profile& p = *profile;
    std::optional<std::vector<const Purchase*>> consumables;
    std::string html;
    size_t n = 0;
    // Lua errors (longjmp) may only be raised outside the guarded C++ body.
    const char* bad_pairs = nullptr;
    // pairs[sku]'s list; false (and bad_pairs set) for what `#list` refuses
    auto offer_paired = [&](Picker& picker, std::string_view sku) -> bool {
        int top = lua_gettop(L);
        lua_pushlstring(L, sku.data(), sku.size());
        lua_rawget(L, 4);
        int type = lua_type(L, -1);
        if (type != LUA_TNIL && type != LUA_TTABLE && type != LUA_TSTRING &&
            !(type == LUA_TBOOLEAN && lua_toboolean(L, -1) == 0)) {
            bad_pairs = lua_typename(L, type);
        } else {
            picker.offer_list(L, top + 1);
        }
        lua_settop(L, top);
        return bad_pairs == nullptr;
    };
    guarded(L, [&]() -> int {
        Picker picker{p, limit, {}};
        int sources = static_cast<int>(lua_objlen(L, 3));
        for (int si = 1; si <= sources && !picker.full(); ++si) {
            lua_rawgeti(L, 3, si);
            size_t len = 0;
            const char* s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : "";
            std::string_view source(s, len);
            lua_pop(L, 1);  // the kit's sources list keeps the string alive
            if (source == "viewed") {
                for (const ViewedItem& item : p.viewed) {
                    picker.offer(item.sku);
                }
            } else if (source == "paired") {
                for (const Purchase& line : p.purchases) {
                    if (picker.full() || !offer_paired(picker, line.sku)) {
                        break;
                    }
                }
            } else if (source == "replenish") {
                // a consumable due again is a purchase, so exclusion would
                // drop it; it is offered through its pairs instead
                if (!consumables) {
                    consumables = latest_consumables(p);
                }
                for (const Purchase* line : *consumables) {
                    if (picker.full() || !offer_paired(picker, line->sku)) {
                        break;
                    }
                }
            } else if (source.size() > 10 && source.substr(0, 10) == "attribute:") {
                std::string_view name = source.substr(10);
                const Attribute* found = nullptr;
                for (const Attribute& a : p.attributes) {
                    if (a.name == name) {
                        found = &a;  // the view keeps the last one of a name
                    }
                }
                if (found != nullptr && found->type == AttributeType::kString) {
                    std::string_view text = found->text;
                    size_t i = 0;
                    while (i < text.size() && !picker.full()) {
                        while (i < text.size() && (text[i] == ',' || is_space(text[i]))) {
                            ++i;
                        }
                        size_t start = i;
                        while (i < text.size() && text[i] != ',' && !is_space(text[i])) {
                            ++i;
                        }
                        if (i > start) {
                            picker.offer(text.substr(start, i - start));
                        }
                    }
                }
            }
        }
        if (bad_pairs != nullptr) {
            return 0;
        }
        n = picker.picked.size();
        if (static_cast<double>(n) < min_items) {
            return 0;
        }
        for (std::string_view sku : picker.picked) {
            int top = lua_gettop(L);
            lua_pushlstring(L, sku.data(), sku.size());
            lua_rawget(L, 5);  // top + 1: catalog entry or nil
            render_item(L, m->templates[tpl], sku, top + 1, html);
            lua_settop(L, top);
        }
        return 0;
    });
    if (bad_pairs != nullptr) {
        return luaL_error(L, "recommendations: pairs entry is a %s, not a list", bad_pairs);
    }
    lua_pushnumber(L, static_cast<lua_Number>(n));
    lua_pushlstring(L, html.data(), html.size());
    return 2;
}

// native.due_consumable(v, within, overdue) -> sku, category, due_in_days,
// days_since_purchase | nothing
// The reorder prompt's search over v.consumables (soonest due first, not in
// the cart, due within [now - overdue, now + within] seconds), straight from
// the Profile, so the consumables list is not built for it.
int native_due_consumable(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile* profile = m->view.profile_of(L, 1);
    if (profile == nullptr || m->facts == nullptr) {
        return luaL_error(L, "visitor view used outside its evaluation");
    }
    lua_Number within = luaL_checknumber(L, 2);
    lua_Number overdue = luaL_checknumber(L, 3);
    int64_t now = m->facts->now;
    const Purchase* found = nullptr;
    bool failed = false;
    try {
        for (const Purchase* line : latest_consumables(*profile)) {
            auto delta =
                static_cast<lua_Number>(line->at + line->cycle_days * kSecondsPerDay - now);
            if (!profile->in_cart(line->sku) && delta <= within && delta >= -overdue) {
                found = line;
                break;
            }
        }
    } catch (const std::exception&) {
        failed = true;
    }
    if (failed) {
        return luaL_error(L, "not enough memory");
    }
    if (found == nullptr) {
        return 0;
    }
    int64_t due_in = found->at + found->cycle_days * kSecondsPerDay - now;
    int64_t due_days = due_in / kSecondsPerDay;
    if (due_in % kSecondsPerDay != 0 && due_in < 0) {
        --due_days;  // floor, as v.consumables' due_in_days
    }
    lua_pushlstring(L, found->sku.data(), found->sku.size());
    if (found->category.empty()) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, found->category.data(), found->category.size());
    }
    lua_pushnumber(L, static_cast<lua_Number>(due_days));
    lua_pushnumber(
        L, static_cast<lua_Number>(now > found->at ? (now - found->at) / kSecondsPerDay : 0));
    return 4;
}

// The Profile behind the view at 1, or a Lua error outside its evaluation.
const Profile& checked_profile(lua_State* L, Impl* m) {
    const Profile* profile = m->view.profile_of(L, 1);
    if (profile == nullptr || m->facts == nullptr) {
        luaL_error(L, "visitor view used outside its evaluation");
    }
    return *profile;
}

// native.flags(v) -> open_return, open_complaint: what t.suppressed reads of
// v.flags, without building that table
int native_flags(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    lua_pushboolean(L, p.flags.open_return ? 1 : 0);
    lua_pushboolean(L, p.flags.open_complaint ? 1 : 0);
    return 2;
}

// native.loyalty(v) -> points, tier, days_to_points_expiry: v.loyalty's
// fields (nil where the view has none), without building that table
int native_loyalty(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    lua_pushnumber(L, static_cast<lua_Number>(p.loyalty.points));
    if (p.loyalty.tier.empty()) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, p.loyalty.tier.data(), p.loyalty.tier.size());
    }
    if (p.loyalty.points_expire_at > 0) {
        int64_t left = p.loyalty.points_expire_at - m->facts->now;
        int64_t days = left / kSecondsPerDay;
        if (left % kSecondsPerDay != 0 && left < 0) {
            --days;  // floor, as the view
        }
        lua_pushnumber(L, static_cast<lua_Number>(days));
    } else {
        lua_pushnil(L);
    }
    return 3;
}

// native.affinity(v, category) -> score | nil: v.affinity[category]
// (the last entry of a category, as the view), without building v.affinity
int native_affinity(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    std::string_view category = check_sv(L, 2);
    const Affinity* found = nullptr;
    for (const Affinity& a : p.affinities) {
        if (a.category == category) {
            found = &a;
        }
    }
    if (found == nullptr) {
        lua_pushnil(L);
    } else {
        lua_pushnumber(L, found->score);
    }
    return 1;
}

// native.request(v, field) -> v.request.path (1), .referrer (2) or .device
// (3), nil when empty, without building v.request
int native_request(lua_State* L) {
    Impl* m = impl_of(L);
    (void)checked_profile(L, m);
    lua_Integer field = luaL_checkinteger(L, 2);
    std::string_view value;
    if (field == 1) {
        value = m->facts->path;
    } else if (field == 2) {
        value = m->facts->referrer_source;
    } else if (field == 3) {
        value = m->facts->device_class;
    }
    if (value.empty()) {
        lua_pushnil(L);
    } else {
        lua_pushlstring(L, value.data(), value.size());
    }
    return 1;
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

// native.popup(rule index, position, template, intent, trigger json, per_visit, per_day,
//              cooldown_hours, stop_after_conversion, recent_purchase_hours, open_return,
//              open_complaint, email_campaign, higher_intent_flow)
int native_popup(lua_State* L) {
    Impl* m = impl_of(L);
    size_t idx = check_index(L, 1, m->rules.size(), "rule");
    lua_Integer position = luaL_checkinteger(L, 2);
    size_t tpl = check_index(L, 3, m->templates.size(), "template");
    PopupIntent intent = PopupIntent::kBrowse;
    if (!parse_popup_intent(check_sv(L, 4), &intent)) {
        return luaL_error(L, "bad pop-up intent");
    }
    std::string_view trigger = check_sv(L, 5);
    auto count = [&](int i, int64_t max) {
        lua_Integer n = luaL_checkinteger(L, i);
        return n < 0 ? 0 : (n > max ? max : static_cast<int64_t>(n));
    };
    Impl::Popup p;
    p.rule = idx;
    p.tpl = tpl;
    p.candidate.intent = intent;
    p.candidate.priority = m->rules[idx].info.priority;
    p.candidate.order = static_cast<uint32_t>(position < 0 ? 0 : position);
    p.candidate.caps.per_visit = static_cast<uint32_t>(count(6, 1000000));
    p.candidate.caps.per_day = static_cast<uint32_t>(count(7, 1000000));
    p.candidate.caps.cooldown_hours = count(8, kMaxPopupCooldownHours);
    p.candidate.caps.stop_after_conversion = lua_toboolean(L, 9) != 0;
    p.candidate.exclude.recent_purchase_hours = count(10, kMaxPopupRecentPurchaseHours);
    p.candidate.exclude.open_return = lua_toboolean(L, 11) != 0;
    p.candidate.exclude.open_complaint = lua_toboolean(L, 12) != 0;
    p.candidate.exclude.email_campaign = lua_toboolean(L, 13) != 0;
    p.candidate.exclude.higher_intent_flow = lua_toboolean(L, 14) != 0;
    return guarded(L, [&]() -> int {
        p.trigger_json = std::string(trigger);
        m->popups.push_back(std::move(p));
        return 0;
    });
}

// native.popup_options(utc_offset_minutes)
int native_popup_options(lua_State* L) {
    Impl* m = impl_of(L);
    m->popup_options.utc_offset_minutes = luaL_checkinteger(L, 1);
    return 0;
}

bool is_exclusion(PopupVerdict v) {
    switch (v) {
        case PopupVerdict::kRecentPurchase:
        case PopupVerdict::kOpenReturn:
        case PopupVerdict::kOpenComplaint:
        case PopupVerdict::kEmailCampaign:
        case PopupVerdict::kHigherIntentFlow:
            return true;
        default:
            return false;
    }
}

// The directives JSON for the chosen pop-up (docs/popups.md is the contract).
std::string directives_json(const Impl::Popup& p, std::string_view id, std::string_view html,
                            std::string_view beacon) {
    std::string json;
    json.reserve(html.size() + p.trigger_json.size() + id.size() + 96);
    json += R"({"v":1,"popups":[{"id":)";
    append_json_string_for_script(json, id);
    json += R"(,"trigger":)";
    json += p.trigger_json;
    json += R"(,"html":)";
    append_json_string_for_script(json, html);
    json += R"(,"intent":")";
    json += popup_intent_name(p.candidate.intent);
    json += R"("}],"beacon":)";
    append_json_string_for_script(json, beacon.empty() ? kPopupBeaconPath : beacon);
    json += '}';
    return json;
}

// native.choose_popup(v, results, n): core's policy over the pop-ups whose
// test passed (results[i] == 1; 0: no match, 2: failed); renders the winner
// into the decision's directives and traces every pop-up in declaration
// order. A failed test means no pop-up at all.
int native_choose_popup(lua_State* L) {
    Impl* m = impl_of(L);
    const Profile& p = checked_profile(L, m);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_checkinteger(L, 3);
    if (n < 0 || static_cast<size_t>(n) > m->popups.size()) {
        return luaL_error(L, "bad pop-up count");
    }
    lua_settop(L, 3);
    return guarded(L, [&]() -> int {
        const auto count = static_cast<size_t>(n);
        std::vector<lua_Integer>& results = m->popup_results;
        results.assign(count, 0);
        bool broken = false;
        m->popup_candidates.clear();
        m->popup_positions.clear();
        for (size_t i = 0; i < count; ++i) {
            lua_rawgeti(L, 2, static_cast<int>(i + 1));
            results[i] = lua_tointeger(L, -1);
            lua_pop(L, 1);
            broken = broken || results[i] == 2;
            if (results[i] == 1) {
                Impl::Popup& pop = m->popups[i];
                pop.candidate.id = m->rules[pop.rule].info.id;
                m->popup_candidates.push_back(pop.candidate);
                m->popup_positions.push_back(i);
            }
        }
        size_t won = m->popup_candidates.size();
        if (!broken) {
            PopupVisitorFacts facts;
            facts.now = m->facts->now;
            facts.visit = p.visits;
            facts.last_purchase_at = p.last_order_at;
            for (const Purchase& line : p.purchases) {
                facts.last_purchase_at = std::max(facts.last_purchase_at, line.at);
            }
            facts.open_return = p.flags.open_return;
            facts.open_complaint = p.flags.open_complaint;
            facts.from_email = popup_request_from_email(m->facts->query);
            facts.has_cart = !p.cart.empty();
            won = choose_popup(m->popup_candidates, m->caps, facts, m->popup_options,
                               &m->popup_verdicts);
        }
        if (won < m->popup_candidates.size()) {
            const Impl::Popup& pop = m->popups[m->popup_positions[won]];
            std::string_view id = m->popup_candidates[won].id;
            std::string html;
            render_template(L, m, pop.tpl, 0, 1, html);
            std::string tag;
            append_popup_runtime_tag(tag, m->facts->popup_runtime_path);
            m->decision->set_directives_json(
                directives_json(pop, id, html, m->facts->popup_beacon_path), tag);
            (void)m->decision->add_exposure(id, "popup", "offered");
            (void)m->decision->set_variable("popup", std::string(id));
            ++m->rules[pop.rule].wins;
        }
        if (m->trace == nullptr) {
            return 0;
        }
        size_t c = 0;  // the next candidate, in the same order
        for (size_t i = 0; i < count; ++i) {
            const Impl::Popup& pop = m->popups[i];
            if (results[i] == 2) {
                continue;  // traced when it failed
            }
            if (results[i] != 1) {
                m->record(pop.rule, RuleOutcome::kNoMatch, "");
                continue;
            }
            const size_t k = c++;
            if (broken) {
                m->record(pop.rule, RuleOutcome::kNotReached, "another pop-up's rule failed");
                continue;
            }
            PopupVerdict v = m->popup_verdicts[k];
            if (v == PopupVerdict::kChosen) {
                m->record(
                    pop.rule, RuleOutcome::kWon,
                    std::string(popup_intent_name(pop.candidate.intent)) + " " + pop.trigger_json);
            } else if (v == PopupVerdict::kOutranked) {
                m->record(pop.rule, RuleOutcome::kNotReached,
                          "outranked by " + std::string(m->popup_candidates[won].id));
            } else {
                m->record(pop.rule, is_exclusion(v) ? RuleOutcome::kExcluded : RuleOutcome::kCapped,
                          std::string(popup_verdict_name(v)));
            }
        }
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
