// apply_trigger_event: what one event from the stream changes in a visitor's trigger state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tailor/events/decode.h"
#include "tailor/triggers/config.h"
#include "tailor/triggers/state.h"

namespace tailor {

// ApplyOutcome
//
// `link_prev`: for an Identify, the anonymous id whose state must now name
// the event's vid as `into` (the caller writes that id's hash).
struct ApplyOutcome {
    std::string link_prev;
};

// apply_trigger_event
//
// Folds the event into `state` (the state of event.vid). Out-of-order events
// are safe: every time kept is the latest seen. An event from a bot device
// marks the visitor a bot and changes nothing else.
//
// Example:
//   Product Added {product_id: "SKU-1"} at T: state.cart == {"SKU-1"}, state.cart_at == T
ApplyOutcome apply_trigger_event(const DecodedEvent& event, TriggerState* state);

// trigger_product_id
//
// The event's product: `product_id`, `ProductID` or `sku`, in that order (as
// the live state reads it); "" when none is a string.
[[nodiscard]] std::string trigger_product_id(const DecodedEvent& event);

// next_trigger_check_ms
//
// When the visitor must next be looked at: the earliest pending due time
// (cart, browse, win-back, the replenishment the profile last showed), or
// `now + price_check` while prices are watched; nullopt when nothing is
// pending. `now` is the event's time after an event, the clock's at a check;
// `linked_order_at`, known at a check, is the person's last order over every
// linked id and the profile (win-back counts from it).
[[nodiscard]] std::optional<int64_t> next_trigger_check_ms(const TriggerState& state,
                                                           const TriggerConfig& config, int64_t now,
                                                           int64_t linked_order_at = 0);

}  // namespace tailor
