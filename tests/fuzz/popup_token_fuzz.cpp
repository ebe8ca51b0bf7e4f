// Pop-up token fuzz: the beacon's `t=` value, attacker-controlled, parsed and checked.
//
// Input: a token. Invariants:
//  - parsing never reads outside the input; the parts it returns view it,
//    in order, with the documented lengths and alphabets, and rebuild it;
//  - a token that checks valid parses, names a key of the ring, and its
//    nonce and issue time are the parsed ones; the same check answers the
//    same way twice;
//  - valid for one visitor and pop-up, it is valid for no other pair tried
//    (the MAC covers both);
//  - a token issued now for a visitor and pop-up made from the input
//    verifies for exactly that pair, and its parts round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/base/base64url.h"
#include "tailor/popup/token.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

const tailor::Keyring& fuzz_keyring() {
    // The seeds in corpus/popup_token were minted with these secrets.
    static const tailor::Keyring ring = [] {
        tailor::Keyring r;
        if (!r.add("k1", std::string(32, '1'), nullptr) ||
            !r.add("k0", std::string(32, '0'), nullptr)) {
            std::abort();
        }
        return r;
    }();
    return ring;
}

constexpr std::string_view kVid = "AAAAAAAAAAAAAAAAAAAAAA";
constexpr int64_t kNow = 0x6560f1a0;

bool inside(std::string_view part, std::string_view whole) {
    return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// An id from the input's bytes: its [A-Za-z0-9_-] characters, 1..64 of them.
std::string id_from(std::string_view input) {
    std::string id;
    for (char c : input) {
        if (tailor::is_base64url_char(c) && id.size() < 64) {
            id.push_back(c);
        }
    }
    return id.empty() ? std::string("p") : id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string token(reinterpret_cast<const char*>(data), size);
    const tailor::Keyring& ring = fuzz_keyring();

    auto parts = tailor::parse_popup_token(token);
    if (parts) {
        check(inside(parts->kid, token) && inside(parts->stamp, token) &&
              inside(parts->mac, token) && inside(parts->nonce, parts->stamp));
        check(tailor::is_valid_kid(parts->kid));
        check(parts->stamp.size() == tailor::kPopupTokenStampLength);
        check(parts->mac.size() == tailor::kPopupTokenMacLength);
        check(parts->issued_at >= 0 && parts->issued_at <= 0xffffffffLL);
        check(std::string(parts->kid) + "." + std::string(parts->stamp) + "." +
                  std::string(parts->mac) ==
              token);
    }

    // what the input most likely was minted for (the seeds), and others
    const std::string_view ids[] = {"cart-rescue", "browse-help"};
    const std::string_view vids[] = {kVid, "BBBBBBBBBBBBBBBBBBBBBB"};
    int valid = 0;
    for (std::string_view vid : vids) {
        for (std::string_view id : ids) {
            auto c = tailor::check_popup_token(token, ring, vid, id, kNow, 6 * 3600);
            auto again = tailor::check_popup_token(token, ring, vid, id, kNow, 6 * 3600);
            check(c.status == again.status);
            check(!tailor::popup_token_status_name(c.status).empty());
            if (c.status != tailor::PopupTokenStatus::kValid) {
                continue;
            }
            ++valid;
            check(parts && ring.contains(parts->kid));
            check(c.nonce == parts->nonce && c.issued_at == parts->issued_at);
            check(c.issued_at <= kNow + tailor::kPopupTokenClockSkew &&
                  kNow - c.issued_at <= 6 * 3600);
        }
    }
    check(valid <= 1);

    // a fresh token for an id made of the input verifies for that id only
    const std::string id = id_from(token);
    auto issued = tailor::issue_popup_token(ring, kVid, id, kNow);
    check(issued.has_value());
    check(tailor::check_popup_token(issued->view(), ring, kVid, id, kNow, 60).status ==
          tailor::PopupTokenStatus::kValid);
    check(tailor::check_popup_token(issued->view(), ring, vids[1], id, kNow, 60).status ==
          tailor::PopupTokenStatus::kForged);
    check(tailor::check_popup_token(issued->view(), ring, kVid, id + "x", kNow, 60).status !=
          tailor::PopupTokenStatus::kValid);
    auto issued_parts = tailor::parse_popup_token(issued->view());
    check(issued_parts && issued_parts->issued_at == kNow && issued_parts->kid == "k1");
    return 0;
}
