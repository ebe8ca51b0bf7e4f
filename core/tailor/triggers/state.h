// TriggerState: what the evaluator remembers of one visitor, and its flat Redis hash form.
//
// Kept at `tailor:{<vid>}:trig` (store/keys.h), one hash field per fact so an
// operator can read it with HGETALL. Every time is Unix milliseconds; 0 is
// never. "fired" markers hold the anchor (the activity time) a trigger was
// decided for, sent or suppressed, so each anchor is decided once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tailor {

inline constexpr size_t kMaxTriggerCartSkus = 20;
inline constexpr size_t kMaxTriggerBrowseSkus = 5;
inline constexpr size_t kMaxPriceWatches = 20;
inline constexpr size_t kMaxLinkedIds = 16;
inline constexpr size_t kMaxSentTimes = 64;

// PriceWatch
//
// A product viewed at a price: `fired_price` is the catalog price a drop was
// decided at (0: none yet), so only a further drop fires again.
struct PriceWatch {
    double viewed_price = 0;
    int64_t viewed_at = 0;
    double fired_price = 0;
};

struct TriggerState {
    std::string into;               // the known id this visitor was merged into (Identify)
    std::vector<std::string> from;  // ids merged into this one
    bool bot = false;               // an event from a bot device was seen: never fire
    int64_t cart_at = 0;            // last cart activity
    std::vector<std::string> cart;  // skus in the cart, newest first
    int64_t cart_fired = 0;
    int64_t browse_at = 0;            // last product view
    std::vector<std::string> browse;  // skus viewed, newest first
    int64_t browse_fired = 0;
    int64_t order_at = 0;  // last Order Completed of this id
    int64_t winback_fired = 0;
    std::map<std::string, PriceWatch> watches;       // sku -> watch
    std::map<std::string, int64_t> replenish_fired;  // sku -> due time decided
    int64_t replenish_next = 0;                      // next due replenishment the profile showed
    std::vector<int64_t> sent;                       // when triggers were sent (cap owner only)

    // TriggerState::to_fields
    //
    // The hash fields, in a stable order; empty facts are left out.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> to_fields() const;
};

// trigger_state_from_fields
//
// Reads HGETALL's pairs back. Unknown fields and unreadable values are
// ignored (a newer evaluator may add fields); lists are cut to their caps.
[[nodiscard]] TriggerState trigger_state_from_fields(
    const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace tailor
