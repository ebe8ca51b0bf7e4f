// natives.h: internal to the rule runtime (runtime.cpp, load.cpp and the
// natives_*.cpp files): the runtime's state and the helpers the native
// functions share. Not part of core's API; nothing outside the runtime
// includes it.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <lua.hpp>

#include "tailor/decision/experiment.h"
#include "tailor/rules/lua_sandbox.h"
#include "tailor/rules/visitor_view.h"
#include "tailor/popup/policy.h"
#include "tailor/rules/runtime.h"
#include "tailor/html/template.h"

namespace tailor {

struct RuleRuntime::Impl {
    std::unique_ptr<LuaSandbox> sandbox;
    LuaVisitorView view;
    std::vector<Template> templates;
    std::vector<Experiment> experiments;
    std::vector<RuleStats> rules;
    const RulePack* loading_kit = nullptr;
    int c_depth = 0;             // nested calls from C back into rule code (natives_string.cpp)
    int frozen_ref = LUA_NOREF;  // weak set of the pack's tables table functions refuse  // while
                                 // the kit's entry file runs
    int runtime_ref = LUA_NOREF;
    int evaluate_ref = LUA_NOREF;
    int eval_entry_ref = LUA_NOREF;  // rules_detail::eval_entry as a Lua function
    int trusted_ref = LUA_NOREF;
    int trusted_text_ref = LUA_NOREF;

    // The first part of every placeholder name of every template, interned
    // once after loading (names_ref: a Lua array of them), so rendering
    // reads a key with lua_rawgeti instead of hashing it again per request.
    // render_names[tpl] is in the order Template::render asks for them.
    struct RenderName {
        const char* data;  // the name as the template hands it over
        size_t size;
        int slot;    // in names_ref, 0 for a name to push afresh
        bool field;  // LuaVisitorView::is_field(name), asked once
    };
    std::vector<std::vector<RenderName>> render_names;
    int names_ref = LUA_NOREF;

    // The slots in evaluation order, for native.run_slots: each slot's rules
    // are rules[first, first + count) (registered slot by slot).
    struct SlotPlan {
        std::string name;
        bool promotional = true;
        size_t first = 0;
        size_t count = 0;
    };
    std::vector<SlotPlan> slot_plans;
    std::vector<size_t> rule_tpl;    // by rule index: its template
    int checks_ref = LUA_NOREF;      // Lua array: [index + 1] = the rule's check(v)
    int variant_of_ref = LUA_NOREF;  // the kit's variant_of(experiment, index)
    int run_slot_ref = LUA_NOREF;    // slots_body as a Lua function, made once
    int winners_ref = LUA_NOREF;     // Lua array, [plan + 1] = the slot winner's vars

    // native.run_slots' walk, per evaluation: the plan it is at, the
    // position (1-based) of the rule running in it (0: none yet), and each
    // plan's winning position (0: none), rendered once the walk is done.
    size_t slot_next = 0;
    size_t slot_rule = 0;
    std::vector<size_t> slot_won;

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
    bool popup_experiments = false;            // some pop-up is an experiment's variant
    std::vector<PopupCandidate> popup_whatif;  // an experiment's exposure check, reused
    std::vector<PopupVerdict> popup_whatif_verdicts;
    const PopupCaps* caps = nullptr;  // null: the caps blob was refused

    // native.recommend's candidates and items, reused: the call copies its html into Lua,
    // so neither outlives it, and their room stays for the next call.
    std::vector<std::string_view> recommend_picked;
    std::string recommend_html;

    // Per evaluation.
    std::vector<ExperimentDraw> draws;  // native.assign, in order
    size_t current_rule = 0;            // the rule whose code runs (t.variant's exposures)
    bool clock_read = false;            // a native measured against facts->now
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
        const RuleInfo& info = rules[idx].info;
        errors.push_back({info.id, outcome, message, info.file, info.line, idx});
    }
};

namespace rules_detail {

using Impl = RuleRuntime::Impl;

// The sandbox's string functions (natives_string.cpp, docs/rules.md):
// subjects and patterns longer than these are refused, string.rep's result
// is capped, and calls from C back into rule code (gsub's function,
// table.sort's comparator) nest at most kMaxReentry deep.
inline constexpr size_t kMaxPatternSubject = 4096;
inline constexpr size_t kMaxPattern = 128;
inline constexpr size_t kMaxRepBytes = 64 * 1024;
inline constexpr int kMaxReentry = 8;

inline Impl* impl_of(lua_State* L) {
    return static_cast<Impl*>(lua_touserdata(L, lua_upvalueindex(1)));
}

inline std::string_view check_sv(lua_State* L, int idx) {
    size_t len = 0;
    const char* s = luaL_checklstring(L, idx, &len);
    return std::string_view(s, len);
}

inline size_t check_index(lua_State* L, int idx, size_t size, const char* what) {
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

// The Profile behind the view at stack index 1, or a Lua error outside its evaluation.
const Profile& checked_profile(lua_State* L, Impl* m);

// Renders template `tpl` with the rule's vars (stack index, or 0) and the
// visitor view (stack index, or 0) into `out`.
void render_template(lua_State* L, Impl* m, size_t tpl, int vars, int view, std::string& out);

// natives_declare.cpp: what the kit declares while a pack loads.
int native_kit_module(lua_State* L);
int native_init(lua_State* L);
int native_compile(lua_State* L);
int native_template_names(lua_State* L);
int native_view_field(lua_State* L);
int native_experiment(lua_State* L);
int native_register_rule(lua_State* L);

// natives_run.cpp: running rules under the budgets and recording the outcome.
int native_run(lua_State* L);
int native_plan(lua_State* L);
int native_run_slots(lua_State* L);
int native_current_rule(lua_State* L);
int native_assign(lua_State* L);
int native_expose(lua_State* L);
int native_set_var(lua_State* L);
int native_note(lua_State* L);

// natives_render.cpp: filling a slot from a template.
int native_fill(lua_State* L);
int native_render(lua_State* L);

// natives_string.cpp: the bounded string functions, and the re-entry count
// reset before each rule (an error unwinds past its decrements).
int native_bounded_string(lua_State* L);
int native_freeze_table(lua_State* L);
void reset_reentry(Impl* m) noexcept;

// natives_kit.cpp: what the kit reads from the profile natively.
int native_recommend(lua_State* L);
int native_due_consumable(lua_State* L);
int native_flags(lua_State* L);
int native_loyalty(lua_State* L);
int native_affinity(lua_State* L);
int native_request(lua_State* L);

// natives_popup.cpp: declaring pop-ups and choosing one.
int native_popup(lua_State* L);
int native_popup_options(lua_State* L);
int native_choose_popup(lua_State* L);

// natives_render.cpp: interns every template's placeholder names (after
// loading, when the templates are final); raises on a memory error.
int prepare_render_names(lua_State* L);

// load.cpp: the kit and the pack's files into `m`'s new sandbox; false
// with `*error` filled (file:line of the pack when known).
bool load(Impl* m, const RulePack& pack, RulesError* error);

// runtime.cpp: one evaluation inside its protected call (1: the EvalArgs).
int eval_entry(lua_State* L);

// The error message on top of the stack, popped.
std::string pop_message(lua_State* L);

}  // namespace rules_detail
}  // namespace tailor
