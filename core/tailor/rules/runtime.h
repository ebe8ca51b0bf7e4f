// RuleRuntime: one worker's LuaJIT state running a RulePack for each request, failing open.
//
// Lifetime and threading: create one per worker process (or per thread) at
// worker start from a RulePack; it copies what it needs, so the pack may go
// away. It is not thread-safe. evaluate() never throws and never leaves the
// state unusable: a rule that errors, loops past its budget or runs out of
// memory leaves its slot with the page's default, is counted on that rule,
// and the next slots and the next requests run as usual.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tailor/decision/decision.h"
#include "tailor/decision/experiment.h"
#include "tailor/popup/caps.h"
#include "tailor/profile/profile.h"
#include "tailor/rules/pack.h"
#include "tailor/request/facts.h"

namespace tailor {

// RuleOutcome
//
// What happened to one rule in one evaluation (explain output and logs).
enum class RuleOutcome : unsigned char {
    kWon = 0,       // it filled its slot
    kNoMatch,       // its `when` (or the built-in's own test) said no
    kOtherVariant,  // matched, but the visitor is in another variant
    kHoldout,       // matched, but the visitor is in the experiment's holdout
    kSuppressed,    // the slot is promotional and promotions are off
    kNotReached,    // a higher-priority rule already decided the slot
    kError,         // it raised an error
    kBudget,        // it ran past its instruction or time budget
    kMemory,        // the state hit its memory ceiling while it ran
    kSkipped,       // the evaluation's budget was already spent
    kCapped,        // a pop-up whose caps say no (detail: cap-per-day, cooldown, ...)
    kExcluded,      // a pop-up whose exclusions say no (detail: recent-purchase, ...)
};

// rule_outcome_name
//
// Example:
//   rule_outcome_name(RuleOutcome::kOtherVariant) == "other-variant"
[[nodiscard]] const char* rule_outcome_name(RuleOutcome outcome) noexcept;

// RuleStats
//
// Counters of one rule since the runtime started; the glue exports them.
struct RuleStats {
    RuleInfo info;
    uint64_t evaluations = 0;  // times its test ran
    uint64_t matches = 0;      // times its test said yes
    uint64_t wins = 0;         // times it filled its slot
    uint64_t errors = 0;
    uint64_t budget_cuts = 0;
    uint64_t memory_errors = 0;
    uint64_t skipped = 0;
};

// RuleTraceEntry / RuleTrace
//
// Every rule's outcome in one evaluation, in evaluation order; for
// `tailorctl ... --explain` and `rules test`. `detail` is the variant, the
// suppression reason or the error message.
struct RuleTraceEntry {
    std::string slot;
    std::string rule;
    RuleOutcome outcome = RuleOutcome::kNoMatch;
    std::string detail;
};

struct RuleTrace {
    std::vector<RuleTraceEntry> entries;
};

// RuleErrorEvent
//
// One failed rule, queued for the glue to log at its own (rate-limited) pace:
// the rule's id, where the pack declares it (`file`:`line`, as RuleInfo), what
// went wrong (kError, kBudget or kMemory) and the error text (for kError
// usually "file:line: reason" of the failing expression).
struct RuleErrorEvent {
    std::string rule;
    RuleOutcome outcome = RuleOutcome::kError;
    std::string message;
    std::string file;
    int line = 0;
    size_t index = 0;  // the rule's position in the pack's RuleInfo order (rule_stats())
};

// EvalSummary
//
// What one evaluation did. `ok` is false only when the kit itself failed
// (memory ceiling between rules); the decision then holds what was decided
// before that point, which is still consistent slot by slot.
struct EvalSummary {
    bool ok = true;
    uint32_t rules_run = 0;
    uint32_t failures = 0;  // errors + budget cuts + memory errors + skipped
    // The decision may depend on `facts.now`: a rule or template read
    // `v.now`, or the profile or caps hold a moment the view, a native or
    // the pop-up policy measured against now (days since the last order,
    // points expiry, a cooldown, ...). False for an empty profile and caps
    // unless `v.now` was read.
    bool read_clock = false;
    std::string error;  // when !ok
};

// ExperimentDraw
//
// One experiment an evaluation asked a visitor's variant of, in the order
// asked: the decision depends on the visitor id through these only.
struct ExperimentDraw {
    uint32_t experiment = 0;  // the pack's experiment index
    uint32_t variant = 0;     // kHoldoutDraw for the holdout
};
inline constexpr uint32_t kHoldoutDraw = 0xffffffffu;

// RuleCountsDelta
//
// What one evaluation added to one rule's counters; a memoized decision
// credits them again (RuleRuntime::credit), so per-rule numbers still count
// every page the rule decided.
struct RuleCountsDelta {
    uint32_t rule = 0;
    uint32_t evaluations = 0;
    uint32_t matches = 0;
    uint32_t wins = 0;
};

// RuleRuntime
//
// Example:
//   RulesError err;
//   auto rt = RuleRuntime::create(*pack, &err);        // worker start
//   Decision d;
//   EvalSummary s = rt->evaluate(profile, facts, &d);  // access phase
//   // d.slot("hero") == "<p>Welcome back, Ann</p>"; d.variable("segment") == "vip"
class RuleRuntime {
  public:
    // Pending error events kept for take_errors(); older ones are dropped.
    static constexpr size_t kMaxPendingErrors = 64;

