// Event: one browse event (Segment e-commerce v2 naming), its MessagePack encoding, its decoder,
// and the XADD command that appends it to the event stream.
//
// The glue fills an Event of views at the log phase, encodes it into a
// reusable buffer, and queues the bytes; everything downstream (the per-worker
// queue, the spool, the live-state script, tailorctl, the email bridge) sees
// only the encoded blob. docs/events.md has the schema and the Klaviyo
// mapping; the blob's map keys are listed there and in kEventKeys below.
//
// Privacy: an Event has no field for an email, a name, an IP address or a
// User-Agent, and check_property_name refuses declared properties named like
// personal data at configuration time. Strings are written as valid UTF-8
// (each invalid byte becomes `?`) so consumers in strict languages can always
// decode them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/request/device_class.h"
#include "tailor/request/referrer.h"

namespace tailor {

// Bounds on one event. Property and exposure counts are checked when the
// configuration is read; the encoder enforces them again and cuts values.
inline constexpr size_t kMaxEventProperties = 32;
inline constexpr size_t kMaxEventExposures = 16;
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

// EventId
//
// The idempotency key: a UUIDv7 (RFC 9562), 48 bits of Unix milliseconds
// then 74 bits from OpenSSL's CSPRNG. Time-ordered so ids sort roughly by
// creation and index well in a consumer's store; random enough (2^74 per
// millisecond) that two workers never collide. Trivially copyable.
class EventId {
  public:
    static constexpr size_t kTextLength = 36;

    // EventId::generate
    //
    // A new id for `now_ms`; nullopt only if the CSPRNG fails (then the
    // glue drops the event and counts it: a guessable id is no id).
    //
    // Example:
    //   auto id = EventId::generate(1718000000000);
    //   id->text()  // "0190076c-fc00-7xxx-yxxx-xxxxxxxxxxxx"
    [[nodiscard]] static std::optional<EventId> generate(int64_t now_ms) noexcept;

    // EventId::parse
    //
    // The id whose canonical lower-case text is `text`.
    //
    // Example:
    //   EventId::parse("0190076c-fc00-7abc-8def-0123456789ab")->text()
    //       == "0190076c-fc00-7abc-8def-0123456789ab"
    [[nodiscard]] static std::optional<EventId> parse(std::string_view text) noexcept;

    // EventId::text
    //
    // The canonical 36-character form; valid as long as this object.
    [[nodiscard]] std::string_view text() const noexcept { return {text_, kTextLength}; }

    // EventId::unix_ms
    //
    // The timestamp embedded in the id.
    [[nodiscard]] int64_t unix_ms() const noexcept;

    friend bool operator==(const EventId& a, const EventId& b) noexcept {
        return a.text() == b.text();
    }

  private:
    EventId() noexcept = default;
    char text_[kTextLength] = {};
};

// EventProperty
//
// One declared property: its name (checked at config time), the value of
// its nginx variable, and how to write it.
struct EventProperty {
    std::string_view name;
    std::string_view value;
    PropertyKind kind = PropertyKind::kString;
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
// plus properties past kMaxEventProperties. `truncated_values`: values cut
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
[[nodiscard]] EncodeResult encode_event(const Event& event, std::string* out) noexcept;

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

// StreamConfig
//
// The event stream's key and approximate length cap (`MAXLEN ~`; 0 means
// uncapped). Directive: tailor_event_stream key [maxlen=N].
struct StreamConfig {
    std::string key = "tailor:events";
    uint64_t maxlen = 1000000;
};

// XaddCommand
//
// `XADD <key> MAXLEN ~ <N> * type <type> vid <vid> e <blob>` as an argv for
// hiredis's redisAsyncCommandArgv (or `XADD <key> * ...` when maxlen is 0).
// Fixed inline storage, no allocation: argv() views the config, the strings
// passed to build() and this object, so all of those must outlive the call
// that sends it (hiredis copies the argv into its output buffer at once).
//
// Example:
//   XaddCommand cmd;
//   cmd.build(config, "Product Viewed", vid, blob);
//   redisAsyncCommandArgv(ac, cb, data, cmd.argc(), cmd.argv(), cmd.argvlen());
class XaddCommand {
  public:
    static constexpr int kMaxArgc = 12;

    // build
    //
    // Fills the argv; `type` is the event's name as stored (Segment name).
    void build(const StreamConfig& config, std::string_view type, std::string_view vid,
               std::string_view blob) noexcept;

    [[nodiscard]] int argc() const noexcept { return argc_; }
    [[nodiscard]] const char** argv() noexcept { return argv_; }
    [[nodiscard]] const size_t* argvlen() const noexcept { return argvlen_; }

  private:
    const char* argv_[kMaxArgc] = {};
    size_t argvlen_[kMaxArgc] = {};
    char maxlen_[24] = {};
    int argc_ = 0;
};

}  // namespace tailor
