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

// Every slot's rules from plan m->slot_next on, in one protected call: stack
// 1 v, 2 the checks, 3 variant_of, 4 the winners' vars, 5 suppressed. The
// same walk the kit's tracing path makes rule by rule: first match wins
// unless its experiment sends the visitor elsewhere. The winner's vars go to
// winners[plan + 1] and its position to slot_won; rendering waits until the
// walk is done (native_run_slots). A rule that errors unwinds the whole
// call; m->slot_next and m->slot_rule say which rule it was, its slot keeps
// its default, and native_run_slots calls again from the next slot. Nothing
// here allocates outside the rules' own code.
int slots_body(lua_State* L) {
    Impl* m = impl_of(L);
    LuaSandbox& box = *m->sandbox;
    bool suppressed = lua_toboolean(L, 5) != 0;
    for (; m->slot_next < m->slot_plans.size(); ++m->slot_next) {
        const Impl::SlotPlan& plan = m->slot_plans[m->slot_next];
        m->slot_rule = 0;
        if (plan.count == 0 || (plan.promotional && suppressed)) {
            continue;
        }
        if (box.evaluation_exhausted()) {
            ++m->summary->rules_run;
            ++m->rules[plan.first].skipped;
            ++m->summary->failures;
            continue;
        }
        size_t won = 0;
        for (size_t ri = 1; ri <= plan.count && won == 0; ++ri) {
            size_t idx = plan.first + ri - 1;
            m->slot_rule = ri;
            m->current_rule = idx;
            ++m->rules[idx].evaluations;
            ++m->summary->rules_run;
            box.next_rule();
            lua_rawgeti(L, 2, static_cast<int>(idx + 1));
            lua_pushvalue(L, 1);
            lua_call(L, 1, 2);
            if (lua_toboolean(L, -2)) {
                const RuleInfo& info = m->rules[idx].info;
                bool here = info.experiment.empty();
                if (!here) {
                    lua_pushvalue(L, 3);
                    lua_pushlstring(L, info.experiment.data(), info.experiment.size());
                    lua_pushinteger(L, static_cast<lua_Integer>(idx));
                    lua_call(L, 2, 1);
                    size_t len = 0;
                    const char* variant = lua_tolstring(L, -1, &len);
                    here = variant != nullptr && std::string_view(variant, len) == info.variant;
                    lua_pop(L, 1);
                }
                ++m->rules[idx].matches;  // here, or matched with the visitor elsewhere
                if (here) {
                    lua_rawseti(L, 4, static_cast<int>(m->slot_next + 1));  // the vars
                    won = ri;
                }
            }
            lua_settop(L, 5);
        }
        m->slot_won[m->slot_next] = won;
    }
    return 0;
}

}  // namespace

// native.run_slots(v, suppressed): every slot's rules, as the kit's tracing
// walk would decide them, in one protected call under the per-rule budgets
// (one more per rule that fails), then each winner's template filled
// straight into the decision, slot by slot. A promotional slot is skipped
// while `suppressed` is a reason.
int native_run_slots(lua_State* L) {
    Impl* m = impl_of(L);
    bool suppressed = lua_toboolean(L, 2) != 0;
    lua_settop(L, 1);
    LuaSandbox& box = *m->sandbox;
    size_t plans = m->slot_plans.size();
    if (m->run_slot_ref == LUA_NOREF) {
        lua_pushlightuserdata(L, m);
        lua_pushcclosure(L, slots_body, 1);
        m->run_slot_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        // an array part for every plan: storing a winner allocates nothing
        lua_createtable(L, static_cast<int>(plans), 0);
        m->winners_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (m->slot_won.size() != plans) {
        guarded(L, [&]() -> int {
            m->slot_won.assign(plans, 0);
            return 0;
        });
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->checks_ref);      // 2
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->variant_of_ref);  // 3
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->winners_ref);     // 4
    std::fill(m->slot_won.begin(), m->slot_won.end(), 0);
    m->slot_next = 0;
    while (m->slot_next < plans) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, m->run_slot_ref);
        lua_pushvalue(L, 1);
        lua_pushvalue(L, 2);
        lua_pushvalue(L, 3);
        lua_pushvalue(L, 4);
        lua_pushboolean(L, suppressed ? 1 : 0);
        reset_reentry(m);
        box.enter_guarded();
        int rc = lua_pcall(L, 5, 0, 0);
        LuaCut cut = box.leave_guarded();
        if (rc == 0) {
            break;
        }
        // the rule at (slot_next, slot_rule) failed: its slot keeps its default
        const Impl::SlotPlan& plan = m->slot_plans[m->slot_next];
        size_t ran = m->slot_rule > 0 && m->slot_rule <= plan.count ? m->slot_rule : 1;
        if (m->slot_rule == 0) {  // not counted by the walk yet
            ++m->rules[plan.first].evaluations;
            ++m->summary->rules_run;
        }
        rule_failed(L, m, plan.first + ran - 1, rc, cut);
        lua_settop(L, 4);
        ++m->slot_next;
    }
    for (size_t i = 0; i < plans; ++i) {
        if (m->slot_won[i] == 0) {
            continue;
        }
        const Impl::SlotPlan& plan = m->slot_plans[i];
        size_t idx = plan.first + m->slot_won[i] - 1;
        lua_rawgeti(L, 4, static_cast<int>(i + 1));
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
        lua_settop(L, 4);
        lua_pushnil(L);  // the vars are the next visitor's garbage, not a leak
        lua_rawseti(L, 4, static_cast<int>(i + 1));
    }
    if (m->popups.empty()) {
        box.pause_hook();  // only the kit's segment and variables are left
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
