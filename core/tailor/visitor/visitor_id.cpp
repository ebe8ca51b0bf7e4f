// VisitorId: the signed visitor cookie `<vid>.<kid>.<mac>`; issuing, signing and verifying it.
#include "tailor/visitor/visitor_id.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstring>

#include "tailor/base/base64url.h"

namespace tailor {
namespace {

static_assert(base64url_encoded_size(kVidRandomBytes) == kGeneratedVidLength);
static_assert(base64url_encoded_size(kMacBytes) == kMacLength);
static_assert(kVisitorCookieMaxLength < 256, "lengths are stored in one byte");

bool all_base64url(std::string_view s) noexcept {
    for (char c : s) {
        if (!is_base64url_char(c)) {
            return false;
        }
    }
    return true;
}

// Splits `<vid>.<kid>.<mac>` and checks each part's syntax.
bool split_cookie(std::string_view value, std::string_view* vid, std::string_view* kid,
                  std::string_view* mac) noexcept {
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
    *mac = value.substr(dot2 + 1);
    // A third dot lands in the mac, which the alphabet check refuses.
    return is_valid_vid(*vid) && is_valid_kid(*kid) && mac->size() == kMacLength &&
           all_base64url(*mac);
}

}  // namespace

bool is_valid_vid(std::string_view vid) noexcept {
    return vid.size() >= kVidMinLength && vid.size() <= kVidMaxLength && all_base64url(vid);
}

std::optional<VisitorId> VisitorId::generate() noexcept {
    unsigned char bytes[kVidRandomBytes];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
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
                                               std::string_view kid) noexcept {
    if (!is_valid_kid(kid)) {
        return std::nullopt;
    }
    SignedVisitorId out;
    char* p = out.data_;
    const std::string_view v = vid.view();
    std::memcpy(p, v.data(), v.size());
    p += v.size();
    *p++ = '.';
    std::memcpy(p, kid.data(), kid.size());
    p += kid.size();
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

std::optional<SignedVisitorId> sign_visitor_id(const VisitorId& vid,
                                               const Keyring& keyring) noexcept {
    if (keyring.empty()) {
        return std::nullopt;
    }
    return sign_visitor_id(vid, keyring, keyring.current_kid());
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
    }
    return "invalid";
}

VisitorCookieCheck check_visitor_cookie(std::string_view value, const Keyring& keyring) noexcept {
    VisitorCookieCheck check;
    std::string_view vid;
    std::string_view kid;
    std::string_view mac;
    if (!split_cookie(value, &vid, &kid, &mac)) {
        check.status = VisitorCookieStatus::kMalformed;
        return check;
    }
    check.kid = kid;
    if (!keyring.contains(kid)) {
        check.status = VisitorCookieStatus::kUnknownKey;
        return check;
    }
    unsigned char expected[kMacBytes];
    // The signed message is the value up to the second dot: "<vid>.<kid>".
    if (!keyring.hmac_sha256(kid, value.substr(0, vid.size() + 1 + kid.size()), expected)) {
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
    return check;
}

std::optional<VisitorId> verify_visitor_cookie(std::string_view value,
                                               const Keyring& keyring) noexcept {
    return check_visitor_cookie(value, keyring).vid;
}

}  // namespace tailor
