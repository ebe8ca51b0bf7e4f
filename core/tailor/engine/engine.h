// Engine: one configuration's decision maker; Personalization: what it decided for one request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <optional>

#include "tailor/decision/decision.h"
#include "tailor/html/piece_origin.h"
#include "tailor/base/outcome.h"
#include "tailor/profile/cache.h"
#include "tailor/profile/profile.h"
#include "tailor/rules/pack.h"
#include "tailor/request/facts.h"

namespace tailor {

class RuleRuntime;
struct Profile;
struct PopupCaps;
class SlotRewriter;

// RewriteStats
//
// What the rewriter did to one page, for the module's counters.
struct RewriteStats {
    size_t slots_filled = 0;
    size_t bailouts = 0;
};

// The rewriter's output, in order: `p[0..n)` and where it lives. kInput
// points into the chunk being rewritten, kFill into this Personalization's
// decision (valid as long as it lives), kCarry into the rewriter (copy it
// before returning).
using RewriteSinkFn = void (*)(void* data, const char* p, size_t n, PieceOrigin origin) noexcept;

// Personalization
//
// One request's decision and, once the response is known to be rewritable,
// the rewriter streaming it. Owns everything the filters read.
//
// Example:
//   Personalization p;
//   engine.decide(vid, &stored, facts, p);
//   if (p.decision().changes_page()) { p.start_rewrite(); p.rewrite(chunk, sink, data); ... }
class Personalization {
  public:
    Personalization() noexcept;
    ~Personalization();
    Personalization(const Personalization&) = delete;
    Personalization& operator=(const Personalization&) = delete;

    [[nodiscard]] const Decision& decision() const noexcept { return decision_; }
    [[nodiscard]] Decision& decision() noexcept { return decision_; }

    // failed_rules
    //
    // Rules that errored or ran out of budget while deciding; their slots kept
    // their defaults.
    [[nodiscard]] size_t failed_rules() const noexcept { return failed_rules_; }

    // start_rewrite
    //
    // Creates the rewriter over the decision's fills and directives.
    // Example: p.start_rewrite(); p.holding() == false
    void start_rewrite();

    // rewrite
    //
    // Feeds one chunk of the page; output goes to `sink` as it is final.
    void rewrite(std::string_view chunk, RewriteSinkFn sink, void* data) noexcept;

    // finish_rewrite
    //
    // Ends the page: flushes what was held back, returns what was done.
    RewriteStats finish_rewrite(RewriteSinkFn sink, void* data) noexcept;

    // holding
    //
    // Whether the rewriter holds bytes back (a possible tag split across chunks).
    [[nodiscard]] bool holding() const noexcept;

  private:
    friend class Engine;

    Decision decision_;
    std::unique_ptr<SlotRewriter> rewriter_;
    size_t failed_rules_ = 0;
};

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
