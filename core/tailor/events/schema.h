// EventSchema: the event's bounds, its type names (Segment e-commerce v2, Klaviyo metrics) and
// the rules for declared properties.
//
// Privacy: an event has no field for an email, a name, an IP address or a
// User-Agent, and check_property_name refuses declared properties named like
// personal data at configuration time. docs/events.md has the schema.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tailor {

// Bounds on one event. Property and exposure counts are checked when the
// configuration is read; the encoder enforces them again and cuts values.
inline constexpr size_t kMaxEventProperties = 32;
inline constexpr size_t kMaxEventExposures = 16;
// Segment's products[] (upstream_event.h): lines per event, properties per line.
inline constexpr size_t kMaxEventProducts = 50;
inline constexpr size_t kMaxProductProperties = 16;
inline constexpr size_t kMaxPropertyNameBytes = 40;
inline constexpr size_t kMaxPropertyValueBytes = 256;
inline constexpr size_t kMaxEventNameBytes = 64;
inline constexpr size_t kMaxExposureFieldBytes = 64;
// A decoder refuses blobs larger than this; an encoded event within the
// bounds above stays well under it.
inline constexpr size_t kMaxEventBlobBytes = 64 * 1024;
// Version of the blob's schema, written as key "v".
inline constexpr uint32_t kEventSchemaVersion = 1;

// EventType
//
// The Segment e-commerce v2 events Tailor knows, plus a page view for every
// personalized page, Identify for the identity link, and kCustom for an
// operator's own name (carried in Event::name).
enum class EventType : unsigned char {
    kPageViewed = 0,    // "Page Viewed"        Klaviyo: Active on Site
    kProductViewed,     // "Product Viewed"     Klaviyo: Viewed Product
    kProductAdded,      // "Product Added"      Klaviyo: Added to Cart
    kProductRemoved,    // "Product Removed"    (no Klaviyo metric)
    kCartViewed,        // "Cart Viewed"        (no Klaviyo metric)
    kCheckoutStarted,   // "Checkout Started"   Klaviyo: Started Checkout
    kOrderCompleted,    // "Order Completed"    Klaviyo: Placed Order
    kProductsSearched,  // "Products Searched"  (no Klaviyo metric)
    kIdentify,          // "Identify"           Klaviyo: profile merge, no metric
    kCustom,
};

// event_type_name
//
// The Segment name of a known type; "" for kCustom.
//
// Example:
//   event_type_name(EventType::kProductAdded) == "Product Added"
[[nodiscard]] std::string_view event_type_name(EventType type) noexcept;

// klaviyo_metric_name
//
// The Klaviyo metric a bridge should report the event as; "" when Klaviyo
// has no built-in metric for it (the bridge forwards the Segment name).
//
// Example:
//   klaviyo_metric_name(EventType::kOrderCompleted) == "Placed Order"
//   klaviyo_metric_name(EventType::kCartViewed) == ""
[[nodiscard]] std::string_view klaviyo_metric_name(EventType type) noexcept;

// parse_event_type
//
// A known Segment name gives its type; any other name of 1 to
// kMaxEventNameBytes characters from [A-Za-z0-9 _.-], starting with a letter,
// is kCustom; anything else is nullopt (the `tailor_event` directive refuses
// it). Matching is exact: "product viewed" is a custom name, so a typo does
// not silently become a different event.
//
// Example:
//   parse_event_type("Order Completed") == EventType::kOrderCompleted
//   parse_event_type("Wishlist Added") == EventType::kCustom
//   parse_event_type("bad\nname") == std::nullopt
[[nodiscard]] std::optional<EventType> parse_event_type(std::string_view name) noexcept;

// valid_custom_event_name
//
// 1 to kMaxEventNameBytes characters from [A-Za-z0-9 _.-], starting with a
// letter: a name kCustom may carry.
//
// Example:
//   valid_custom_event_name("Wishlist Added") == true
//   valid_custom_event_name("9 lives") == false
[[nodiscard]] bool valid_custom_event_name(std::string_view name) noexcept;

// PropertyKind
//
// How a declared property's value (always a string in nginx) is written.
// kNumber values must look like a decimal number (`-12`, `19.99`); anything
// else is left out of the event and counted, never sent as a string that a
// consumer would then mis-sum.
enum class PropertyKind : unsigned char {
    kString = 0,
    kNumber,
};

// default_property_kind
//
// Segment's numeric properties default to kNumber: price, quantity, value,
// revenue, total, subtotal, tax, shipping, discount, position. Everything
// else, product ids and SKUs included ("00123" must stay "00123"), defaults
// to kString. The directive may override with `name:number` / `name:string`.
//
// Example:
//   default_property_kind("price") == PropertyKind::kNumber
//   default_property_kind("product_id") == PropertyKind::kString
[[nodiscard]] PropertyKind default_property_kind(std::string_view name) noexcept;

// PropertyNameError
//
// Why check_property_name refused a name.
enum class PropertyNameError : unsigned char {
    kOk = 0,
    kEmpty,
    kTooLong,       // over kMaxPropertyNameBytes
    kBadCharacter,  // outside [A-Za-z0-9_], or starts with a digit
    kPersonalData,  // names personal data: email, phone, name, address, ip, ...
};

// property_name_error_reason
//
// A short lower-case reason for `nginx -t`.
//
// Example:
//   property_name_error_reason(PropertyNameError::kPersonalData)
//       == "names personal data, which events never carry"
[[nodiscard]] std::string_view property_name_error_reason(PropertyNameError error) noexcept;

// check_property_name
//
// Validates a declared property name at configuration time. Names are
// compared with `_` removed and lower-cased, so `e_mail`, `Email` and
// `customerEmail` are all refused; `name` alone is refused (use
// `product_name`), as are first/last/full/user/customer names.
//
// Example:
//   check_property_name("product_id") == PropertyNameError::kOk
//   check_property_name("ProductID") == PropertyNameError::kOk
//   check_property_name("email") == PropertyNameError::kPersonalData
//   check_property_name("billing_phone") == PropertyNameError::kPersonalData
//   check_property_name("name") == PropertyNameError::kPersonalData
//   check_property_name("9lives") == PropertyNameError::kBadCharacter
[[nodiscard]] PropertyNameError check_property_name(std::string_view name) noexcept;

}  // namespace tailor
