// EventId: UUIDv7 generation from OpenSSL's CSPRNG (base/random_bytes.h), parsing, the embedded
// timestamp.
#include "tailor/events/event_id.h"

#include "tailor/base/ascii.h"
#include "tailor/base/random_bytes.h"

#include <cstring>

namespace tailor {

std::optional<EventId> EventId::generate(int64_t now_ms) noexcept {
    unsigned char b[16];
    if (now_ms < 0 || !random_bytes(b + 6, 10)) {
        return std::nullopt;
    }
    const auto ms = static_cast<uint64_t>(now_ms);
    for (int i = 0; i < 6; ++i) {
        b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    }
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // variant 10
    static constexpr char kHex[] = "0123456789abcdef";
    EventId id;
    size_t o = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            id.text_[o++] = '-';
        }
        id.text_[o++] = kHex[b[i] >> 4];
        id.text_[o++] = kHex[b[i] & 0x0F];
    }
    return id;
}

std::optional<EventId> EventId::parse(std::string_view text) noexcept {
    if (text.size() != kTextLength) {
        return std::nullopt;
    }
    for (size_t i = 0; i < kTextLength; ++i) {
        const char c = text[i];
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !(is_ascii_digit(c) || (c >= 'a' && c <= 'f'))) {
            return std::nullopt;
        }
    }
    EventId id;
    std::memcpy(id.text_, text.data(), kTextLength);
    return id;
}

int64_t EventId::unix_ms() const noexcept {
    uint64_t ms = 0;
    for (size_t i = 0; i < 13; ++i) {
        if (i == 8) {
            continue;
        }
        const char c = text_[i];
        ms = ms * 16 + static_cast<uint64_t>(hex_value(c));
    }
    return static_cast<int64_t>(ms);
}

}  // namespace tailor
