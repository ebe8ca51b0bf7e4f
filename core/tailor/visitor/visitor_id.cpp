// VisitorId: the signed visitor cookie `<vid>.<kid>.<stamp>.<mac>`; issuing, signing, verifying.
#include "tailor/visitor/visitor_id.h"

#include <openssl/crypto.h>

#include <cstring>
#include <ctime>

#include "tailor/base/base64url.h"
#include "tailor/base/random_bytes.h"

namespace tailor {
namespace {

static_assert(base64url_encoded_size(kVidRandomBytes) == kGeneratedVidLength);
static_assert(base64url_encoded_size(kMacBytes) == kMacLength);
static_assert(8 + base64url_encoded_size(kNonceBytes) == kStampLength);
static_assert(kVisitorCookieMaxLength < 256, "lengths are stored in one byte");

bool is_stamp(std::string_view s) noexcept {
    if (s.size() != kStampLength) {
        return false;
    }
    for (size_t i = 0; i < 8; ++i) {
        const char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return all_base64url(s.substr(8));
}

int64_t stamp_time(std::string_view stamp) noexcept {
    int64_t t = 0;
    for (size_t i = 0; i < 8; ++i) {
        const char c = stamp[i];
        t = t * 16 + (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return t;
}

// The parts of `<vid>.<kid>.<stamp>.<mac>` or, legacy, `<vid>.<kid>.<mac>`
// (then `stamp` is empty), each part's syntax checked.
bool split_cookie(std::string_view value, std::string_view* vid, std::string_view* kid,
                  std::string_view* stamp, std::string_view* mac) noexcept {
    if (value.size() > kVisitorCookieMaxLength) {
        return false;
    }
    const size_t dot1 = value.find('.');
    if (dot1 == std::string_view::npos) {
        return false;
    }
    const size_t dot2 = value.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) {
        return false;
    }
    *vid = value.substr(0, dot1);
    *kid = value.substr(dot1 + 1, dot2 - dot1 - 1);
    const size_t dot3 = value.find('.', dot2 + 1);
    if (dot3 == std::string_view::npos) {
        *stamp = {};
        *mac = value.substr(dot2 + 1);
    } else {
        *stamp = value.substr(dot2 + 1, dot3 - dot2 - 1);
        *mac = value.substr(dot3 + 1);
        if (!is_stamp(*stamp)) {
            return false;
        }
    }
    // A further dot lands in the mac, which the alphabet check refuses.
    return is_valid_vid(*vid) && is_valid_kid(*kid) && mac->size() == kMacLength &&
           all_base64url(*mac);
}

}  // namespace

bool is_valid_vid(std::string_view vid) noexcept {
    return vid.size() >= kVidMinLength && vid.size() <= kVidMaxLength && all_base64url(vid);
}

std::optional<VisitorId> VisitorId::generate() noexcept {
    unsigned char bytes[kVidRandomBytes];
    if (!random_bytes(bytes, sizeof bytes)) {
        return std::nullopt;
    }
    VisitorId id;
    id.size_ = static_cast<unsigned char>(base64url_encode_to(bytes, sizeof bytes, id.data_));
    return id;
}

std::optional<VisitorId> VisitorId::from_string(std::string_view vid) noexcept {
    if (!is_valid_vid(vid)) {
        return std::nullopt;
    }
    VisitorId id;
    std::memcpy(id.data_, vid.data(), vid.size());
    id.size_ = static_cast<unsigned char>(vid.size());
    return id;
}

std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid, const Keyring& keyring,
                                               std::string_view kid, int64_t issued_at) noexcept {
    if (!is_valid_kid(kid) || issued_at < 0 || issued_at > 0xffffffffLL) {
        return std::nullopt;
    }
    unsigned char nonce[kNonceBytes];
    if (!random_bytes(nonce, sizeof nonce)) {
        return std::nullopt;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    SignedVisitorId out;
    char* p = out.data_;
    const std::string_view v = vid.view();
    std::memcpy(p, v.data(), v.size());
    p += v.size();
    *p++ = '.';
    std::memcpy(p, kid.data(), kid.size());
    p += kid.size();
    *p++ = '.';
    for (int shift = 28; shift >= 0; shift -= 4) {
        *p++ = kHex[(static_cast<uint64_t>(issued_at) >> shift) & 0xf];
    }
    p += base64url_encode_to(nonce, sizeof nonce, p);
    unsigned char mac[kMacBytes];
    if (!keyring.hmac_sha256(kid, std::string_view(out.data_, static_cast<size_t>(p - out.data_)),
                             mac)) {
        return std::nullopt;
    }
    *p++ = '.';
    p += base64url_encode_to(mac, sizeof mac, p);
    out.size_ = static_cast<unsigned char>(p - out.data_);
    return out;
}

std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid, const Keyring& keyring,
                                               int64_t issued_at) noexcept {
    if (keyring.empty()) {
        return std::nullopt;
    }
    return sign_visitor_id(vid, keyring, keyring.current_kid(), issued_at);
}

std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid, const Keyring& keyring,
                                               std::string_view kid) noexcept {
    return sign_visitor_id(vid, keyring, kid, static_cast<int64_t>(std::time(nullptr)));
}

std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                               const Keyring& keyring) noexcept {
    return sign_visitor_id(vid, keyring, static_cast<int64_t>(std::time(nullptr)));
}

