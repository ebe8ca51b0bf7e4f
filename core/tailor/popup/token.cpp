// PopupToken: issuing and checking the pop-up tokens, and putting one into a decision's directives.
#include "tailor/popup/token.h"

#include <openssl/crypto.h>

#include <cstring>
#include <new>
#include <string>

#include "tailor/base/base64url.h"
#include "tailor/base/random_bytes.h"
#include "tailor/visitor/visitor_id.h"

namespace tailor {
namespace {

static_assert(base64url_encoded_size(kPopupTokenNonceBytes) + 8 == kPopupTokenStampLength);
static_assert(base64url_encoded_size(kPopupTokenMacBytes) == kPopupTokenMacLength);
static_assert(kPopupTokenMacBytes <= kMacBytes);
static_assert(kPopupTokenMaxLength < 256, "the length is stored in one byte");

// Begins every signed message; a visitor cookie's message never holds a newline.
constexpr std::string_view kLabel = "tailor-popup-token\n";
constexpr size_t kMaxPopupIdBytes = 64;
constexpr int64_t kMaxIssueTime = 0xffffffffLL;  // 8 hex digits
constexpr char kHex[] = "0123456789abcdef";

bool valid_popup_id(std::string_view id) noexcept {
    // the same alphabet: [A-Za-z0-9_-]
    return !id.empty() && id.size() <= kMaxPopupIdBytes && all_base64url(id);
}

// "tailor-popup-token\n<vid>\n<id>\n<kid>.<stamp>" into `buf`, which holds
// kMaxMessage bytes; returns the message.
constexpr size_t kMaxMessage = kLabel.size() + kVidMaxLength + 1 + kMaxPopupIdBytes + 1 +
                               kKidMaxLength + 1 + kPopupTokenStampLength;

std::string_view message(char (&buf)[kMaxMessage], std::string_view vid, std::string_view id,
                         std::string_view kid, std::string_view stamp) noexcept {
    char* p = buf;
    auto put = [&p](std::string_view s) {
        std::memcpy(p, s.data(), s.size());
        p += s.size();
    };
    put(kLabel);
    put(vid);
    *p++ = '\n';
    put(id);
    *p++ = '\n';
    put(kid);
    *p++ = '.';
    put(stamp);
    return {buf, static_cast<size_t>(p - buf)};
}

// The canonical MAC characters for the message, or false when OpenSSL fails.
bool mac_of(const Keyring& keyring, std::string_view kid, std::string_view msg,
            char (&out)[kPopupTokenMacLength]) noexcept {
    unsigned char mac[kMacBytes];
    if (!keyring.hmac_sha256(kid, msg, mac)) {
        return false;
    }
    base64url_encode_to(mac, kPopupTokenMacBytes, out);
    OPENSSL_cleanse(mac, sizeof mac);
    return true;
}

}  // namespace

std::optional<PopupToken> issue_popup_token(const Keyring& keyring, std::string_view kid,
                                            std::string_view vid, std::string_view popup_id,
                                            int64_t issued_at) noexcept {
    if (!keyring.contains(kid) || !is_valid_vid(vid) || !valid_popup_id(popup_id) ||
        issued_at < 0 || issued_at > kMaxIssueTime) {
        return std::nullopt;
    }
    unsigned char nonce[kPopupTokenNonceBytes];
    if (!random_bytes(nonce, sizeof nonce)) {
        return std::nullopt;
    }
    PopupToken token;
    char* p = token.data_;
    std::memcpy(p, kid.data(), kid.size());
    p += kid.size();
    *p++ = '.';
    char* stamp = p;
    for (int shift = 28; shift >= 0; shift -= 4) {
        *p++ = kHex[(issued_at >> shift) & 0xf];
    }
    p += base64url_encode_to(nonce, sizeof nonce, p);
    char buf[kMaxMessage];
    char mac[kPopupTokenMacLength];
    if (!mac_of(keyring, kid,
                message(buf, vid, popup_id, kid,
                        std::string_view(stamp, static_cast<size_t>(p - stamp))),
                mac)) {
        return std::nullopt;
    }
    *p++ = '.';
    std::memcpy(p, mac, sizeof mac);
    p += sizeof mac;
    token.size_ = static_cast<unsigned char>(p - token.data_);
    return token;
}

std::optional<PopupToken> issue_popup_token(const Keyring& keyring, std::string_view vid,
                                            std::string_view popup_id, int64_t issued_at) noexcept {
    return issue_popup_token(keyring, keyring.current_kid(), vid, popup_id, issued_at);
}

std::optional<PopupTokenParts> parse_popup_token(std::string_view token) noexcept {
    if (token.size() > kPopupTokenMaxLength) {
        return std::nullopt;
    }
    const size_t dot1 = token.find('.');
    if (dot1 == std::string_view::npos) {
        return std::nullopt;
    }
    const size_t dot2 = token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos) {
        return std::nullopt;
    }
    PopupTokenParts parts;
    parts.kid = token.substr(0, dot1);
    parts.stamp = token.substr(dot1 + 1, dot2 - dot1 - 1);
    parts.mac = token.substr(dot2 + 1);  // a third dot lands here: refused below
    if (!is_valid_kid(parts.kid) || parts.stamp.size() != kPopupTokenStampLength ||
        parts.mac.size() != kPopupTokenMacLength) {
        return std::nullopt;
    }
    int64_t t = 0;
    for (size_t i = 0; i < 8; ++i) {
        const char c = parts.stamp[i];
        int v = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) {
            return std::nullopt;
        }
        t = t * 16 + v;
    }
    parts.nonce = parts.stamp.substr(8);
    unsigned char nonce[kPopupTokenNonceBytes];
    unsigned char mac[kPopupTokenMacBytes];
    // canonical encodings only: one spelling per token
    if (base64url_decode_to(parts.nonce, nonce, sizeof nonce) != sizeof nonce ||
        base64url_decode_to(parts.mac, mac, sizeof mac) != sizeof mac) {
        return std::nullopt;
    }
    parts.issued_at = t;
    return parts;
}

