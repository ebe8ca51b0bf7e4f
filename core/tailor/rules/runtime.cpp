// RuleRuntime: creating one (load.cpp does the loading) and evaluate(); the natives the kit
// calls are in natives_*.cpp.
#include "tailor/rules/runtime.h"

#include <exception>
#include <string_view>
#include <utility>

#include <lua.hpp>

#include "tailor/rules/natives.h"

namespace tailor {
namespace rules_detail {
namespace {

struct EvalArgs {
    Impl* m;
    const Profile* profile;
    bool tracing;
};

}  // namespace

// Inside a protected call, because building the view may raise.
int eval_entry(lua_State* L) {
    auto* args = static_cast<EvalArgs*>(lua_touserdata(L, 1));
    lua_rawgeti(L, LUA_REGISTRYINDEX, args->m->evaluate_ref);
    args->m->view.push(L, *args->profile, *args->m->facts);
    lua_pushboolean(L, args->tracing ? 1 : 0);
    lua_call(L, 2, 0);
    return 0;
}

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
    m->draws.clear();
    m->clock_read = false;
    int top = lua_gettop(L);
    // a trace runs every rule in its own guarded call: arming the hook per
    // call would cost it more than the kit code it saves
    m->sandbox->begin_evaluation(trace == nullptr);
    EvalArgs args{m, &profile, trace != nullptr};
    lua_rawgeti(L, LUA_REGISTRYINDEX, m->eval_entry_ref);
    lua_pushlightuserdata(L, &args);
    int rc = lua_pcall(L, 1, 0, 0);
    m->view.invalidate(L);
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
    summary.read_clock = m->clock_read || m->view.clock_read();
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

bool RuleRuntime::has_popups() const noexcept {
    return !impl_->popups.empty();
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

const std::vector<Experiment>& RuleRuntime::experiments() const noexcept {
    return impl_->experiments;
}

const std::vector<ExperimentDraw>& RuleRuntime::draws() const noexcept {
    return impl_->draws;
}

uint32_t RuleRuntime::draw(uint32_t experiment, std::string_view vid) const noexcept {
    if (experiment >= impl_->experiments.size()) {
        return kHoldoutDraw;
    }
    Assignment a = impl_->experiments[experiment].assign(vid);
    return a.holdout ? kHoldoutDraw : a.variant_index;
}

std::vector<uint64_t> RuleRuntime::count_snapshot() const {
    std::vector<uint64_t> counts;
    counts.reserve(3 * impl_->rules.size());
    for (const RuleStats& r : impl_->rules) {
        counts.push_back(r.evaluations);
        counts.push_back(r.matches);
        counts.push_back(r.wins);
    }
    return counts;
}

std::vector<RuleCountsDelta> RuleRuntime::counts_since(const std::vector<uint64_t>& before) const {
    std::vector<RuleCountsDelta> deltas;
    for (size_t i = 0; i < impl_->rules.size() && 3 * i + 2 < before.size(); ++i) {
        const RuleStats& r = impl_->rules[i];
        RuleCountsDelta d;
        d.rule = static_cast<uint32_t>(i);
        d.evaluations = static_cast<uint32_t>(r.evaluations - before[3 * i]);
        d.matches = static_cast<uint32_t>(r.matches - before[3 * i + 1]);
        d.wins = static_cast<uint32_t>(r.wins - before[3 * i + 2]);
        if (d.evaluations != 0 || d.matches != 0 || d.wins != 0) {
            deltas.push_back(d);
        }
    }
    return deltas;
}

void RuleRuntime::credit(const std::vector<RuleCountsDelta>& deltas) noexcept {
    for (const RuleCountsDelta& d : deltas) {
        if (d.rule < impl_->rules.size()) {
            RuleStats& r = impl_->rules[d.rule];
            r.evaluations += d.evaluations;
            r.matches += d.matches;
            r.wins += d.wins;
        }
    }
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