std::string_view visitor_cookie_status_name(VisitorCookieStatus status) noexcept {
    switch (status) {
        case VisitorCookieStatus::kValid:
            return "valid";
        case VisitorCookieStatus::kMalformed:
            return "malformed";
        case VisitorCookieStatus::kUnknownKey:
            return "unknown key id";
        case VisitorCookieStatus::kForged:
            return "invalid";
        case VisitorCookieStatus::kExpired:
            return "expired";
    }
    return "invalid";
}

VisitorCookieCheck check_visitor_cookie(std::string_view value, const Keyring& keyring) noexcept {
    VisitorCookieCheck check;
    std::string_view vid;
    std::string_view kid;
    std::string_view stamp;
    std::string_view mac;
    if (!split_cookie(value, &vid, &kid, &stamp, &mac)) {
        check.status = VisitorCookieStatus::kMalformed;
        return check;
    }
    check.kid = kid;
    if (!keyring.contains(kid)) {
        check.status = VisitorCookieStatus::kUnknownKey;
        return check;
    }
    unsigned char expected[kMacBytes];
    // The signed message is the value up to the mac: "<vid>.<kid>.<stamp>"
    // ("<vid>.<kid>" for a legacy cookie).
    const size_t signed_len = vid.size() + 1 + kid.size() + (stamp.empty() ? 0 : 1 + stamp.size());
    if (!keyring.hmac_sha256(kid, value.substr(0, signed_len), expected)) {
        check.status = VisitorCookieStatus::kForged;  // OpenSSL failed: fail closed
        return check;
    }
    // Compare encodings, not decoded bytes: a non-canonical spelling of the
    // right MAC (unused low bits set) then fails too, so each visitor has
    // exactly one valid cookie per key.
    char encoded[kMacLength];
    base64url_encode_to(expected, sizeof expected, encoded);
    if (CRYPTO_memcmp(encoded, mac.data(), kMacLength) != 0) {
        check.status = VisitorCookieStatus::kForged;
        return check;
    }
    check.status = VisitorCookieStatus::kValid;
    check.vid = VisitorId::from_string(vid);
    check.legacy = stamp.empty();
    check.issued_at = stamp.empty() ? 0 : stamp_time(stamp);
    return check;
}

std::optional<VisitorId> verify_visitor_cookie(std::string_view value,
                                               const Keyring& keyring) noexcept {
    return check_visitor_cookie(value, keyring).vid;
}

}  // namespace tailor
