#include "tailor/popup/beacon.h"

#include "tailor/base/ascii.h"

#include "tailor/popup/caps.h"
#include "tailor/popup/policy.h"
#include "tailor/store/keys.h"
#include "tailor/store/script.h"

namespace tailor {

namespace {

constexpr size_t kMaxPopupIdBytes = 64;

bool valid_popup_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > kMaxPopupIdBytes) {
        return false;
    }
    for (char c : id) {
        if (!(is_ascii_alnum(c) || c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

bool parse_kind(std::string_view s, PopupBeaconKind* out) noexcept {
    for (PopupBeaconKind k :
         {PopupBeaconKind::kImpression, PopupBeaconKind::kClose, PopupBeaconKind::kConversion}) {
        if (s == popup_beacon_kind_name(k)) {
            *out = k;
            return true;
        }
    }
    return false;
}

}  // namespace

std::string_view popup_beacon_kind_name(PopupBeaconKind kind) noexcept {
    switch (kind) {
        case PopupBeaconKind::kImpression:
            return "impression";
        case PopupBeaconKind::kClose:
            return "close";
        case PopupBeaconKind::kConversion:
            return "conversion";
    }
    return "";
}

std::string_view popup_beacon_event_name(PopupBeaconKind kind) noexcept {
    switch (kind) {
        case PopupBeaconKind::kImpression:
            return "Promotion Viewed";
        case PopupBeaconKind::kClose:
            return "Promotion Closed";
        case PopupBeaconKind::kConversion:
            return "Promotion Clicked";
    }
    return "";
}

PopupBeaconEvent popup_beacon_event(PopupBeaconKind kind, std::string_view popup_id) noexcept {
    PopupBeaconEvent e;
    e.name = popup_beacon_event_name(kind);
    e.properties = {EventProperty{"promotion_id", popup_id}, EventProperty{"creative", "popup"}};
    e.exposure = {popup_id, kPopupExperiment, kPopupVariant};
    return e;
}

std::string_view popup_beacon_parse_name(PopupBeaconParse p) noexcept {
    switch (p) {
        case PopupBeaconParse::kOk:
            return "ok";
        case PopupBeaconParse::kMissingKind:
            return "missing-kind";
        case PopupBeaconParse::kBadKind:
            return "bad-kind";
        case PopupBeaconParse::kMissingId:
            return "missing-id";
        case PopupBeaconParse::kBadId:
            return "bad-id";
        case PopupBeaconParse::kRepeated:
            return "repeated";
        case PopupBeaconParse::kTooLong:
            return "too-long";
        case PopupBeaconParse::kMissingToken:
            return "missing-token";
        case PopupBeaconParse::kBadToken:
            return "bad-token";
    }
    return "";
}

PopupBeaconParse parse_popup_beacon_query(std::string_view query, PopupBeacon* out) noexcept {
    if (query.size() > kMaxPopupBeaconQuery) {
        return PopupBeaconParse::kTooLong;
    }
    std::string_view kind;
    std::string_view id;
    std::string_view token;
    bool have_kind = false;
    bool have_id = false;
    bool have_token = false;
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);

        size_t eq = pair.find('=');
        std::string_view name = pair.substr(0, eq);
        std::string_view value =
            eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
        if (name == "e") {
            if (have_kind) {
                return PopupBeaconParse::kRepeated;
            }
            have_kind = true;
            kind = value;
        } else if (name == "p") {
            if (have_id) {
                return PopupBeaconParse::kRepeated;
            }
            have_id = true;
            id = value;
        } else if (name == "t") {
            if (have_token) {
                return PopupBeaconParse::kRepeated;
            }
            have_token = true;
            token = value;
        }
    }
    if (!have_kind) {
        return PopupBeaconParse::kMissingKind;
    }
    PopupBeacon b;
    if (!parse_kind(kind, &b.kind)) {
        return PopupBeaconParse::kBadKind;
    }
    if (!have_id) {
        return PopupBeaconParse::kMissingId;
    }
    if (!valid_popup_id(id)) {
        return PopupBeaconParse::kBadId;
    }
    if (!have_token || token.empty()) {
        return PopupBeaconParse::kMissingToken;
    }
    if (!parse_popup_token(token)) {
        return PopupBeaconParse::kBadToken;
    }
    b.popup_id = id;
    b.token = token;
    *out = b;
    return PopupBeaconParse::kOk;
}

// KEYS: caps, live, rate counter.  ARGV: kind, id, now, rate, window, ttl,
// token record (kind letter and nonce), the token's issue time, horizon.
// Writes the schema decode_popup_caps reads: impressions newest first (at
// most 16), the visit of the last impression and the impressions in it, the
// last close, the conversion; at most 32 pop-ups, the one touched longest ago
// making room. A blob it cannot read is replaced (the reader shows no pop-up
// for it anyway); one of a newer schema is left alone. Beside them, under
// `t`, the token records: record -> issue time, dropped once the token could
// no longer pass check_popup_token (issued before the horizon); a record
// already there is a replay, and nothing is written.
const std::string_view kPopupCapsScript = R"lua(
-- erased (tailorctl profile erase): its tombstone sits beside KEYS[2], tailor:{<vid>}:live
if redis.call('EXISTS', string.sub(KEYS[2], 1, -5) .. 'erased') == 1 then return -2 end
local n = redis.call('INCR', KEYS[3])
if n == 1 then redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5])) end
if n > tonumber(ARGV[4]) then return 0 end
local kind, id, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local function num(x)
  if type(x) == 'number' and x >= 0 then return x end
  return 0
