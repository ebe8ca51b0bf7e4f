// PopupBeacon: what the client runtime reports (impression, close, conversion) and the Redis
// script that records it in the visitor's caps, atomically and within a rate limit.
//
// The beacon is `POST <beacon>?e=<kind>&p=<popup id>&t=<token>` with no body.
// The glue checks everything about the request (method, same-site, the
// signed cookie, consent, that the pack declares the pop-up, that the token
// was issued for this visitor and pop-up: popup/token.h); this file reads
// the query and builds one EVALSHA whose keys all carry the visitor's hash
// tag, so the caps of a visitor are only ever written with the id from their
// own signed cookie. The script updates `tailor:{vid}:caps` in the schema
// decode_popup_caps reads (docs/popups.md), counts beacons per visitor in a
// fixed window, in Redis, so the limit holds across workers and nodes, and
// records each token's nonce in the caps so a token counts once per kind.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tailor/events/event.h"
#include "tailor/popup/token.h"

namespace tailor {

// PopupBeaconKind
enum class PopupBeaconKind : unsigned char { kImpression = 0, kClose, kConversion };

// popup_beacon_kind_name
//
// The query's name for a kind, also the script's.
// Example: popup_beacon_kind_name(PopupBeaconKind::kClose) == "close"
[[nodiscard]] std::string_view popup_beacon_kind_name(PopupBeaconKind kind) noexcept;

// popup_beacon_event_name
//
// The event the beacon puts on the stream: Segment's "Promotion Viewed" and
// "Promotion Clicked"; a close is "Promotion Closed" (Segment has no name
// for it; a custom event, passed through as is).
[[nodiscard]] std::string_view popup_beacon_event_name(PopupBeaconKind kind) noexcept;

// PopupBeaconEvent
//
// What a recorded beacon puts on the event stream: the name above, the
// pop-up as `promotion_id` with `creative: "popup"`, and the exposure its
// page view recorded. Views `popup_id` and static strings.
//
// Example:
//   PopupBeaconEvent e = popup_beacon_event(PopupBeaconKind::kClose, "cart-rescue");
//   // e.name == "Promotion Closed", e.properties[0].value == "cart-rescue"
struct PopupBeaconEvent {
    std::string_view name;
    std::array<EventProperty, 2> properties;
    EventExposure exposure;
};
[[nodiscard]] PopupBeaconEvent popup_beacon_event(PopupBeaconKind kind,
                                                  std::string_view popup_id) noexcept;

// PopupBeaconParse
enum class PopupBeaconParse : unsigned char {
    kOk = 0,
    kMissingKind,   // no e=
    kBadKind,       // e= is not impression, close or conversion
    kMissingId,     // no p=
    kBadId,         // p= is not 1..64 of [A-Za-z0-9_-] (no percent-escapes: ids never need them)
    kRepeated,      // e=, p= or t= twice
    kTooLong,       // the query is over kMaxPopupBeaconQuery bytes
    kMissingToken,  // no t= (a runtime older than the token; docs/popups.md)
    kBadToken,      // t= is not a well-formed token (parse_popup_token)
};

inline constexpr size_t kMaxPopupBeaconQuery = 512;

// popup_beacon_parse_name
// Example: popup_beacon_parse_name(PopupBeaconParse::kBadId) == "bad-id"
[[nodiscard]] std::string_view popup_beacon_parse_name(PopupBeaconParse p) noexcept;

// PopupBeacon
//
// A parsed beacon; `popup_id` and `token` view the query. The token's
// syntax is checked, not its MAC (check_popup_token does that).
struct PopupBeacon {
    PopupBeaconKind kind = PopupBeaconKind::kImpression;
    std::string_view popup_id;
    std::string_view token;
};

// parse_popup_beacon_query
//
// Reads `e`, `p` and `t` from a query string (without '?'); other
// parameters are ignored (a cache-buster, later fields). Never allocates or
// throws.
//
// Example:
//   PopupBeacon b;
//   parse_popup_beacon_query("e=close&p=cart-rescue&t=" + token, &b) == PopupBeaconParse::kOk
//   // b.kind == PopupBeaconKind::kClose, b.popup_id == "cart-rescue", b.token == token
[[nodiscard]] PopupBeaconParse parse_popup_beacon_query(std::string_view query,
                                                        PopupBeacon* out) noexcept;

// kPopupCapsScript / popup_caps_script_sha1
//
// The Lua source (SCRIPT LOAD, or EVAL after a NOSCRIPT reply) and its SHA-1
// in lower-case hex.
extern const std::string_view kPopupCapsScript;
[[nodiscard]] std::string_view popup_caps_script_sha1() noexcept;

// PopupBeaconLimits
//
// `rate` beacons per visitor per `window_seconds` (fixed window); the caps
// key lives `caps_ttl_seconds` after its last write; a token is good for
// `token_max_age_seconds` after its issue (check_popup_token), and the
// script forgets the nonces of tokens that old (plus kPopupTokenClockSkew).
struct PopupBeaconLimits {
    uint32_t rate = 30;
    uint32_t window_seconds = 60;
    uint32_t caps_ttl_seconds = 365 * 24 * 3600;
    uint32_t token_max_age_seconds = kDefaultPopupTokenMaxAge;
};

// The token records (nonce and kind) one visitor's caps hold at most; a
// beacon that would need one more is refused as over the rate (-4 below)
// rather than forgetting one that could then be replayed. With the default
// caps (one per visit, one a day) a visitor uses two a day.
inline constexpr size_t kMaxPopupTokenRecords = 128;

// PopupBeaconResult
//
// The script's integer reply.
enum class PopupBeaconResult : int {
    kRecorded = 1,
    kRateLimited = 0,
    kNewerSchema = -1,  // the caps blob has a `v` this script does not know: left alone
    kErased = -2,       // the visitor was erased: nothing written (store/keys.h, kErased)
    kReplayed = -3,     // this token already reported this kind: nothing written
    kTokensFull = -4,   // kMaxPopupTokenRecords live tokens recorded: nothing written
};

// popup_beacon_result
//
// Reads the script's integer reply; false when it is not one of the above.
[[nodiscard]] bool popup_beacon_result(long long reply, PopupBeaconResult* out) noexcept;

// PopupBeaconCommand
//
// `EVALSHA <sha> 3 tailor:{vid}:caps tailor:{vid}:live tailor:{vid}:beacon
// <kind> <id> <now> <rate> <window> <ttl> <record> <issued at> <horizon>`
// for hiredis's argv form: `record` is the kind's letter and the token's
// nonce, `horizon` the issue time before which no token is valid any more.
// The argv views this object and `beacon.popup_id`; keep both alive until
// the command is handed to hiredis (it copies at once). `now` is unix
// seconds, the same clock the decision reads the caps with; `token` is the
// checked token of this beacon (check_popup_token, kValid).
//
// Example:
//   PopupBeaconCommand cmd(vid, beacon, token, ngx_time(), limits);
//   redisAsyncCommandArgv(ac, cb, data, cmd.argc(), cmd.argv(), cmd.argvlen());
class PopupBeaconCommand {
  public:
    static constexpr size_t kArgs = 15;

