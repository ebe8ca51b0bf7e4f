// UpstreamEvent: the one event a shop's backend declares in a response header, parsed and checked.
//
// The backend knows what the module cannot see from nginx variables of one
// request: the order just placed, its lines, its revenue. It answers with
//
//   X-Tailor-Event: {"event":"Order Completed","properties":{"order_id":"A-1",
//                    "revenue":42.5,"currency":"EUR",
//                    "products":[{"product_id":"MUG-1","name":"Mug","price":21.25,"quantity":2}]}}
//
// and the module emits it under the visitor's id (the glue: only from a
// response the upstream made for this request, never a cached one). The
// header is as untrusted as any input: it is read with a bounded JSON
// parser, and the event is refused whole, with one reason, when it breaks
// the event schema or the privacy rules a declared event obeys (schema.h,
// request/personal_data.h). Nothing is silently cut except string values
// longer than kMaxPropertyValueBytes, as for declared events.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "tailor/base/json_reader.h"
#include "tailor/events/encode.h"
#include "tailor/events/schema.h"

namespace tailor {

// Bounds of the header value: the default of the directive, and the most it
// may be set to (which keeps any accepted event's blob far under
// kMaxEventBlobBytes).
inline constexpr size_t kDefaultUpstreamEventBytes = 4096;
inline constexpr size_t kMaxUpstreamEventBytes = 16384;

// UpstreamEventError
//
// Why a header was refused; each has a metric label
// (upstream_event_error_name).
enum class UpstreamEventError : unsigned char {
    kOk = 0,
    kTooLarge,      // longer than the configured bound
    kMalformed,     // not JSON, or over the parser's depth or value bounds
    kNotAnEvent,    // not {"event": ..., "properties": {...}}, or a key other than
                    // event, properties, type ("track")
    kBadName,       // not a Segment or custom event name, or "Identify" (links are the
                    // identify header's)
    kBadProperty,   // a bad property name, a value neither string nor number (null is
                    // absent), a number not -?[0-9]+(.[0-9]+)?, too many properties or lines
    kPersonalData,  // a property named like personal data, or a value holding an email
                    // address or a card number
};

inline constexpr size_t kUpstreamEventErrorCount = 7;

// upstream_event_error_name
//
// The reason as a metric label and log word.
//
// Example:
//   upstream_event_error_name(UpstreamEventError::kPersonalData) == "personal_data"
[[nodiscard]] std::string_view upstream_event_error_name(UpstreamEventError error) noexcept;

// UpstreamEvent
//
// A checked event, its strings owned by `doc`; `properties` and `products`
// are ready for an Event (encode.h). Not copyable: the views point into it.
struct UpstreamEvent {
    EventType type = EventType::kCustom;
    std::string_view name;  // as sent: the Segment or custom name
    std::vector<EventProperty> properties;
    std::vector<EventProductLine> products;
    std::vector<EventProperty> product_properties;  // what `products` point into
    std::string_view detail;  // for kBadProperty and kPersonalData: the property's name
    JsonDocument doc;

    UpstreamEvent() = default;
    UpstreamEvent(const UpstreamEvent&) = delete;
    UpstreamEvent& operator=(const UpstreamEvent&) = delete;
};

// parse_upstream_event
//
// Parses and checks one header value of at most `max_bytes` (capped at
// kMaxUpstreamEventBytes) into *out. The rules:
// - the value is a JSON object with "event" (a name parse_event_type
//   accepts, not "Identify") and optionally "properties" (an object) and
//   "type" (only "track", Segment's word for it); no other key, so a
//   backend cannot pass a userId or anonymousId: the visitor is the module's;
// - each property: a name check_property_name accepts and that is not a
//   personal query name (is_personal_query_name on its snake case:
//   `customerId` is refused as `customer_id` is); a string (kept as a
//   string, or as a number for Segment's numeric names such as revenue,
//   where it must look like one) or a number -?[0-9]+(.[0-9]+)?; null is
//   left out; at most kMaxEventProperties;
// - "products": an array of at most kMaxEventProducts objects of at most
//   kMaxProductProperties properties each, under the same rules, except
//   that Segment's product `name` is allowed there (a product's name is not
//   a person's);
// - every string value is checked for an email address or a card number.
//
// Example:
//   UpstreamEvent e;
//   parse_upstream_event(R"({"event":"Order Completed","properties":{"order_id":"A-1",
//       "revenue":42.5,"products":[{"product_id":"MUG-1","name":"Mug"}]}})", 4096, &e)
//       == UpstreamEventError::kOk
//   e.type == EventType::kOrderCompleted, e.products.size() == 1
//   parse_upstream_event(R"({"event":"Order Completed","properties":{"email":"a@b.c"}})",
//       4096, &e) == UpstreamEventError::kPersonalData
[[nodiscard]] UpstreamEventError parse_upstream_event(std::string_view header, size_t max_bytes,
                                                      UpstreamEvent* out) noexcept;

}  // namespace tailor
