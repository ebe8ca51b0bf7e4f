// Pop-up beacon fuzz: the query string of POST /tailor/beacon, attacker-controlled.
//
// Invariants: parsing never reads outside the query; an accepted beacon's id
// views the query, is 1..64 of [A-Za-z0-9_-] (so it can never leave the
// visitor's hash-tagged key or inject a Redis argument), and its kind has a
// name; its token views the query and parses; the same query parses the same
// way twice; the command built from it has exactly the script's arguments,
// touches only the visitor's keys, and its token record is the kind's letter
// and the token's nonce.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/popup/beacon.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

bool id_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string query(reinterpret_cast<const char*>(data), size);
    tailor::PopupBeacon b;
    tailor::PopupBeaconParse p = tailor::parse_popup_beacon_query(query, &b);
    check(!tailor::popup_beacon_parse_name(p).empty());

    tailor::PopupBeacon again;
    check(tailor::parse_popup_beacon_query(query, &again) == p);
    if (p != tailor::PopupBeaconParse::kOk) {
        return 0;
    }
    check(again.kind == b.kind && again.popup_id == b.popup_id && again.token == b.token);
    check(b.token.data() >= query.data() &&
          b.token.data() + b.token.size() <= query.data() + query.size());
    auto parts = tailor::parse_popup_token(b.token);
    check(parts.has_value());
    check(b.popup_id.data() >= query.data() &&
          b.popup_id.data() + b.popup_id.size() <= query.data() + query.size());
    check(!b.popup_id.empty() && b.popup_id.size() <= 64);
    for (char c : b.popup_id) {
        check(id_char(c));
    }
    check(!tailor::popup_beacon_kind_name(b.kind).empty());
    check(!tailor::popup_beacon_event_name(b.kind).empty());

    tailor::PopupTokenCheck token;
    token.status = tailor::PopupTokenStatus::kValid;
    token.nonce = parts->nonce;
    token.issued_at = parts->issued_at;
    tailor::PopupBeaconCommand cmd("fuzzvid", b, token, 1763600000, tailor::PopupBeaconLimits{});
    check(cmd.argc() == 15);
    for (int i = 3; i <= 5; i++) {
        std::string_view key(cmd.argv()[i], cmd.argvlen()[i]);
        check(key.substr(0, 16) == "tailor:{fuzzvid}");
    }
    check(std::string_view(cmd.argv()[7], cmd.argvlen()[7]) == b.popup_id);
    const std::string_view record(cmd.argv()[12], cmd.argvlen()[12]);
    check(record.size() == 12 && record.substr(1) == parts->nonce);
    return 0;
}
