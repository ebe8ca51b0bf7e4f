// Engine: one configuration's decision maker (Personalization, what it decided, is beside it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <optional>

#include "tailor/decision/decision.h"
#include "tailor/engine/personalization.h"
#include "tailor/base/outcome.h"
#include "tailor/profile/cache.h"
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
    // in `out.failed_rules()`.
    [[nodiscard]] Outcome decide(const StoredVisitor* stored, const RequestFacts& facts,
                                 Personalization& out) noexcept;

    [[nodiscard]] bool has_rules() const noexcept { return rules_.has_value(); }

    // runtime
    //
    // This process's rule runtime (per-rule counters), or null.
    [[nodiscard]] const RuleRuntime* runtime() const noexcept { return runtime_.get(); }
    // The same, to take its queued errors (RuleRuntime::take_errors).
    [[nodiscard]] RuleRuntime* runtime() noexcept { return runtime_.get(); }

    // True when this worker's pack declares the pop-up `id`.
    [[nodiscard]] bool has_popup(std::string_view id) const noexcept;

  private:
    void run_rules(const Profile& profile, const RequestFacts& facts, const PopupCaps* caps,
                   Personalization& out);

    EngineOptions options_;
    std::optional<RulePack> rules_;
    std::unique_ptr<RuleRuntime> runtime_;
};

}  // namespace tailor
