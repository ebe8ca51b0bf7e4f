// DecisionMemo: one worker's bounded memo of the decisions made for visitors with nothing stored.
//
// Why it is sound. A visitor with nothing stored (a new visitor, no cookie,
// or a cookie with no profile, live data or caps in Redis yet) is decided on
// an empty Profile and empty caps. What else the rules can see is exactly
// what the runtime hands them, so a decision is a function of:
//
//   - the pack: the memo belongs to one Engine, which owns one pack for its
//     whole life (nginx makes a new Engine per configuration, so a reload
//     starts an empty memo), and the key carries the pack's generation too;
//   - the request facts (RequestFacts): the path, query, referrer source,
//     device class, logged-in flag, request-time consent, the whitelisted
//     cookies and the two pop-up paths are all in the key, byte for byte.
//     A static_assert on sizeof(RequestFacts) stops a new fact from slipping
//     past the key;
//   - the clock: rules see it only through `v.now` for an empty profile (the
//     view's other clock-derived fields, the natives and the pop-up policy
//     measure the profile's or caps' moments, and there are none);
//     EvalSummary::read_clock says whether it was read, and such a decision
//     is reused only within the same second (`now` is whole seconds);
//   - the visitor id: rules never see it; it reaches the decision only
//     through experiment draws (t.variant, rules with experiments). The
//     runtime lists the draws an evaluation made, in order, with their
//     variants; an entry is reused only when this visitor draws the same
//     variant in each of them. Evaluation is deterministic up to its first
//     draw, so the same facts always draw the same first experiment, and so
//     on: the entries for one set of facts form a tree of variants, kept
//     here as up to kMaxPerFacts entries with their draw lists;
//   - randomness: there is none to see. math.random is not in the sandbox,
//     os and io are not opened; rules cannot keep state between visitors
//     (issue 11: refused at load, frozen tables). The one leak is an
//     object's address (tostring of a table): a rule computing from it has
//     no defined result, and the memo returns one it did produce.
//
// Only evaluations that ran clean are kept: a rule error or a budget cut
// (instructions, time, memory) may depend on timing, and is not worth
// keeping anyway. Every bound holds as before: a miss runs the rules under
// the same sandbox; a hit runs no Lua at all.
//
// Bounds: at most `max_entries` entries (default kDefaultEntries), each at
// most kMaxEntryBytes (facts key plus the decision's strings), at most
// kMaxPerFacts per set of facts; the least recently used goes first. Facts
// longer than kMaxKeyBytes (a huge query string) are not memoized.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tailor/decision/decision.h"
#include "tailor/request/facts.h"
#include "tailor/rules/runtime.h"

namespace tailor {

// DecisionMemo
//
// Not thread-safe: one per worker (it lives in the worker's Engine).
//
// Example:
//   DecisionMemo memo(256, pack_generation);
//   std::string key;
//   if (memo.key(facts, &key)) {
//       if (const DecisionMemo::Entry* e = memo.find(key, facts.now, draw_fn)) { use e->decision }
//       else { evaluate; memo.insert(std::move(key), facts.now, summary, draws, decision, deltas);
//       }
//   }
class DecisionMemo {
  public:
    static constexpr size_t kDefaultEntries = 256;
    static constexpr size_t kMaxKeyBytes = 2048;
    static constexpr size_t kMaxEntryBytes = 16 * 1024;
    static constexpr size_t kMaxPerFacts = 8;

    struct Entry {
        std::string key;
        uint64_t hash = 0;
        bool clock = false;  // reuse only at `now`
        int64_t now = 0;
        std::vector<ExperimentDraw> draws;
        Decision decision;
        std::vector<RuleCountsDelta> counts;
        uint64_t last_used = 0;
    };

    // DrawFn: the variant the visitor of this request draws in an experiment.
    using DrawFn = uint32_t (*)(void* ctx, uint32_t experiment);

    // `max_entries` 0 turns the memo off (key() then refuses everything).
    DecisionMemo(size_t max_entries, uint64_t generation) noexcept;

    // key
    //
    // The memo key of `facts` (every fact but the visitor id and the
    // clock), or false when the memo is off or the facts are too long.
    //
    // Example:
    //   std::string k; memo.key(facts, &k);  // k holds path, query, ... length-prefixed
    [[nodiscard]] bool key(const RequestFacts& facts, std::string* out) const;

    // find
    //
    // The entry for `key` whose clock and draws fit this request, or null.
    // `draw(ctx, e)` is asked for each experiment an entry depends on.
    //
    // Example:
    //   const auto* e = memo.find(k, facts.now, &draw_of_vid, &ctx);
    [[nodiscard]] const Entry* find(std::string_view key, int64_t now, DrawFn draw, void* ctx);

    // insert
    //
    // Keeps a clean evaluation's decision (`summary.ok`, no failures; else
    // nothing is kept), replacing one with the same key and draws, and
    // evicting the least recently used past the bounds. Returns whether it
    // was kept.
    bool insert(std::string key, int64_t now, const EvalSummary& summary,
                const std::vector<ExperimentDraw>& draws, const Decision& decision,
                std::vector<RuleCountsDelta> counts);

    [[nodiscard]] size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] bool enabled() const noexcept { return max_entries_ > 0; }

  private:
    void erase(size_t i);
    [[nodiscard]] size_t least_recent(uint64_t hash, std::string_view key, size_t* same) const;

    size_t max_entries_;
    uint64_t generation_;
    uint64_t tick_ = 0;
    std::vector<Entry> entries_;
    std::unordered_multimap<uint64_t, size_t> index_;  // hash -> position in entries_
};

}  // namespace tailor
