// VisitorKey: the one spelling of the Redis key schema, `tailor:{<vid>}:<kind>`.
//
// Every key of one visitor carries the visitor id as its hash tag, so all of
// them live in one Redis Cluster slot: one MGET reads the profile, the live
// map and the caps together, and one script may touch several of them.
// Each kind has one writer (docs/profile.md): the shop's backend writes
// `profile`; the module writes `live`, `ev`, `caps` and `beacon`; the trigger
// evaluator (`tailorctl triggers run`) writes `trig` and `trig_seen`.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace tailor {

// VisitorKeyKind
//
// What a key of one visitor holds.
enum class VisitorKeyKind : unsigned char {
    kProfile,      // the shop's profile (MessagePack map)
    kLive,         // the module's live map: visits, viewed, cart, acquisition
    kCaps,         // pop-up impressions, closes, conversions
    kEvents,       // the per-visitor event-id set that makes replays idempotent
    kBeacon,       // the beacon's per-visitor rate window
    kErased,       // the tombstone an erase leaves: nothing may write this visitor again
    kTriggers,     // the trigger evaluator's state (tailor/triggers/state.h)
    kTriggerSeen,  // the event ids the trigger evaluator applied (its dedup set)
};

// kVisitorKeyKinds
//
// Every kind that holds a visitor's data, for commands that act on all of
// them (erase); the tombstone is not data.
inline constexpr std::array<VisitorKeyKind, 7> kVisitorKeyKinds = {
    VisitorKeyKind::kProfile,    VisitorKeyKind::kLive,   VisitorKeyKind::kCaps,
    VisitorKeyKind::kEvents,     VisitorKeyKind::kBeacon, VisitorKeyKind::kTriggers,
    VisitorKeyKind::kTriggerSeen};

// visitor_key_suffix
//
// The part after the hash tag: "profile", "live", "caps", "ev", "beacon",
// "erased", "trig", "trig_seen".
[[nodiscard]] constexpr std::string_view visitor_key_suffix(VisitorKeyKind kind) noexcept {
    switch (kind) {
        case VisitorKeyKind::kProfile:
            return "profile";
        case VisitorKeyKind::kLive:
            return "live";
        case VisitorKeyKind::kCaps:
            return "caps";
        case VisitorKeyKind::kEvents:
            return "ev";
        case VisitorKeyKind::kBeacon:
            return "beacon";
        case VisitorKeyKind::kErased:
            return "erased";
        case VisitorKeyKind::kTriggers:
            return "trig";
        case VisitorKeyKind::kTriggerSeen:
            return "trig_seen";
    }
    return "profile";
}

// kErasedTombstoneSeconds
//
// How long an erase's tombstone (`tailor:{vid}:erased`) stands by default:
// longer than any spool holds events (a spool replays what it holds as
// soon as Redis is back, and an outage is not measured in months) and far
// longer than any profile cache TTL, so a replayed event or a cached
// profile can never re-create what was erased. `tailorctl profile erase
// --tombstone-ttl` changes it.
inline constexpr long long kErasedTombstoneSeconds = 30LL * 24 * 3600;

// The fields of a visitor's `ev` hash that link ids (the live script writes
// them on Identify): the anonymous id's hash names the known id it merged
// into, the known id's hash has one field per anonymous id merged into it,
// so an erase can follow the link either way.
inline constexpr std::string_view kMergedIntoField = "merged_into";
inline constexpr std::string_view kMergedFromFieldPrefix = "merged:";

// The keys the trigger evaluator shares across visitors (docs/triggers.md).
// None carries a hash tag: each is one key, on whichever node serves it.
//
// kTriggerScheduleKey: a sorted set, member a visitor id, score the Unix ms
// at which its triggers must next be checked.
inline constexpr std::string_view kTriggerScheduleKey = "tailor:triggers:schedule";
// kTriggerStreamKey: the stream the evaluator appends trigger records to.
inline constexpr std::string_view kTriggerStreamKey = "tailor:triggers";
// kCatalogPricesKey: a hash the shop writes, field a product id, value its
// current price as a decimal in the unit of the events' `price` property
// (`HSET tailor:catalog:prices SKU-1 17.99`); price drops compare to it.
inline constexpr std::string_view kCatalogPricesKey = "tailor:catalog:prices";

// visitor_key_size
//
// The length of visitor_key(vid, kind) without building it, for callers
// that write the key into memory of their own (the glue's request pool).
[[nodiscard]] std::size_t visitor_key_size(std::string_view vid, VisitorKeyKind kind) noexcept;

// write_visitor_key
//
// Writes the key into `out`, which has room for visitor_key_size() bytes;
// returns one past the last byte written.
char* write_visitor_key(char* out, std::string_view vid, VisitorKeyKind kind) noexcept;

// visitor_key
//
//   visitor_key("abc", VisitorKeyKind::kLive) == "tailor:{abc}:live"
[[nodiscard]] std::string visitor_key(std::string_view vid, VisitorKeyKind kind);

}  // namespace tailor
