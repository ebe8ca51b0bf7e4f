// Engine: one configuration's decision maker; Personalization: what it decided for one request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "tailor/decision.h"
#include "tailor/outcome.h"
#include "tailor/profile_cache.h"

namespace tailor {

class SlotRewriter;

// RequestFacts
//
// What the request says about itself; views valid for the call only.
struct RequestFacts {
    std::string_view path;
    std::string_view query;
    std::string_view referer;
    std::string_view user_agent;
    int64_t now_ms = 0;
};

// RewriteStats
//
// What the rewriter did to one page, for the module's counters.
struct RewriteStats {
    size_t slots_filled = 0;
    size_t bailouts = 0;
};

// The rewriter's output, as bytes to copy out before the call returns.
using RewriteSinkFn = void (*)(void* data, const char* p, size_t n) noexcept;

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
    size_t max_profile_bytes = 256 * 1024;
};

// Engine
//
// Decides what a visitor sees from what Redis holds for them. Immutable after
// construction and shared by every request of a worker.
//
// Until rule packs are configured, a built-in decision applies: a profile
// attribute "slot:NAME" with a string value fills slot NAME with that text,
// HTML-escaped.
//
// Example:
//   Engine engine(EngineOptions{});
//   Personalization p;
//   Outcome o = engine.decide("vid", &stored, facts, p);  // kHit, kMiss or kBadProfile
class Engine {
  public:
    explicit Engine(EngineOptions options) noexcept : options_(options) {}

    // decide
    //
    // `stored` is null for a visitor with nothing stored yet (a new visitor).
    // Returns kHit when a profile was decoded and decided on, kMiss when none
    // is stored, kBadProfile when the stored one was rejected (the page keeps
    // its defaults).
    [[nodiscard]] Outcome decide(std::string_view vid, const StoredVisitor* stored,
                                 const RequestFacts& facts, Personalization& out) const noexcept;

  private:
    EngineOptions options_;
};

}  // namespace tailor