end
local caps
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, c = pcall(cmsgpack.unpack, raw)
  if ok and type(c) == 'table' then
    if type(c.v) == 'number' and c.v > 1 then return -1 end
    caps = c
  end
end
caps = caps or {}
caps.v = 1
if type(caps.t) ~= 'table' then caps.t = {} end
local seen, horizon, held = caps.t, tonumber(ARGV[9]), 0
for k, at in pairs(seen) do
  if type(at) ~= 'number' or at < horizon then seen[k] = nil else held = held + 1 end
end
if seen[ARGV[7]] ~= nil then return -3 end
if held >= 128 then return -4 end
seen[ARGV[7]] = tonumber(ARGV[8])
if type(caps.p) ~= 'table' then caps.p = {} end
local p = caps.p
local rec = p[id]
if type(rec) ~= 'table' then
  local count, oldest, oldest_at = 0, nil, nil
  for k, r in pairs(p) do
    count = count + 1
    local at = 0
    if type(r) == 'table' then
      if type(r.imp) == 'table' then at = num(r.imp[1]) end
      at = math.max(at, num(r.close), num(r.conv))
    end
    if oldest_at == nil or at < oldest_at then oldest, oldest_at = k, at end
  end
  if count >= 32 then p[oldest] = nil end
  rec = {}
  p[id] = rec
end
if kind == 'impression' then
  local imp = {now}
  if type(rec.imp) == 'table' then
    for i = 1, 15 do
      local t = rec.imp[i]
      if t == nil then break end
      imp[#imp + 1] = num(t)
    end
  end
  rec.imp = imp
  local visit = 0
  local live = redis.call('GET', KEYS[2])
  if live then
    local ok, l = pcall(cmsgpack.unpack, live)
    if ok and type(l) == 'table' then visit = num(l.visits) end
  end
  if visit > 0 and num(rec.visit) == visit then
    rec.visit_imp = num(rec.visit_imp) + 1
  else
    rec.visit = visit
    rec.visit_imp = 1
  end
elseif kind == 'close' then
  rec.close = now
else
  rec.conv = now
end
redis.call('SET', KEYS[1], cmsgpack.pack(caps), 'EX', tonumber(ARGV[6]))
return 1
)lua";

static_assert(kMaxPopupImpressions == 16 && kMaxPopupCapsEntries == 32,
              "the caps script writes at most what the reader keeps");
static_assert(kMaxPopupTokenRecords == 128, "the caps script holds at most this many records");
// 32 records of the largest pop-up (a 64-byte id, 16 impressions, 4 fields)
// and every token record fit the reader's bound with room to spare
static_assert(32 * (2 + 64 + 2 + 4 + 16 * 5 + 4 * 14) + kMaxPopupTokenRecords * (2 + 12 + 5) + 64 <
                  kMaxPopupCapsBytes,
              "a full caps blob stays readable");

std::string_view popup_caps_script_sha1() noexcept {
    static const std::string hex = redis_script_sha1(kPopupCapsScript);
    return hex;
}

bool popup_beacon_result(long long reply, PopupBeaconResult* out) noexcept {
    switch (reply) {
        case static_cast<long long>(PopupBeaconResult::kRecorded):
        case static_cast<long long>(PopupBeaconResult::kRateLimited):
        case static_cast<long long>(PopupBeaconResult::kNewerSchema):
        case static_cast<long long>(PopupBeaconResult::kErased):
        case static_cast<long long>(PopupBeaconResult::kReplayed):
        case static_cast<long long>(PopupBeaconResult::kTokensFull):
            *out = static_cast<PopupBeaconResult>(reply);
            return true;
        default:
            return false;
    }
}

PopupBeaconCommand::PopupBeaconCommand(std::string_view vid, const PopupBeacon& beacon,
                                       const PopupTokenCheck& token, int64_t now,
                                       const PopupBeaconLimits& limits) {
    caps_key_ = visitor_key(vid, VisitorKeyKind::kCaps);
    live_key_ = visitor_key(vid, VisitorKeyKind::kLive);
    rate_key_ = visitor_key(vid, VisitorKeyKind::kBeacon);
    now_ = std::to_string(now);
    rate_ = std::to_string(limits.rate);
    window_ = std::to_string(limits.window_seconds);
    ttl_ = std::to_string(limits.caps_ttl_seconds);
    // one letter per kind: a token may report each kind once
    static constexpr char kKindLetter[] = {'i', 'c', 'v'};
    record_.assign(1, kKindLetter[static_cast<size_t>(beacon.kind) % 3]);
    record_.append(token.nonce);
    issued_at_ = std::to_string(token.issued_at);
    horizon_ = std::to_string(now - static_cast<int64_t>(limits.token_max_age_seconds) -
                              kPopupTokenClockSkew);

    set(0, "EVALSHA");
    set(1, popup_caps_script_sha1());
    set(2, "3");
    set(3, caps_key_);
    set(4, live_key_);
    set(5, rate_key_);
    set(6, popup_beacon_kind_name(beacon.kind));
    set(7, beacon.popup_id);
    set(8, now_);
    set(9, rate_);
    set(10, window_);
    set(11, ttl_);
    set(12, record_);
    set(13, issued_at_);
    set(14, horizon_);
}

void PopupBeaconCommand::use_eval() noexcept {
    set(0, "EVAL");
    set(1, kPopupCapsScript);
}

void PopupBeaconCommand::set(size_t i, std::string_view s) noexcept {
    argv_[i] = s.data();
    argvlen_[i] = s.size();
}

}  // namespace tailor
