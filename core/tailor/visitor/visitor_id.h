// VisitorId: the signed visitor cookie `<vid>.<kid>.<mac>`; issuing, signing and verifying it.
//
// Cookie value, as set and as read back:
//   vid  [A-Za-z0-9_-]{16,64}. Tailor issues 128 random bits from OpenSSL's
//        CSPRNG as 22 base64url characters; the shop's backend may name its
//        own (a customer id after login) within the same syntax. The
//        alphabet keeps the id safe as-is inside the Redis key
//        `tailor:{<vid>}:profile`: no braces, colons, spaces or quotes.
//   kid  [A-Za-z0-9_-]{1,16}: which key of the Keyring signed it.
//   mac  base64url, unpadded, 43 characters, of
//        HMAC-SHA256(secret of kid, "<vid>.<kid>"), i.e. of the cookie
//        value up to its second dot. Neither alphabet contains `.`, so the
//        message splits back into one (vid, kid) pair only; including the
//        kid binds the MAC to the key that made it.
// Verification compares MACs in constant time (CRYPTO_memcmp) and accepts
// only the canonical encoding. Anything else (malformed, truncated,
// overlong, bad characters, forged, unknown kid) is "no visitor": the
// caller issues a new id and never mistakes one visitor for another.
//
// To reproduce a cookie elsewhere (e.g. Python):
//   mac = urlsafe_b64encode(hmac.new(secret, f"{vid}.{kid}".encode(),
//                                    sha256).digest()).rstrip(b"=")
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "tailor/visitor/keyring.h"

namespace tailor {

inline constexpr size_t kVidMinLength = 16;
inline constexpr size_t kVidMaxLength = 64;
inline constexpr size_t kVidRandomBytes = 16;      // 128 bits
inline constexpr size_t kGeneratedVidLength = 22;  // base64url of 16 bytes
inline constexpr size_t kMacLength = 43;           // base64url of 32 bytes
inline constexpr size_t kVisitorCookieMaxLength =
    kVidMaxLength + 1 + kKidMaxLength + 1 + kMacLength;

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
    // A new random id: 16 bytes from RAND_bytes, 22 base64url characters.
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
// A cookie value `<vid>.<kid>.<mac>` in fixed inline storage.
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
                                                          std::string_view kid) noexcept;
    SignedVisitorId() noexcept = default;

    char data_[kVisitorCookieMaxLength] = {};
    unsigned char size_ = 0;
};

// sign_visitor_id
//
// Signs `vid` with the keyring's key `kid`. Returns nullopt if no key has
// that kid (or OpenSSL fails).
//
// Example:
//   auto cookie = sign_visitor_id(*VisitorId::generate(), ring, "k2025a");
[[nodiscard]] std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                                             const Keyring& keyring,
                                                             std::string_view kid) noexcept;

// sign_visitor_id
//
// Signs `vid` with the current key. Returns nullopt if the ring is empty.
//
// Example:
//   auto cookie = sign_visitor_id(*VisitorId::generate(), ring);
//   verify_visitor_cookie(cookie->view(), ring) == vid
[[nodiscard]] std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                                             const Keyring& keyring) noexcept;

// VisitorCookieStatus
//
// Why a cookie value was or was not accepted. For operators and counters
// only: the request path treats every failure alike (a new visitor).
enum class VisitorCookieStatus : unsigned char {
    kValid = 0,
    kMalformed,   // not `<vid>.<kid>.<mac>` in the syntax above
    kUnknownKey,  // well-formed, but no key with that kid (retired key?)
    kForged,      // well-formed, known kid, MAC does not match
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
struct VisitorCookieCheck {
    VisitorCookieStatus status = VisitorCookieStatus::kMalformed;
    std::optional<VisitorId> vid;
    std::string_view kid;
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