    // create
    //
    // A new state with the pack loaded. Fails (null, `*error` filled) only if
    // the pack would not compile either, or memory is short.
    //
    // Example:
    //   auto rt = RuleRuntime::create(pack, &err);
    [[nodiscard]] static std::unique_ptr<RuleRuntime> create(const RulePack& pack,
                                                             RulesError* error) noexcept;

    ~RuleRuntime();
    RuleRuntime(const RuleRuntime&) = delete;
    RuleRuntime& operator=(const RuleRuntime&) = delete;

    // evaluate
    //
    // Runs the pack for one visitor and fills `out` (slots, the variables
    // `segment`, `suppressed`, `exp_<name>`, and exposures); `profile` is the
    // decoded profile (a default Profile for an unknown visitor). `profile`
    // and `facts` are only read during the call. With `trace`, every rule's
    // outcome is recorded (slower; for previews). Never throws.
    //
    // Example:
    //   Decision d;
    //   auto s = rt->evaluate(p, f, &d);  // s.ok, d.fills() ready for the rewriter
    [[nodiscard]] EvalSummary evaluate(const Profile& profile, const RequestFacts& facts,
                                       Decision* out, RuleTrace* trace = nullptr) noexcept;

    // evaluate (with pop-up caps)
    //
    // As above, with the visitor's decoded `tailor:{vid}:caps` for the
    // pack's pop-ups (docs/popups.md): at most one is chosen and written to
    // `out` as the directives JSON, an exposure (rule = the pop-up's id,
    // experiment "popup", variant "offered") and the variable `popup`. A
    // null `caps` means the blob was refused: no pop-up is shown. The
    // overload above decides as for a visitor with no caps recorded.
    //
    // Example:
    //   auto c = decode_popup_caps(stored.caps.bytes);
    //   auto s = rt->evaluate(p, f, c.error == PopupCapsError::kNone ? &c.caps : nullptr, &d);
    [[nodiscard]] EvalSummary evaluate(const Profile& profile, const RequestFacts& facts,
                                       const PopupCaps* caps, Decision* out,
                                       RuleTrace* trace = nullptr) noexcept;

    // has_popup
    //
    // True when the pack declares a pop-up with this id (the beacon refuses
    // reports about any other).
    //
    // Example:
    //   rt->has_popup("cart-rescue")
    [[nodiscard]] bool has_popup(std::string_view id) const noexcept;

    // has_popups
    //
    // Whether the pack declares any pop-up: without one, nothing reads the caps.
    [[nodiscard]] bool has_popups() const noexcept;

    // rule_stats
    //
    // Per-rule counters, in evaluation order (the pack's RuleInfo order).
    //
    // Example:
    //   for (auto& r : rt->rule_stats()) printf("%s %llu\n", r.info.id.c_str(), r.wins);
    [[nodiscard]] const std::vector<RuleStats>& rule_stats() const noexcept;

    // take_errors
    //
    // Moves the pending error events into `*out` (appending) and returns how
    // many were dropped since the last call because the queue was full.
    //
    // Example:
    //   std::vector<RuleErrorEvent> ev;
    //   size_t dropped = rt->take_errors(&ev);
    size_t take_errors(std::vector<RuleErrorEvent>* out);

    // experiments
    //
    // Every experiment the pack declares (t.experiment), with its variants in
    // split order; the index is the one ExperimentDraw::experiment names.
    //
    // Example:
    //   rt->experiments()[0].spec().variants[0].name  // "a"
    [[nodiscard]] const std::vector<Experiment>& experiments() const noexcept;

    // draws
    //
    // The experiments the last evaluation drew a variant from, in order.
    //
    // Example:
    //   for (const ExperimentDraw& d : rt->draws()) { ... rt->draw(d.experiment, vid) ... }
    [[nodiscard]] const std::vector<ExperimentDraw>& draws() const noexcept;

    // draw
    //
    // The variant (kHoldoutDraw for the holdout) visitor `vid` gets in
    // experiment `experiment`: what the evaluation would draw. The
    // experiment index must come from draws().
    //
    // Example:
    //   rt->draw(0, "b7c1a0d2e3f4") == rt->draws()[0].variant  // same vid
    [[nodiscard]] uint32_t draw(uint32_t experiment, std::string_view vid) const noexcept;

    // count_snapshot / credit
    //
    // count_snapshot() is every rule's (evaluations, matches, wins) now;
    // counts_since() turns an earlier snapshot into the deltas; credit()
    // adds deltas again, for a decision reused without running the rules.
    //
    // Example:
    //   auto before = rt->count_snapshot(); (void)rt->evaluate(...);
    //   auto d = rt->counts_since(before);  ...  rt->credit(d);
    [[nodiscard]] std::vector<uint64_t> count_snapshot() const;
    [[nodiscard]] std::vector<RuleCountsDelta> counts_since(
        const std::vector<uint64_t>& before) const;
    void credit(const std::vector<RuleCountsDelta>& deltas) noexcept;

    // Evaluations run, evaluations where the kit failed, and the state's
    // memory now and at its peak, in bytes.
    [[nodiscard]] uint64_t evaluations() const noexcept;
    [[nodiscard]] uint64_t failed_evaluations() const noexcept;
    [[nodiscard]] size_t memory_used() const noexcept;
    [[nodiscard]] size_t memory_peak() const noexcept;

    struct Impl;

  private:
    explicit RuleRuntime(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace tailor
