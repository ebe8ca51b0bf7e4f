// The natives that run rules under the sandbox's budgets and record what they decided.
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
    reset_reentry(m);
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
