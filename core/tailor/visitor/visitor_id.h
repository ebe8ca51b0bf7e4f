// VisitorId: the signed visitor cookie `<vid>.<kid>.<stamp>.<mac>`; issuing, signing and verifying
// it.
//
// Cookie value, as set and as read back:
//   vid    [A-Za-z0-9_-]{16,64}. Tailor issues 128 random bits from OpenSSL's
//          CSPRNG as 22 base64url characters; the shop's backend may name its
//          own (a customer id after login) within the same syntax. The
//          alphabet keeps the id safe as-is inside the Redis key
//          `tailor:{<vid>}:profile`: no braces, colons, spaces or quotes.
//   kid    [A-Za-z0-9_-]{1,16}: which key of the Keyring signed it.
//   stamp  19 characters: the issue time (unix seconds, 8 lower-case hex
//          digits) then a 64-bit random nonce (11 base64url characters), so
//          the server can refuse a cookie older than its maximum age, and
//          two cookies for the same id (a customer signing in twice) never
//          look alike.
//   mac    base64url, unpadded, 43 characters, of
//          HMAC-SHA256(secret of kid, "<vid>.<kid>.<stamp>"), i.e. of the
//          cookie value up to its third dot. None of the alphabets contains
//          `.`, so the message splits back into one (vid, kid, stamp) only.
// Legacy cookies `<vid>.<kid>.<mac>` (MAC over "<vid>.<kid>", no issue time)
// from the release before are still accepted for one release, and reported
// as such so the module re-signs them at once (docs/privacy.md). Their
// message has one dot, a current one two: neither MAC verifies as the other.
// Verification compares MACs in constant time (CRYPTO_memcmp) and accepts
// only the canonical encoding. Anything else (malformed, truncated,
// overlong, bad characters, forged, unknown kid) is "no visitor": the
// caller issues a new id and never mistakes one visitor for another.
//
// To reproduce a cookie elsewhere (e.g. Python):
//   stamp = "%08x" % issued_at + urlsafe_b64encode(os.urandom(8)).rstrip(b"=")
//   mac = urlsafe_b64encode(hmac.new(secret, f"{vid}.{kid}.{stamp}".encode(),
//                                    sha256).digest()).rstrip(b"=")
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tailor/visitor/keyring.h"

namespace tailor {

inline constexpr size_t kVidMinLength = 16;
inline constexpr size_t kVidMaxLength = 64;
inline constexpr size_t kVidRandomBytes = 16;      // 128 bits
inline constexpr size_t kGeneratedVidLength = 22;  // base64url of 16 bytes
inline constexpr size_t kMacLength = 43;           // base64url of 32 bytes
inline constexpr size_t kNonceBytes = 8;
inline constexpr size_t kStampLength = 8 + 11;  // hex seconds, base64url of the nonce
inline constexpr size_t kVisitorCookieMaxLength =
    kVidMaxLength + 1 + kKidMaxLength + 1 + kStampLength + 1 + kMacLength;

// The cookie name Tailor uses unless configured otherwise.
inline constexpr std::string_view kDefaultVisitorCookieName = "tailor_vid";

// is_valid_vid
//
// True if `vid` is a well-formed visitor id: [A-Za-z0-9_-]{16,64}.
//
// Example:
//   is_valid_vid("AAAAAAAAAAAAAAAAAAAAAA") == true
//   is_valid_vid("too-short") == false
//   is_valid_vid("customer:1234567890") == false  // ':' is not allowed
[[nodiscard]] bool is_valid_vid(std::string_view vid) noexcept;

// VisitorId
//
// A well-formed visitor id in fixed inline storage: trivially copyable, no
// heap, so it can live in a per-request context that nginx never destroys.
// Only the factories make one, so every VisitorId is valid.
class VisitorId {
  public:
    // VisitorId::generate
    //
    // A new random id: 16 bytes from the CSPRNG (base/random_bytes.h), 22 base64url characters.
    // Returns nullopt only if the CSPRNG fails (then issue no cookie: a
    // predictable id would be worse than none).
    //
    // Example:
    //   auto vid = VisitorId::generate();  // e.g. "q3Zf0x8W2mYbT1kL9cVn_A"
    [[nodiscard]] static std::optional<VisitorId> generate() noexcept;

    // VisitorId::from_string
    //
    // Wraps an externally supplied id after checking is_valid_vid.
    //
    // Example:
    //   VisitorId::from_string("cust_0000012345678")->view() == "cust_0000012345678"
    //   VisitorId::from_string("a b") == std::nullopt
    [[nodiscard]] static std::optional<VisitorId> from_string(std::string_view vid) noexcept;

    // VisitorId::view
    //
    // The id's characters; valid as long as this VisitorId.
    //
    // Example:
    //   std::string key = visitor_key(vid.view(), VisitorKeyKind::kProfile);
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

