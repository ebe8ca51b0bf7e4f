// Profile: what Tailor knows about one visitor, decoded from the shop's MessagePack profile
// (`tailor:{vid}:profile`) merged with the module's own `tailor:{vid}:live` map.
//
// The schema is docs/profile.md; in short:
//   - both blobs are MessagePack maps with short snake_case keys and a schema
//     version `v` (currently 1; missing means 1; a newer major is refused,
//     because additive changes never bump `v`);
//   - times are unix seconds (UTC), integers; 0 means "never / unknown";
//   - money is an integer in minor units (cents) of the profile's `currency`;
//   - unknown keys are ignored, missing keys take defaults, and a key of the
//     wrong type is ignored on its own (inside lists, a malformed element is
//     skipped and the others kept), each counted in ProfileDecodeStats;
//   - lists and maps are capped (kMaxPurchases, ...); extras are dropped and
//     counted, so writers should put the newest entries first.
//
// Zero copy: every std::string_view in a Profile points into the bytes it
// was decoded from. Those buffers (both of them, when a live map was merged)
// must outlive the Profile and every copy of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace tailor {

// The schema major this build reads; a blob whose `v` is greater is refused.
inline constexpr int64_t kProfileSchemaVersion = 1;

// A blob larger than this is refused before a byte of it is parsed. The
// `tailor_max_profile` directive may change it, up to kMaxProfileBytesLimit;
// larger values are clamped to that.
inline constexpr size_t kMaxProfileBytes = 256 * 1024;
inline constexpr size_t kMaxProfileBytesLimit = 4 * 1024 * 1024;

// Containers nested deeper than this are refused. The schema itself needs 3
// levels (map > list > map); the rest is room for unknown fields. It must
// stay below msgpack-c's fixed parse stack of 32.
inline constexpr size_t kMaxProfileDepth = 16;

// msgpack-c builds an object tree of 24 bytes per array item and 48 per map
// pair in a zone; a blob whose tree would need more than this is refused.
// A real 256 KiB profile needs about 1.5 MiB; a blob of nothing but tiny
// maps needs 23 bytes per input byte, which this cap stops.
inline constexpr size_t kMaxProfileZoneBytes = 4 * 1024 * 1024;

// Caps on what one profile carries; elements past a cap are dropped.
inline constexpr size_t kMaxPurchases = 256;
inline constexpr size_t kMaxViewed = 64;
inline constexpr size_t kMaxCartLines = 64;
inline constexpr size_t kMaxAffinities = 128;
inline constexpr size_t kMaxAttributes = 64;

// Value ranges: a field outside its range is treated as wrong-typed. They
// keep the accessors' arithmetic (at + cycle_days * 86400, qty * price) far
// from overflow.
inline constexpr int64_t kMaxTime = 253402300799;    // 9999-12-31T23:59:59Z
inline constexpr int64_t kMaxMoney = 1000000000000;  // 10^12 minor units
inline constexpr int64_t kMaxQuantity = 1000000;
inline constexpr int64_t kMaxCycleDays = 36500;
inline constexpr int64_t kSecondsPerDay = 86400;

// Purchase
//
// One line of a past order. `cycle_days` > 0 marks a consumable that runs out
// (replenishment: due at `at + cycle_days` days); 0 means not consumable.
struct Purchase {
    std::string_view sku;
    std::string_view category;
    int64_t at = 0;
    int64_t qty = 1;
    int64_t cycle_days = 0;
    int64_t price = 0;  // unit price paid, minor units; 0 = not given
};

// ViewedItem
//
// A product page the visitor looked at, with the price shown then (for price
// drop triggers). Kept most recent first, one entry per sku.
struct ViewedItem {
    std::string_view sku;
    std::string_view category;
    int64_t at = 0;
    int64_t price = 0;  // minor units; 0 = not given
};

// CartLine
//
// One line of the visitor's current cart.
struct CartLine {
    std::string_view sku;
    int64_t qty = 1;
    int64_t added_at = 0;
    int64_t price = 0;  // unit price, minor units; 0 = not given
};

// Affinity
//
// How strongly the visitor leans to a category, on the shop's scale
// (conventionally 0..1); higher is stronger.
struct Affinity {
    std::string_view category;
    double score = 0;
};

