// Personalization: what the engine decided for one request, and the rewriter that applies it.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "tailor/decision/decision.h"
#include "tailor/html/piece_origin.h"

namespace tailor {

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
//   engine.decide(&stored, facts, p);
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

    // add_failed_rules
    //
    // Counts rules that failed while deciding (the engine calls it).
    void add_failed_rules(size_t n) noexcept { failed_rules_ += n; }

    // memo_hit
    //
    // Whether the decision was reused from an earlier visitor with the same
    // facts and nothing stored (engine/decision_memo.h): no rule ran.
    [[nodiscard]] bool memo_hit() const noexcept { return memo_hit_; }
    void set_memo_hit() noexcept { memo_hit_ = true; }

  private:
    Decision decision_;
    std::unique_ptr<SlotRewriter> rewriter_;
    size_t failed_rules_ = 0;
    bool memo_hit_ = false;
};

}  // namespace tailor
