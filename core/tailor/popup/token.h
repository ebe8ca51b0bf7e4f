// PopupToken: the signed proof, carried in a page's directives, that the module offered pop-up P
// to visitor V; the beacon records caps and events only under one.
//
// Without it the beacon would write caps (and "Promotion ..." events) for any
// pop-up the pack declares, for any visitor with a cookie, whether or not the
// module ever offered it: drive-by state, and impressions nobody saw in the
// numbers. With it, a beacon is recorded only when the module itself offered
// this pop-up to this visitor, recently; and each token counts at most once
// per kind (impression, close, conversion: the beacon's script keeps the
// nonces it has seen, docs/popups.md).
//
// Token, as written into `popups[].token` and sent back as the beacon's `t=`:
//
//   <kid>.<stamp>.<mac>
//
//   kid    [A-Za-z0-9_-]{1,16}: the tailor_keys key that signed it (the
//          current one when issued; any listed key verifies, so a rotation
//          does not void the tokens of open pages).
//   stamp  19 characters: the issue time (unix seconds, 8 lower-case hex
//          digits) then a 64-bit random nonce (11 base64url characters).
//   mac    22 base64url characters, unpadded: the first 16 bytes (128 bits)
//          of HMAC-SHA256(secret of kid,
//              "tailor-popup-token\n<vid>\n<popup id>\n<kid>.<stamp>").
//
// URL-safe as is (no percent-escapes), at most 59 bytes. The message starts
// with a label and holds newlines, which no visitor-cookie message (only
// base64url and dots) ever does, so a token's MAC can never pass for a
// cookie's, nor a cookie's for a token's, under the same key. Verification
// compares the canonical encoding in constant time (CRYPTO_memcmp).
//
// To mint one elsewhere (e.g. Python, for tests):
//   stamp = "%08x" % issued_at + urlsafe_b64encode(os.urandom(8)).rstrip(b"=").decode()
//   msg = "tailor-popup-token\n%s\n%s\n%s.%s" % (vid, popup_id, kid, stamp)
//   mac = urlsafe_b64encode(hmac.new(secret, msg.encode(), sha256).digest()[:16])
//   token = "%s.%s.%s" % (kid, stamp, mac.rstrip(b"=").decode())
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tailor/decision/decision.h"
#include "tailor/visitor/keyring.h"

namespace tailor {

inline constexpr size_t kPopupTokenNonceBytes = 8;
inline constexpr size_t kPopupTokenMacBytes = 16;  // HMAC-SHA256, truncated to 128 bits
inline constexpr size_t kPopupTokenStampLength = 8 + 11;
inline constexpr size_t kPopupTokenMacLength = 22;
inline constexpr size_t kPopupTokenMaxLength =
    kKidMaxLength + 1 + kPopupTokenStampLength + 1 + kPopupTokenMacLength;

// How long a token stays good by default: a page left open (a linger or
// idle trigger, a conversion after reading) still reports, an old tab does
// not. tailor_popup_beacon token_max_age= changes it.
inline constexpr int64_t kDefaultPopupTokenMaxAge = 6 * 3600;
// A token "issued" this far ahead of the verifier's clock still counts (the
// page came from another server whose clock runs ahead); further is refused.
inline constexpr int64_t kPopupTokenClockSkew = 300;

// PopupToken
//
// A token in fixed inline storage: trivially copyable, no heap.
class PopupToken {
  public:
    // PopupToken::view
    //
    // The token's characters; valid as long as this object.
    //
    // Example:
    //   issue_popup_token(ring, vid, "cart-rescue", now)->view()  // "k1.6560f1a0Xq3...."
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

  private:
    friend std::optional<PopupToken> issue_popup_token(const Keyring& keyring, std::string_view kid,
                                                       std::string_view vid,
                                                       std::string_view popup_id,
                                                       int64_t issued_at) noexcept;
    PopupToken() noexcept = default;