// Loyalty
//
// Programme standing: points balance, tier name, and when points lapse.
struct Loyalty {
    int64_t points = 0;
    std::string_view tier;
    int64_t points_expire_at = 0;
};

// Suppression
//
// Moments not to sell: a return or a complaint in progress, or the visitor
// unsubscribed. Rules check these before any promotional content.
struct Suppression {
    bool open_return = false;
    bool open_complaint = false;
    bool unsubscribed = false;

    [[nodiscard]] bool any() const noexcept {
        return open_return || open_complaint || unsubscribed;
    }
};

// ConsentFlag
//
// One consent answer as the shop recorded it. kUnknown (the default) means
// the shop recorded nothing, which is not a grant.
enum class ConsentFlag : unsigned char { kUnknown = 0, kGranted, kDenied };

// ProfileConsent
//
// The shop's consent records. These complement the request-time gate in
// consent.h (banner cookie, Sec-GPC), which runs first and cannot be
// overridden by a profile.
struct ProfileConsent {
    ConsentFlag personalization = ConsentFlag::kUnknown;
    ConsentFlag email = ConsentFlag::kUnknown;
    ConsentFlag sms = ConsentFlag::kUnknown;
};

// AttributeType
//
// What a free-form attribute holds. Integers and floats are both kNumber.
enum class AttributeType : unsigned char { kString = 0, kNumber, kBool };

// Attribute
//
// One free-form shop attribute (`attrs`): a string, a number or a boolean.
// Numbers are doubles, exact for integers up to 2^53.
struct Attribute {
    std::string_view name;
    AttributeType type = AttributeType::kString;
    std::string_view text;  // kString
    double number = 0;      // kNumber
    bool boolean = false;   // kBool
};

// Acquisition
//
// How the visitor first arrived, as the module saw it (from `live`).
struct Acquisition {
    std::string_view source;    // utm_source, or the referring host
    std::string_view medium;    // utm_medium
    std::string_view campaign;  // utm_campaign
    std::string_view referrer;  // referring host
    int64_t at = 0;
};

// Profile
//
// The decoded visitor. A plain value type whose strings view the decoded
// buffers (see the file comment). Lists keep the order the writer gave,
// except `viewed`, which is most recent first.
//
// Example:
//   auto r = decode_profile(profile_blob, live_blob);  // decode.h
//   if (r.profile && !r.profile->flags.any() && r.profile->in_cart("SKU-1")) { ... }
struct Profile {
    int64_t version = kProfileSchemaVersion;
    bool has_shop_profile = false;  // a `profile` blob was present and read
    bool has_live = false;          // a `live` blob was present and merged

    // Shop-written (`profile`).
    std::string_view first_name;
    std::string_view currency;  // ISO 4217 code of every money field
    int64_t first_seen = 0;     // earliest of the shop's and the module's
    int64_t orders_count = 0;
    int64_t last_order_at = 0;
    int64_t total_spent = 0;  // lifetime, minor units
    std::vector<Affinity> affinities;
    std::vector<Purchase> purchases;
    Loyalty loyalty;
    Suppression flags;
    ProfileConsent consent;
    std::vector<Attribute> attributes;

    // Either side; merged as docs/profile.md says.
    std::vector<ViewedItem> viewed;  // union by sku, most recent first
    std::vector<CartLine> cart;      // from the newer snapshot (cart_at)
    int64_t cart_at = 0;

    // Module-written (`live`).
    int64_t visits = 0;
    int64_t last_seen = 0;
    Acquisition acquisition;

    // Profile::days_since_last_order
    //
    // Whole days from the last order to `now` (unix seconds), or nullopt if
    // the visitor never ordered. A `now` before the order counts as 0.
    //
    // Example:
    //   p.last_order_at = 1700000000;
    //   p.days_since_last_order(1700000000 + 3 * 86400 + 5) == 3
    [[nodiscard]] std::optional<int64_t> days_since_last_order(int64_t now) const noexcept;

    // Profile::days_since_first_seen
    //
    // Whole days since the visitor was first seen, or nullopt if unknown.
    //
    // Example:
    //   p.first_seen = 0;  p.days_since_first_seen(now) == std::nullopt
    [[nodiscard]] std::optional<int64_t> days_since_first_seen(int64_t now) const noexcept;

