// Internal to the visitor view (visitor_view.cpp, view_fields.cpp): the fields of `v`, the
// interned keys of its sub-tables, and building one field's value from the profile.
#pragma once

#include <cstdint>
#include <string_view>

#include <lua.hpp>

#include "tailor/profile/profile.h"
#include "tailor/request/facts.h"

namespace tailor {
namespace view_detail {

enum class Field : int {
    kFirstName = 1,
    kKnown,
    kLoggedIn,
    kCurrency,
    kNow,
    kVisits,
    kFirstSeen,
    kLastSeen,
    kOrdersCount,
    kLastOrderAt,
    kTotalSpent,
    kDaysSinceLastOrder,
    kDaysSinceFirstSeen,
    kHoursSinceLastPurchase,
    kCartCount,
    kCartValue,
    kTopCategory,
    kPoints,
    kTier,
    kLoyalty,
    kFlags,
    kConsent,
    kRequest,
    kAcquisition,
    kPurchases,
    kViewed,
    kCart,
    kAffinities,
    kAffinity,
    kAttributes,
    kConsumables,
    kPurchased,
    kInCart,
    kPurchaseSkus,
    kViewedSkus,
};

inline constexpr struct {
    const char* name;
    Field field;
} kFields[] = {
    {"first_name", Field::kFirstName},
    {"known", Field::kKnown},
    {"logged_in", Field::kLoggedIn},
    {"currency", Field::kCurrency},
    {"now", Field::kNow},
    {"visits", Field::kVisits},
    {"first_seen", Field::kFirstSeen},
    {"last_seen", Field::kLastSeen},
    {"orders_count", Field::kOrdersCount},
    {"last_order_at", Field::kLastOrderAt},
    {"total_spent", Field::kTotalSpent},
    {"days_since_last_order", Field::kDaysSinceLastOrder},
    {"days_since_first_seen", Field::kDaysSinceFirstSeen},
    {"hours_since_last_purchase", Field::kHoursSinceLastPurchase},
    {"cart_count", Field::kCartCount},
    {"cart_value", Field::kCartValue},
    {"top_category", Field::kTopCategory},
    {"points", Field::kPoints},
    {"tier", Field::kTier},
    {"loyalty", Field::kLoyalty},
    {"flags", Field::kFlags},
    {"consent", Field::kConsent},
    {"request", Field::kRequest},
    {"acquisition", Field::kAcquisition},
    {"purchases", Field::kPurchases},
    {"viewed", Field::kViewed},
    {"cart", Field::kCart},
    {"affinities", Field::kAffinities},
    {"affinity", Field::kAffinity},
    {"attributes", Field::kAttributes},
    {"consumables", Field::kConsumables},
    {"purchased", Field::kPurchased},
    {"in_cart", Field::kInCart},
    {"purchase_skus", Field::kPurchaseSkus},
    {"viewed_skus", Field::kViewedSkus},
};

inline void push_sv(lua_State* L, std::string_view s) {
    lua_pushlstring(L, s.data(), s.size());
}

// Empty strings read as nil, the Lua idiom for "not known", and what
// templates' {{name|default}} falls back on.
inline void push_sv_or_nil(lua_State* L, std::string_view s) {
    if (s.empty()) {
        lua_pushnil(L);
    } else {
        push_sv(L, s);
    }
}

inline void push_int(lua_State* L, int64_t n) {
    lua_pushnumber(L, static_cast<lua_Number>(n));
}

// Keys of list items and sub-tables, interned once per state: pushing one is
// an array read, where lua_setfield would hash and intern the name each time.
enum Key : int {
    kSku = 1,
    kCategory,
    kAt,
    kQty,
    kCycleDays,
    kPrice,
    kAddedAt,
    kScore,
    kLastAt,
    kDueAt,
    kDueInDays,
    kDaysSincePurchase,
    kInCartKey,
    kPointsKey,
    kTierKey,
    kPointsExpireAt,
    kDaysToPointsExpiry,
    kOpenReturn,
    kOpenComplaint,
    kUnsubscribed,
    kPersonalization,
    kEmail,
    kSms,
    kRequestKey,
    kPath,
    kQuery,
    kReferrer,
    kDevice,
    kCookies,
    kSource,
    kMedium,
    kCampaign,
    kKeyCount
};

inline constexpr const char* kKeyNames[] = {
    "",
    "sku",
    "category",
    "at",
    "qty",
    "cycle_days",
    "price",
    "added_at",
    "score",
    "last_at",
    "due_at",
    "due_in_days",
    "days_since_purchase",
    "in_cart",
    "points",
    "tier",
    "points_expire_at",
    "days_to_points_expiry",
    "open_return",
    "open_complaint",
    "unsubscribed",
    "personalization",
    "email",
    "sms",
    "request",
    "path",
    "query",
    "referrer",
    "device",
    "cookies",
    "source",
    "medium",
    "campaign",
};
static_assert(sizeof(kKeyNames) / sizeof(kKeyNames[0]) == kKeyCount, "one name per key");

// Where the interned keys table sits on the stack while a value is built.
struct Builder {
    lua_State* L;
    int keys;

    // table at -2 after the value is pushed: t[key] = value
    void set(Key key) const {
        lua_rawgeti(L, keys, key);
        lua_insert(L, -2);
        lua_rawset(L, -3);
    }
    void set_sv(Key key, std::string_view s) const {
        if (!s.empty()) {
            push_sv(L, s);
            set(key);
        }
    }
    void set_int(Key key, int64_t n) const {
        push_int(L, n);
        set(key);
    }
    void set_bool(Key key, bool b) const {
        lua_pushboolean(L, b ? 1 : 0);
        set(key);
    }
};

// push_field
//
// Pushes field `field` of the view, built from `p` and `f`. Scalars never
// read the keys table, so for them `b.keys` may be 0.
void push_field(const Builder& b, Field field, const Profile& p, const RequestFacts& f);

}  // namespace view_detail
}  // namespace tailor