    friend bool operator==(const VisitorId& a, const VisitorId& b) noexcept {
        return a.view() == b.view();
    }
    friend bool operator!=(const VisitorId& a, const VisitorId& b) noexcept { return !(a == b); }

  private:
    VisitorId() noexcept = default;

    char data_[kVidMaxLength] = {};
    unsigned char size_ = 0;
};

// SignedVisitorId
//
// A cookie value `<vid>.<kid>.<stamp>.<mac>` in fixed inline storage.
class SignedVisitorId {
  public:
    // SignedVisitorId::view
    //
    // The cookie value, ready for Set-Cookie; valid as long as this object.
    //
    // Example:
    //   sign_visitor_id(vid, ring)->view()  // "q3Zf0x8W2mYbT1kL9cVn_A.k1.<43 chars>"
    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }

  private:
    friend std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                                          const Keyring& keyring,
                                                          std::string_view kid,
                                                          int64_t issued_at) noexcept;
    SignedVisitorId() noexcept = default;

    char data_[kVisitorCookieMaxLength] = {};
    unsigned char size_ = 0;
};

// sign_visitor_id
//
// Signs `vid` with the keyring's key `kid`, stamped `issued_at` (unix
// seconds, 0 to 2^32-1) and a fresh random nonce. Returns nullopt if no key
// has that kid, the time is out of range, or OpenSSL fails.
//
// Example:
//   auto cookie = sign_visitor_id(*VisitorId::generate(), ring, "k2025a", now);
[[nodiscard]] std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                                             const Keyring& keyring,
                                                             std::string_view kid,
                                                             int64_t issued_at) noexcept;

// sign_visitor_id
//
// Signs `vid` with the current key at `issued_at`. Returns nullopt if the
// ring is empty.
//
// Example:
//   auto cookie = sign_visitor_id(*VisitorId::generate(), ring, now);
//   verify_visitor_cookie(cookie->view(), ring) == vid
[[nodiscard]] std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                                             const Keyring& keyring,
                                                             int64_t issued_at) noexcept;

// sign_visitor_id
//
// The two above at the current time (tools and tests; the module passes
// nginx's cached clock).
[[nodiscard]] std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                                             const Keyring& keyring,
                                                             std::string_view kid) noexcept;
[[nodiscard]] std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                                             const Keyring& keyring) noexcept;

// VisitorCookieStatus
//
// Why a cookie value was or was not accepted. For operators and counters
// only: the request path treats every failure alike (a new visitor).
enum class VisitorCookieStatus : unsigned char {
    kValid = 0,
    kMalformed,   // not `<vid>.<kid>.<stamp>.<mac>` (or the legacy form) as above
    kUnknownKey,  // well-formed, but no key with that kid (retired key?)
    kForged,      // well-formed, known kid, MAC does not match
    kExpired,     // valid MAC, issued longer ago than the maximum age (or ahead of the clock)
};

// visitor_cookie_status_name
//
// A short lower-case reason for logs and tailorctl.
//
// Example:
//   visitor_cookie_status_name(VisitorCookieStatus::kUnknownKey) == "unknown key id"
[[nodiscard]] std::string_view visitor_cookie_status_name(VisitorCookieStatus status) noexcept;

// VisitorCookieCheck
//
// The outcome of check_visitor_cookie. `vid` is set only when valid; `kid`
// views the checked value and is set whenever the value is well-formed.
// `issued_at` is the stamp's time (0 for a legacy cookie, which has none),
// `legacy` says the value had the previous release's form.
struct VisitorCookieCheck {
    VisitorCookieStatus status = VisitorCookieStatus::kMalformed;
    std::optional<VisitorId> vid;
    std::string_view kid;
    int64_t issued_at = 0;
    bool legacy = false;
};

// check_visitor_cookie
//
// Parses and verifies a cookie value, saying why it failed. Values longer
// than kVisitorCookieMaxLength are refused before anything else is read.
//
// Example:
//   auto check = check_visitor_cookie("AAAAAAAAAAAAAAAAAAAAAA.old.<mac>", ring);
//   check.status == VisitorCookieStatus::kUnknownKey, check.kid == "old"
[[nodiscard]] VisitorCookieCheck check_visitor_cookie(std::string_view value,
                                                      const Keyring& keyring) noexcept;

// verify_visitor_cookie
//
// The visitor id of a valid cookie value, or nullopt for anything else:
// the request path's call.
//
// Example:
//   if (auto vid = verify_visitor_cookie(value, ring)) { ... known visitor ... }
[[nodiscard]] std::optional<VisitorId> verify_visitor_cookie(std::string_view value,
                                                             const Keyring& keyring) noexcept;

}  // namespace tailor
