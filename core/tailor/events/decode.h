// EventDecode: an encoded event read back, whole (decode_event) or just its routing fields.
//
// Both read through the bounded MsgpackReader (base/msgpack_reader.h): the
// blob may come from a spool file or the stream, written by any version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/schema.h"

namespace tailor {

// DecodedProperty
//
// A property as stored: a string, or a number (integral values as int64).
struct DecodedProperty {
    std::string name;
    bool is_number = false;
    bool is_integer = false;
    int64_t integer = 0;
    double number = 0;
    std::string text;  // strings only
};

// DecodedExposure
struct DecodedExposure {
    std::string rule;
    std::string experiment;
    std::string variant;
};

// DecodedEvent
//
// An event read back from its blob, owning its strings. `type` is kCustom
// for names Tailor does not know (including names from newer versions).
struct DecodedEvent {
    uint32_t version = 0;
    EventType type = EventType::kCustom;
    std::string name;  // the Segment or custom name as stored
    std::string id;
    std::string vid;
    int64_t ts_ms = 0;
    std::string path;
    std::string utm_source;
    std::string utm_medium;
    std::string utm_campaign;
    std::string referrer_class;
    std::string referrer_host;
    std::string device;
    std::vector<DecodedExposure> exposures;
    std::vector<DecodedProperty> properties;
    std::vector<std::vector<DecodedProperty>> products;  // props.products lines, when present
    std::string producer;
    uint64_t seq = 0;
    std::string previous_vid;

    // DecodedEvent::property
    //
    // The property named `property_name`, or null.
    [[nodiscard]] const DecodedProperty* property(std::string_view property_name) const noexcept;
};

// decode_event
//
// Reads a blob written by encode_event (or by a newer Tailor: unknown keys
// are skipped). nullopt for anything that is not such a map: not
// MessagePack, truncated, trailing bytes, nesting over 4 levels, a required
// key (v, id, type, vid, ts) missing or of the wrong type, or a blob larger
// than kMaxEventBlobBytes. Never reads past `blob`, and allocates only for
// what it returns.
//
// Example:
//   auto e = decode_event(blob);
//   e->name == "Product Viewed", e->property("price")->number == 19.99
[[nodiscard]] std::optional<DecodedEvent> decode_event(std::string_view blob) noexcept;

// EventRouting
//
// The fields a flusher needs to route a blob without decoding it all: views
// into the blob, valid as long as it is.
struct EventRouting {
    std::string_view type;
    std::string_view vid;
    std::string_view previous_vid;  // Identify only
};

// event_routing
//
// Scans an encoded event for type, vid and prev; nullopt if the blob is not
// a map or lacks a type or a vid. Allocates nothing.
//
// Example:
//   auto r = event_routing(blob);
//   r->type == "Product Viewed", r->vid == "q3Zf0x8W2mYbT1kL9cVn_A"
[[nodiscard]] std::optional<EventRouting> event_routing(std::string_view blob) noexcept;

}  // namespace tailor