    char data_[kPopupTokenMaxLength] = {};
    unsigned char size_ = 0;
};

// issue_popup_token
//
// A token for pop-up `popup_id` offered to visitor `vid`, under key `kid`
// (or the keyring's current key), stamped `issued_at` (unix seconds,
// 0..2^32-1) and a fresh random nonce. Nullopt when no key has that kid, the
// time is out of range, vid or id are not well-formed ([A-Za-z0-9_-], vid
// 16..64, id 1..64), or OpenSSL fails: then offer no pop-up, since its
// beacons could never be recorded.
//
// Example:
//   auto t = issue_popup_token(ring, "q3Zf0x8W2mYbT1kL9cVn_A", "cart-rescue", now);
[[nodiscard]] std::optional<PopupToken> issue_popup_token(const Keyring& keyring,
                                                          std::string_view kid,
                                                          std::string_view vid,
                                                          std::string_view popup_id,
                                                          int64_t issued_at) noexcept;
[[nodiscard]] std::optional<PopupToken> issue_popup_token(const Keyring& keyring,
                                                          std::string_view vid,
                                                          std::string_view popup_id,
                                                          int64_t issued_at) noexcept;

// PopupTokenParts
//
// A token split and its syntax checked; the views point into it.
struct PopupTokenParts {
    std::string_view kid;
    std::string_view stamp;  // issue time and nonce, what the MAC covers after the kid
    std::string_view nonce;  // 11 base64url characters: what the beacon's script remembers
    std::string_view mac;
    int64_t issued_at = 0;
};

// parse_popup_token
//
// The parts of `<kid>.<stamp>.<mac>`, or nullopt when anything is off:
// length, dots, alphabets, the stamp's hex. Checks syntax only, never the
// MAC. Never allocates.
//
// Example:
//   parse_popup_token("k1.6560f1a0AAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA")->issued_at == 0x6560f1a0
//   parse_popup_token("k1..x") == std::nullopt
[[nodiscard]] std::optional<PopupTokenParts> parse_popup_token(std::string_view token) noexcept;

// PopupTokenStatus
enum class PopupTokenStatus : unsigned char {
    kValid = 0,
    kMissing,     // no token at all (a runtime older than the token)
    kMalformed,   // not `<kid>.<stamp>.<mac>`
    kUnknownKey,  // signed by a key tailor_keys no longer lists
    kForged,      // the MAC does not verify for this visitor and this pop-up
    kExpired,     // issued more than max_age ago
    kFuture,      // issued more than kPopupTokenClockSkew ahead of now
};

// popup_token_status_name
//
// Example:
//   popup_token_status_name(PopupTokenStatus::kForged) == "not issued for this visitor and pop-up"
[[nodiscard]] std::string_view popup_token_status_name(PopupTokenStatus status) noexcept;

// PopupTokenCheck
//
// `status`; for a valid token also its nonce (viewing the token) and issue time.
struct PopupTokenCheck {
    PopupTokenStatus status = PopupTokenStatus::kMalformed;
    std::string_view nonce;
    int64_t issued_at = 0;
};

// check_popup_token
//
// Whether `token` was issued by this keyring for `vid` and `popup_id`, at
// most `max_age` seconds before `now` (and not over kPopupTokenClockSkew
// after it). A token of another visitor or another pop-up is kForged: the
// MAC covers both. The order of the checks: syntax, key, MAC, then age, so
// the age of a forged token is never believed.
//
// Example:
//   auto c = check_popup_token(t.view(), ring, vid, "cart-rescue", now, kDefaultPopupTokenMaxAge);
//   c.status == PopupTokenStatus::kValid
[[nodiscard]] PopupTokenCheck check_popup_token(std::string_view token, const Keyring& keyring,
                                                std::string_view vid, std::string_view popup_id,
                                                int64_t now, int64_t max_age) noexcept;

// PopupDirectivesSigning
enum class PopupDirectivesSigning : unsigned char {
    kNone = 0,  // the decision offers no pop-up: nothing to sign
    kSigned,    // the offered pop-up carries its token
    kDropped,   // no token could be issued or placed: the directives were removed
};

// sign_popup_directives
//
// Gives the pop-up the decision's directives offer (the first, today the
// only, object of their `popups`, docs/popups.md) a token for visitor `vid`,
// as `"token":"..."`, the first field of that object. Runs per request after
// the decision, which may be shared with other visitors
// (engine/decision_memo.h). When the directives hold no pop-up, its id is
// not one a beacon takes, or no token can be issued, removes the directives
// (the runtime's tag with them): a pop-up whose beacons would all be refused
// would never be capped.
//
// Example:
//   sign_popup_directives(p.decision(), ring, vid, now);
//   // {"v":1,"popups":[{"token":"k1.6560f1a0....","id":"cart-rescue",...}],...}
[[nodiscard]] PopupDirectivesSigning sign_popup_directives(Decision& decision,
                                                           const Keyring& keyring,
                                                           std::string_view vid,
                                                           int64_t now) noexcept;

}  // namespace tailor