std::string_view popup_token_status_name(PopupTokenStatus status) noexcept {
    switch (status) {
        case PopupTokenStatus::kValid:
            return "valid";
        case PopupTokenStatus::kMissing:
            return "no pop-up token (a runtime older than the module?)";
        case PopupTokenStatus::kMalformed:
            return "malformed pop-up token";
        case PopupTokenStatus::kUnknownKey:
            return "pop-up token under an unknown key";
        case PopupTokenStatus::kForged:
            return "pop-up token not issued for this visitor and pop-up";
        case PopupTokenStatus::kExpired:
            return "pop-up token expired";
        case PopupTokenStatus::kFuture:
            return "pop-up token issued in the future";
    }
    return "invalid pop-up token";
}

PopupTokenCheck check_popup_token(std::string_view token, const Keyring& keyring,
                                  std::string_view vid, std::string_view popup_id, int64_t now,
                                  int64_t max_age) noexcept {
    PopupTokenCheck check;
    if (token.empty()) {
        check.status = PopupTokenStatus::kMissing;
        return check;
    }
    std::optional<PopupTokenParts> parts = parse_popup_token(token);
    if (!parts || !is_valid_vid(vid) || !valid_popup_id(popup_id)) {
        check.status = PopupTokenStatus::kMalformed;
        return check;
    }
    if (!keyring.contains(parts->kid)) {
        check.status = PopupTokenStatus::kUnknownKey;
        return check;
    }
    char buf[kMaxMessage];
    char expected[kPopupTokenMacLength];
    if (!mac_of(keyring, parts->kid, message(buf, vid, popup_id, parts->kid, parts->stamp),
                expected) ||
        CRYPTO_memcmp(expected, parts->mac.data(), kPopupTokenMacLength) != 0) {
        check.status = PopupTokenStatus::kForged;  // OpenSSL failing fails closed too
        return check;
    }
    if (parts->issued_at > now + kPopupTokenClockSkew) {
        check.status = PopupTokenStatus::kFuture;
        return check;
    }
    if (now - parts->issued_at > max_age) {
        check.status = PopupTokenStatus::kExpired;
        return check;
    }
    check.status = PopupTokenStatus::kValid;
    check.nonce = parts->nonce;
    check.issued_at = parts->issued_at;
    return check;
}

PopupDirectivesSigning sign_popup_directives(Decision& decision, const Keyring& keyring,
                                             std::string_view vid, int64_t now) noexcept {
    // The JSON core writes (rules/natives_popup.cpp) starts
    // {"v":1,"popups":[{"id":"<id>",... and nothing before the first pop-up
    // can hold that text: it is the pop-up's object.
    static constexpr std::string_view kFirstPopup = "\"popups\":[{\"id\":\"";
    static constexpr size_t kObjectStart = 10;
    static_assert(kFirstPopup[kObjectStart] == '{', "the token goes first in the object");
    const std::string_view html = decision.directives_html();
    if (html.empty()) {
        return PopupDirectivesSigning::kNone;
    }
    const size_t at = html.find(kFirstPopup);
    if (at != std::string_view::npos) {
        const std::string_view rest = html.substr(at + kFirstPopup.size());
        const std::string_view id = rest.substr(0, rest.find('"'));
        std::optional<PopupToken> token;
        if (valid_popup_id(id)) {
            token = issue_popup_token(keyring, vid, id, now);
        }
        if (token) {
            try {
                std::string field = "\"token\":\"";
                field.append(token->view());
                field += "\",";
                if (decision.insert_into_directives(at + kObjectStart + 1, field)) {
                    return PopupDirectivesSigning::kSigned;
                }
            } catch (const std::bad_alloc&) {
            }
        }
    }
    decision.set_directives_json({});
    return PopupDirectivesSigning::kDropped;
}

}  // namespace tailor
