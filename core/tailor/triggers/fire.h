// decide_triggers: at a visitor's check time, which triggers fire and which are suppressed, why.
//
// The rules (docs/triggers.md): an order on any linked id after the activity
// suppresses cart and browse abandonment (re-checked here, at fire time, so
// an order that arrived after the trigger was scheduled still counts);
// nothing fires for a bot; profile flags (open return, open complaint,
// unsubscribed) exclude; a denied email consent excludes (an unknown one too
// with require_email_consent); at most cap_per_day and cap_per_week triggers
// per person, all triggers and linked ids together; a trigger overdue by
// more than stale_after is dropped. A suppressed trigger is decided as much
// as a sent one: it is never reconsidered for the same activity.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tailor/profile/profile.h"
#include "tailor/triggers/config.h"
#include "tailor/triggers/record.h"
#include "tailor/triggers/state.h"

namespace tailor {

// FireContext
//
// What the caller read for this check besides the visitor's own state.
struct FireContext {
    std::string vid;
    std::string customer_id;  // known id (the `into` of vid, or vid itself when ids merged into it)
    int64_t linked_order_at = 0;  // latest order over every linked id, ms
    bool linked_bot = false;      // any linked id is a bot
    bool excluded = false;        // a profile flag is set
    ConsentFlag email_consent = ConsentFlag::kUnknown;
    std::vector<std::pair<std::string, int64_t>> replenish_due;  // sku -> due ms (profile)
    std::vector<std::string> purchased;                          // skus ever bought (profile)
    std::map<std::string, double> catalog_prices;                // sku -> current price
};

// add_profile_facts
//
// Folds one decoded profile (the visitor's or its known id's) into the
// context: flags, the email consent (a denial anywhere wins), the last order,
// purchases and their replenishment due dates.
void add_profile_facts(const Profile& profile, FireContext* ctx);

// Suppression of one decided trigger, for the run's counters.
struct SuppressedTrigger {
    TriggerKind kind;
    std::string reason;  // "ordered", "in_cart", "bot", "excluded", "no_consent", "capped",
                         // "stale", "purchased"
};

struct FireDecision {
    std::vector<TriggerRecord> records;
    std::vector<SuppressedTrigger> suppressed;
};

// decide_triggers
//
// Decides every trigger of `state` due at `now`, marks each decided in
// `state`, and appends the sent ones' times to `sent` (the cap owner's list,
// which may be state->sent), pruned to the last week.
//
// Example:
//   state.cart = {"SKU-1"}; state.cart_at = T;
//   decide_triggers(&state, &state.sent, ctx, config, T + 3600000).records[0].kind
//       == TriggerKind::kCartAbandonment
[[nodiscard]] FireDecision decide_triggers(TriggerState* state, std::vector<int64_t>* sent,
                                           const FireContext& ctx, const TriggerConfig& config,
                                           int64_t now);

}  // namespace tailor