    // Profile::has_purchased
    //
    // Whether any kept purchase line has this sku.
    //
    // Example:
    //   p.has_purchased("COFFEE-1KG") == true
    [[nodiscard]] bool has_purchased(std::string_view sku) const noexcept;

    // Profile::last_purchase_of
    //
    // The most recent purchase line (greatest `at`) with this sku, or null.
    //
    // Example:
    //   p.last_purchase_of("COFFEE-1KG")->qty == 2
    [[nodiscard]] const Purchase* last_purchase_of(std::string_view sku) const noexcept;

    // Profile::replenish_due_at
    //
    // When the visitor likely runs out of a consumable: the latest purchase
    // of `sku` plus its cycle_days. nullopt if never bought, not consumable,
    // or the purchase time is unknown.
    //
    // Example:
    //   // bought at T with cycle_days 30
    //   p.replenish_due_at("COFFEE-1KG") == T + 30 * 86400
    [[nodiscard]] std::optional<int64_t> replenish_due_at(std::string_view sku) const noexcept;

    // Profile::in_cart
    //
    // Whether the cart holds this sku.
    //
    // Example:
    //   p.in_cart("MUG-2") == false
    [[nodiscard]] bool in_cart(std::string_view sku) const noexcept;

    // Profile::cart_line
    //
    // The cart line for `sku`, or null.
    //
    // Example:
    //   p.cart_line("TEE-M")->qty == 2
    [[nodiscard]] const CartLine* cart_line(std::string_view sku) const noexcept;

    // Profile::cart_quantity
    //
    // Items in the cart: the sum of the lines' quantities.
    //
    // Example:
    //   // lines of qty 2 and 1
    //   p.cart_quantity() == 3
    [[nodiscard]] int64_t cart_quantity() const noexcept;

    // Profile::cart_value
    //
    // The cart's value in minor units: sum of qty * price over lines with a
    // price (lines without one count 0).
    //
    // Example:
    //   // 2 x 1500 and 1 x 999
    //   p.cart_value() == 3999
    [[nodiscard]] int64_t cart_value() const noexcept;

    // Profile::has_viewed
    //
    // Whether the visitor recently viewed this sku.
    //
    // Example:
    //   p.has_viewed("BOOT-42") == true
    [[nodiscard]] bool has_viewed(std::string_view sku) const noexcept;

    // Profile::affinity
    //
    // The affinity score for `category`, 0 when there is none.
    //
    // Example:
    //   p.affinity("coffee") == 0.8
    //   p.affinity("tea") == 0.0
    [[nodiscard]] double affinity(std::string_view category) const noexcept;

    // Profile::top_affinity
    //
    // The category with the highest score (the first on a tie), or null
    // when there are no affinities.
    //
    // Example:
    //   p.top_affinity()->category == "coffee"
    [[nodiscard]] const Affinity* top_affinity() const noexcept;

    // Profile::attribute
    //
    // The free-form attribute `name`, or null.
    //
    // Example:
    //   p.attribute("shoe_size")->number == 42
    [[nodiscard]] const Attribute* attribute(std::string_view name) const noexcept;
};

// ProfileError
//
// Why a blob was refused as a whole ("no profile"); one counter each.
enum class ProfileError : unsigned char {
    kNone = 0,
    kTooLarge,            // over ProfileLimits::max_bytes
    kTruncated,           // ends before what it declares (incl. huge declared lengths)
    kMalformed,           // not MessagePack (0xc1, bytes after the top value)
    kTooDeep,             // nesting over ProfileLimits::max_depth
    kTooComplex,          // its object tree would exceed kMaxProfileZoneBytes
    kNotAMap,             // the top value is not a map
    kUnsupportedVersion,  // `v` is newer than kProfileSchemaVersion, or below 1
    kNoMemory,            // an allocation failed
    kCount
};

// profile_error_name
//
// A short lower-case name for logs and metric labels.
//
// Example:
//   profile_error_name(ProfileError::kTooDeep) == "too-deep"
[[nodiscard]] std::string_view profile_error_name(ProfileError error) noexcept;

}  // namespace tailor