    PopupBeaconCommand(std::string_view vid, const PopupBeacon& beacon,
                       const PopupTokenCheck& token, int64_t now, const PopupBeaconLimits& limits);
    // the argv points into this object
    PopupBeaconCommand(const PopupBeaconCommand&) = delete;
    PopupBeaconCommand& operator=(const PopupBeaconCommand&) = delete;

    // use_eval
    //
    // Turns the command into `EVAL <script> ...`, for a NOSCRIPT reply.
    void use_eval() noexcept;

    // The key the command routes by (Redis Cluster): the caps key.
    [[nodiscard]] std::string_view caps_key() const noexcept { return caps_key_; }

    [[nodiscard]] int argc() const noexcept { return static_cast<int>(kArgs); }
    [[nodiscard]] const char** argv() noexcept { return argv_.data(); }
    [[nodiscard]] const size_t* argvlen() const noexcept { return argvlen_.data(); }

  private:
    void set(size_t i, std::string_view s) noexcept;

    std::string caps_key_;
    std::string live_key_;
    std::string rate_key_;
    std::string now_;
    std::string rate_;
    std::string window_;
    std::string ttl_;
    std::string record_;
    std::string issued_at_;
    std::string horizon_;
    std::array<const char*, kArgs> argv_{};
    std::array<size_t, kArgs> argvlen_{};
};

}  // namespace tailor
