// Base64url: RFC 4648 section 5 (URL- and filename-safe alphabet), without padding, strict.
#include "tailor/base/base64url.h"

#include <array>
#include <cstdint>

namespace tailor {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> make_decode_table() {
    std::array<uint8_t, 256> table{};
    for (auto& v : table) {
        v = kInvalid;
    }
    for (uint8_t i = 0; i < 64; ++i) {
        table[static_cast<unsigned char>(kAlphabet[i])] = i;
    }
    return table;
}

constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

}  // namespace

bool all_base64url(std::string_view s) noexcept {
    // The OR of every character's value: the alphabet's are 0-63, anything else is kInvalid,
    // whose top bits stay set; one branch for the whole string.
    uint8_t seen = 0;
    for (char c : s) {
        seen |= kDecode[static_cast<unsigned char>(c)];
    }
    return (seen & 0xc0) == 0;
}

size_t base64url_encode_to(const unsigned char* in, size_t n, char* out) noexcept {
    char* o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
        *o++ = kAlphabet[(v >> 18) & 63];
        *o++ = kAlphabet[(v >> 12) & 63];
        *o++ = kAlphabet[(v >> 6) & 63];
        *o++ = kAlphabet[v & 63];
    }
    if (n - i == 1) {
        const uint32_t v = uint32_t{in[i]} << 16;
        *o++ = kAlphabet[(v >> 18) & 63];
        *o++ = kAlphabet[(v >> 12) & 63];
    } else if (n - i == 2) {
        const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
        *o++ = kAlphabet[(v >> 18) & 63];
        *o++ = kAlphabet[(v >> 12) & 63];
        *o++ = kAlphabet[(v >> 6) & 63];
    }
    return static_cast<size_t>(o - out);
}

std::optional<size_t> base64url_decode_to(std::string_view in, unsigned char* out,
                                          size_t out_capacity) noexcept {
    const size_t tail = in.size() % 4;
    if (tail == 1) {
        return std::nullopt;  // 6 bits cannot make a byte
    }
    const size_t decoded = in.size() / 4 * 3 + (tail == 0 ? 0 : tail - 1);
    if (decoded > out_capacity) {
        return std::nullopt;
    }
    size_t o = 0;
    size_t i = 0;
    for (; i + 4 <= in.size(); i += 4) {
        const uint8_t a = kDecode[static_cast<unsigned char>(in[i])];
        const uint8_t b = kDecode[static_cast<unsigned char>(in[i + 1])];
        const uint8_t c = kDecode[static_cast<unsigned char>(in[i + 2])];
        const uint8_t d = kDecode[static_cast<unsigned char>(in[i + 3])];
        if (((a | b | c | d) & 0x80) != 0) {  // kInvalid has the high bit; digits never do
            return std::nullopt;
        }
        const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
        out[o++] = static_cast<unsigned char>(v >> 16);
        out[o++] = static_cast<unsigned char>(v >> 8);
        out[o++] = static_cast<unsigned char>(v);
    }
    if (tail == 0) {
        return o;
    }
    const uint8_t a = kDecode[static_cast<unsigned char>(in[i])];
    const uint8_t b = kDecode[static_cast<unsigned char>(in[i + 1])];
    const uint8_t c = tail == 3 ? kDecode[static_cast<unsigned char>(in[i + 2])] : uint8_t{0};
    if (a == kInvalid || b == kInvalid || c == kInvalid) {
        return std::nullopt;
    }
    // The unused low bits must be zero, or "-_8" and "-_9" would both mean
    // {0xfb, 0xff} and one value would have two spellings.
    if (tail == 2 ? (b & 0x0f) != 0 : (c & 0x03) != 0) {
        return std::nullopt;
    }
    const uint32_t v = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6);
    out[o++] = static_cast<unsigned char>(v >> 16);
    if (tail == 3) {
        out[o++] = static_cast<unsigned char>(v >> 8);
    }
    return o;
}

std::string base64url_encode(std::string_view bytes) {
    std::string out(base64url_encoded_size(bytes.size()), '\0');
    base64url_encode_to(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                        out.data());
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    std::string out(text.size() / 4 * 3 + 2, '\0');
    const auto n =
        base64url_decode_to(text, reinterpret_cast<unsigned char*>(out.data()), out.size());
    if (!n) {
        return std::nullopt;
    }
    out.resize(*n);
    return out;
}

}  // namespace tailor
