// Engine: one configuration's decision maker (Personalization, what it decided, is beside it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <optional>

#include "tailor/decision/decision.h"
#include "tailor/engine/decision_memo.h"
#include "tailor/engine/personalization.h"
#include "tailor/base/outcome.h"
#include "tailor/profile/cache.h"
#include "tailor/profile/decode.h"
#include "tailor/profile/profile.h"
#include "tailor/rules/pack.h"
#include "tailor/request/facts.h"

namespace tailor {

class RuleRuntime;
struct Profile;
struct PopupCaps;

// EngineOptions
//
// The limits an operator sets in nginx.conf.
struct EngineOptions {
    size_t max_profile_bytes = kMaxProfileBytes;
    // Decisions kept per worker for visitors with nothing stored
    // (engine/decision_memo.h); 0 runs the rules for every one of them.
    size_t memo_entries = DecisionMemo::kDefaultEntries;
};

// Engine
//
// Decides what a visitor sees from what Redis holds for them, with the rule
// pack compiled at configuration time. Without a pack a built-in decision
// applies: a profile attribute "slot:NAME" with a string value fills slot
// NAME with that text, HTML-escaped.
//
// The pack is shared; the LuaJIT state that runs it is per process, made by
// start_worker() (an nginx worker after fork, or tailorctl).
//
// Example:
//   Engine engine(EngineOptions{}, std::move(pack));
//   engine.start_worker(&error);
//   Personalization p;
//   Outcome o = engine.decide(&stored, facts, p);  // kHit, kMiss or kBadProfile
class Engine {
  public:
    Engine(EngineOptions options, std::optional<RulePack> rules) noexcept;
    ~Engine();
    Engine(Engine&&) noexcept;
    Engine& operator=(Engine&&) noexcept;

    // start_worker
    //
    // Creates this process's rule runtime. False (and `error` says why) when
    // the pack cannot be loaded; decisions then leave every page default.
    [[nodiscard]] bool start_worker(RulesError* error) noexcept;

    // decide
    //
    // `stored` is null for a visitor with nothing stored yet (a new visitor:
    // rules still run, on an empty profile). Returns kHit when a stored
    // profile was decoded and decided on, kMiss when none is stored,
    // kBadProfile when the stored one was refused (the page keeps its
    // defaults). Rule failures do not change the outcome; they are counted
    // in `out.failed_rules()`. A visitor with nothing stored gets the
    // memoized decision for the same facts when there is one
    // (`out.memo_hit()`; decision_memo.h says why that is the same decision).
    [[nodiscard]] Outcome decide(const StoredView* stored, const RequestFacts& facts,
                                 Personalization& out) noexcept;
    [[nodiscard]] Outcome decide(std::nullptr_t, const RequestFacts& facts,
                                 Personalization& out) noexcept {
        return decide(static_cast<const StoredView*>(nullptr), facts, out);
    }
    // The same, from the owned copy the profile cache keeps.
    [[nodiscard]] Outcome decide(const StoredVisitor* stored, const RequestFacts& facts,
                                 Personalization& out) noexcept {
        if (stored == nullptr) {
            return decide(static_cast<const StoredView*>(nullptr), facts, out);
        }
        const StoredView view = stored->view();
        return decide(&view, facts, out);
    }

    [[nodiscard]] bool has_rules() const noexcept { return rules_.has_value(); }

    // runtime
    //
    // This process's rule runtime (per-rule counters), or null.
    [[nodiscard]] const RuleRuntime* runtime() const noexcept { return runtime_.get(); }
    // The same, to take its queued errors (RuleRuntime::take_errors).
    [[nodiscard]] RuleRuntime* runtime() noexcept { return runtime_.get(); }

    // True when this worker's pack declares the pop-up `id`.
    [[nodiscard]] bool has_popup(std::string_view id) const noexcept;

    // True when this worker's pack declares any pop-up: only then do its decisions read the
    // caps (a visitor read may leave them out otherwise: store/visitor_read.h).
    [[nodiscard]] bool has_popups() const noexcept {
        return runtime_ != nullptr && runtime_->has_popups();
    }

    // Decisions for visitors with nothing stored, reused and run, since the
    // worker started.
    [[nodiscard]] uint64_t memo_hits() const noexcept { return memo_hits_; }
    [[nodiscard]] uint64_t memo_misses() const noexcept { return memo_misses_; }

  private:
    EvalSummary run_rules(const Profile& profile, const RequestFacts& facts, const PopupCaps* caps,
                          Personalization& out);
    [[nodiscard]] bool decide_memoized(const RequestFacts& facts, Personalization& out);

    EngineOptions options_;
    std::optional<RulePack> rules_;
    std::unique_ptr<RuleRuntime> runtime_;
    std::unique_ptr<DecisionMemo> memo_;  // with the runtime, per worker
    ProfileDecoder decoder_;              // its lists' room kept from one page view to the next
    uint64_t memo_hits_ = 0;
    uint64_t memo_misses_ = 0;
};

}  // namespace tailor
