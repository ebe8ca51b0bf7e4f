// The natives that run rules under the sandbox's budgets and record what they decided.
#include <algorithm>
#include <string>
#include <string_view>

#include <lua.hpp>

#include "tailor/decision/experiment.h"
#include "tailor/rules/natives.h"

namespace tailor {
namespace rules_detail {

namespace {

// Counts and reports a rule whose protected call failed with `rc`; the
// error value is on top of the stack.
void rule_failed(lua_State* L, Impl* m, size_t idx, int rc, LuaCut cut) {
    RuleStats& st = m->rules[idx];
    RuleOutcome outcome = RuleOutcome::kError;
    if (cut == LuaCut::kMemory || (rc == LUA_ERRMEM && cut == LuaCut::kNone)) {
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

}  // namespace

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
    m->current_rule = idx;
    lua_settop(L, 3);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    reset_reentry(m);
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

// native.plan(slot name, promotional, first index, count, { [i] = template }, checks,
//             variant_of)
// At finish, once per slot in evaluation order: what native.run_slots runs.
// checks (index + 1 -> check) and variant_of are the same tables and
// function for every call; the first call keeps them.
int native_plan(lua_State* L) {
    Impl* m = impl_of(L);
    std::string_view name = check_sv(L, 1);
    bool promotional = lua_toboolean(L, 2) != 0;
    size_t first = check_index(L, 3, m->rules.size() + 1, "rule");
    lua_Integer count = luaL_checkinteger(L, 4);
    luaL_checktype(L, 5, LUA_TTABLE);
    luaL_checktype(L, 6, LUA_TTABLE);
    luaL_checktype(L, 7, LUA_TFUNCTION);
    if (count < 0 ||
        static_cast<size_t>(count) > m->rules.size() - std::min(first, m->rules.size())) {
        return luaL_error(L, "bad rule count");
    }
    lua_settop(L, 7);
    if (m->checks_ref == LUA_NOREF) {
        lua_pushvalue(L, 6);
        m->checks_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pushvalue(L, 7);
        m->variant_of_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    auto n = static_cast<size_t>(count);
    for (size_t i = 0; i < n; ++i) {
        lua_rawgeti(L, 5, static_cast<int>(i + 1));
        size_t tpl = check_index(L, -1, m->templates.size(), "template");
        lua_pop(L, 1);
        guarded(L, [&]() -> int {
            if (m->rule_tpl.size() <= first + i) {
                m->rule_tpl.resize(first + i + 1, 0);
            }
            m->rule_tpl[first + i] = tpl;
            return 0;
        });
    }
    return guarded(L, [&]() -> int {
        m->slot_plans.push_back(Impl::SlotPlan{std::string(name), promotional, first, n});
        return 0;
    });
}

namespace {

// One slot's rules in one protected call: stack 1 the plan, 2 v, 3 the
// checks, 4 the marker, 5 variant_of. Returns the position of the rule that
// fills the slot and its vars, or 0. The same walk the kit's tracing path
// makes rule by rule: first match wins unless its experiment sends the
// visitor elsewhere. A rule that errors unwinds the whole call (marker[1]
// says which), so the slot keeps its default.
int slot_body(lua_State* L) {
    auto* plan = static_cast<const Impl::SlotPlan*>(lua_touserdata(L, 1));
    Impl* m = impl_of(L);
    for (size_t ri = 1; ri <= plan->count; ++ri) {
        size_t idx = plan->first + ri - 1;
        lua_pushinteger(L, static_cast<lua_Integer>(ri));
        lua_rawseti(L, 4, 1);
        m->current_rule = idx;
        lua_rawgeti(L, 3, static_cast<int>(idx + 1));
        lua_pushvalue(L, 2);
        lua_call(L, 1, 2);
        if (lua_toboolean(L, -2)) {
            const RuleInfo& info = m->rules[idx].info;
            if (info.experiment.empty()) {
                lua_pushinteger(L, static_cast<lua_Integer>(ri));
                lua_insert(L, -3);
                lua_remove(L, -2);
                return 2;
            }
            lua_pushvalue(L, 5);
            lua_pushlstring(L, info.experiment.data(), info.experiment.size());
            lua_pushinteger(L, static_cast<lua_Integer>(idx));
            lua_call(L, 2, 1);
            size_t len = 0;
            const char* variant = lua_tolstring(L, -1, &len);
            if (variant != nullptr && std::string_view(variant, len) == info.variant) {
                lua_pop(L, 1);
                lua_pushinteger(L, static_cast<lua_Integer>(ri));
                lua_insert(L, -3);
                lua_remove(L, -2);
                return 2;
            }
            lua_pop(L, 1);
            ++m->rules[idx].matches;  // matched, but the visitor is elsewhere
        }
        lua_pop(L, 2);
    }
    lua_pushinteger(L, 0);
    return 1;
}

}  // namespace

// native.run_slots(v, suppressed): every slot's rules, as the kit's tracing
// walk would decide them, each slot in one protected call under the
// per-rule budgets, the winner's template filled straight into the
// decision. A promotional slot is skipped while `suppressed` is a reason.
int native_run_slots(lua_State* L) {
    Impl* m = impl_of(L);
    bool suppressed = lua_toboolean(L, 2) != 0;
    lua_settop(L, 1);
    LuaSandbox& box = *m->sandbox;
    if (m->run_slot_ref == LUA_NOREF) {
        lua_pushlightuserdata(L, m);
        lua_pushcclosure(L, slot_body, 1);
        m->run_slot_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->checks_ref);      // 2
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->marker_ref);      // 3
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->variant_of_ref);  // 4
    for (const Impl::SlotPlan& plan : m->slot_plans) {
        if (plan.count == 0 || (plan.promotional && suppressed)) {
            continue;
        }
        size_t first = plan.first;
        size_t n = plan.count;
        if (box.evaluation_exhausted()) {
            ++m->summary->rules_run;
            ++m->rules[first].skipped;
            ++m->summary->failures;
            m->record(first, RuleOutcome::kSkipped, "evaluation budget spent");
            continue;
        }
        lua_rawgeti(L, LUA_REGISTRYINDEX, m->run_slot_ref);
        lua_pushlightuserdata(L, const_cast<Impl::SlotPlan*>(&plan));
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_pushvalue(L, 4);
        reset_reentry(m);
        box.enter_guarded();
        int rc = lua_pcall(L, 5, 2, 0);
        LuaCut cut = box.leave_guarded();
        if (rc == 0) {
            lua_Integer pos = lua_tointeger(L, -2);
            size_t ran = pos > 0 && static_cast<size_t>(pos) <= n ? static_cast<size_t>(pos) : n;
            for (size_t i = 0; i < ran; ++i) {
                ++m->rules[first + i].evaluations;
            }
            m->summary->rules_run += static_cast<uint32_t>(ran);
            if (pos > 0) {
                size_t idx = first + ran - 1;
                ++m->rules[idx].matches;
                int vars = lua_gettop(L);
                guarded(L, [&]() -> int {
                    std::string html;
                    html.reserve(m->templates[m->rule_tpl[idx]].literal_bytes() + 64);
                    render_template(L, m, m->rule_tpl[idx], vars, 1, html);
                    if (m->decision->set_slot(plan.name, std::move(html))) {
                        ++m->rules[idx].wins;
                        m->record(idx, RuleOutcome::kWon, "");
                    } else {
                        m->record(idx, RuleOutcome::kError, "decision is full (too many slots)");
                    }
                    return 0;
                });
            }
            lua_settop(L, 4);
            continue;
        }
        lua_rawgeti(L, 3, 1);
        lua_Integer pos = lua_tointeger(L, -1);
        lua_pop(L, 1);
        size_t ran = pos > 0 && static_cast<size_t>(pos) <= n ? static_cast<size_t>(pos) : 1;
        for (size_t i = 0; i < ran; ++i) {
            ++m->rules[first + i].evaluations;
        }
        m->summary->rules_run += static_cast<uint32_t>(ran);
        rule_failed(L, m, first + ran - 1, rc, cut);
        lua_settop(L, 4);
    }
    return 0;
}

// native.current_rule() -> the index of the rule whose code runs now
int native_current_rule(lua_State* L) {
    lua_pushinteger(L, static_cast<lua_Integer>(impl_of(L)->current_rule));
    return 1;
}

// native.assign(experiment index) -> variant name
int native_assign(lua_State* L) {
    Impl* m = impl_of(L);
    size_t e = check_index(L, 1, m->experiments.size(), "experiment");
    Assignment a = m->experiments[e].assign(m->facts->visitor_id);
    // the kit asks once per experiment and evaluation: bounded by the pack
    if (m->draws.size() < m->experiments.size()) {
        guarded(L, [&]() -> int {
            m->draws.push_back(ExperimentDraw{static_cast<uint32_t>(e),
                                              a.holdout ? kHoldoutDraw : a.variant_index});
            return 0;
        });
    }
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

namespace {

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

}  // namespace

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

}  // namespace rules_detail
}  // namespace tailor
