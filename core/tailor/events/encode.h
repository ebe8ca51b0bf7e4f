// EventEncode: one event as the glue fills it (views) and its MessagePack encoding.
//
// The glue fills an Event of views at the log phase, encodes it into a
// reusable buffer, and queues the bytes; everything downstream (the per-worker
// queue, the spool, the live-state script, tailorctl, the email bridge) sees
// only the encoded blob. docs/events.md lists the blob's map keys. Strings
// are written as valid UTF-8 (each invalid byte becomes `?`) so consumers in
// strict languages can always decode them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tailor/events/event_id.h"
#include "tailor/events/schema.h"
#include "tailor/request/device_class.h"
#include "tailor/request/referrer.h"

namespace tailor {

struct LiveFacts;

// EventProperty
//
// One declared property: its name (checked at config time), the value of
// its nginx variable, and how to write it.
struct EventProperty {
    std::string_view name;
    std::string_view value;
    PropertyKind kind = PropertyKind::kString;
};

// EventProductLine
//
// One line of Segment's `products[]` (an order's, a checkout's): its
// properties, written as a map inside `props.products`. Only the upstream
// event header (upstream_event.h) fills these; the directive's properties are flat.
struct EventProductLine {
    const EventProperty* properties = nullptr;
    size_t property_count = 0;
};

// EventExposure
//
// One exposure of the request's decision (Decision's exposures, as views).
struct EventExposure {
    std::string_view rule;
    std::string_view experiment;
    std::string_view variant;
};

// Event
//
// Everything one event records, as views the caller keeps alive until
// encode_event returns. `producer` and `seq` identify the emitting worker and
// its per-worker sequence number: the live-state script applies each
// (producer, seq) at most once per visitor, which makes a replay after a lost
// reply harmless. `previous_vid` is set for Identify only: the anonymous id
// whose live state merges into `vid`.
struct Event {
    EventType type = EventType::kPageViewed;
    std::string_view name;  // kCustom: the operator's name; otherwise ignored
    EventId id;
    std::string_view vid;
    int64_t ts_ms = 0;
    std::string_view path;                     // from append_event_path
    const Attribution* attribution = nullptr;  // null: direct, no utm
    DeviceClass device = DeviceClass::kUnknown;
    const EventExposure* exposures = nullptr;
    size_t exposure_count = 0;
    const EventProperty* properties = nullptr;
    size_t property_count = 0;
    const EventProductLine* products = nullptr;  // written as props.products
    size_t product_count = 0;
    std::string_view producer;
    uint64_t seq = 0;
    std::string_view previous_vid;

    // The event needs an id; it has no default constructor so it is always
    // made from one.
    explicit Event(const EventId& event_id) noexcept : id(event_id) {}
};

// EncodeStatus
//
// kOk even when some properties were left out; see EncodeResult.
enum class EncodeStatus : unsigned char {
    kOk = 0,
    kInvalid,      // no vid, a kCustom event without a valid name, ts_ms <= 0
    kOutOfMemory,  // the output buffer could not grow; `out` is unchanged
};

// EncodeResult
//
// `dropped_properties`: kNumber properties whose value was not a number,
// plus properties past kMaxEventProperties (product lines: past
// kMaxEventProducts lines, kMaxProductProperties properties each). `truncated_values`: values cut
// to kMaxPropertyValueBytes. Both are for counters.
struct EncodeResult {
    EncodeStatus status = EncodeStatus::kOk;
    uint32_t dropped_properties = 0;
    uint32_t truncated_values = 0;
};

// encode_event
//
// Appends the event's MessagePack map to `out` (reuse one buffer per worker:
// after the first few events it no longer allocates). Exposures past
// kMaxEventExposures are left out; exposure fields are cut to
// kMaxExposureFieldBytes.
//
// Example:
//   std::string blob;
//   EventProperty props[] = {{"product_id", "SKU-1"}, {"price", "19.99", PropertyKind::kNumber}};
//   Event e(*EventId::generate(now_ms));
//   e.type = EventType::kProductViewed; e.vid = vid; e.ts_ms = now_ms;
//   e.properties = props; e.property_count = 2;
//   encode_event(e, &blob).status == EncodeStatus::kOk
//
// `facts`, if given, receives what the live script needs of the event
// (live_facts.h), as views into `out`: exactly what live_facts() would read
// back from the appended bytes, without reading them.
[[nodiscard]] EncodeResult encode_event(const Event& event, std::string* out,
                                        LiveFacts* facts = nullptr) noexcept;

}  // namespace tailor
