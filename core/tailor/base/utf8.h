// Utf8: well-formed UTF-8 sequences, and cuts that never split one.
//
// Well-formed is Unicode's Table 3-7: no overlongs, no surrogates, nothing
// above U+10FFFF. Output that leaves Tailor (events, escaped HTML and JSON)
// is made of well-formed sequences only.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// utf8_sequence
//
// The length (1 to 4) of the well-formed sequence at s[0, n), n >= 1; or,
// when there is none, minus the length of its maximal ill-formed subpart
// (Unicode 3.9, as the WHATWG decoder counts), so each subpart can become
// exactly one U+FFFD.
//
// Example:
//   utf8_sequence("\xC3\xA9", 2) == 2      // é
//   utf8_sequence("\xE2\x82", 2) == -2     // a cut-off €: one subpart
//   utf8_sequence("\xC0\xAF", 2) == -1     // overlong '/': the lead alone
[[nodiscard]] inline int utf8_sequence(const unsigned char* s, size_t n) noexcept {
    const unsigned char b0 = s[0];
    if (b0 < 0x80) {
        return 1;
    }
    int need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
    } else if (b0 == 0xE0) {
        need = 2;
        lo = 0xA0;  // overlong
    } else if ((b0 >= 0xE1 && b0 <= 0xEC) || b0 == 0xEE || b0 == 0xEF) {
        need = 2;
    } else if (b0 == 0xED) {
        need = 2;
        hi = 0x9F;  // surrogates
    } else if (b0 == 0xF0) {
        need = 3;
        lo = 0x90;  // overlong
    } else if (b0 >= 0xF1 && b0 <= 0xF3) {
        need = 3;
    } else if (b0 == 0xF4) {
        need = 3;
        hi = 0x8F;  // above U+10FFFF
    } else {
        return -1;
    }
    for (int k = 1; k <= need; ++k) {
        if (static_cast<size_t>(k) >= n) {
            return -k;
        }
        const unsigned char b = s[k];
        if (b < lo || b > hi) {
            return -k;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

// utf8_cut
//
// The longest prefix of `s` of at most `cap` bytes that does not split a
// well-formed sequence (an ill-formed byte counts as one).
//
// Example:
//   utf8_cut("caf\xC3\xA9", 4) == "caf"
[[nodiscard]] std::string_view utf8_cut(std::string_view s, size_t cap) noexcept;

// utf8_floor
//
// `n` moved back to where no sequence continues: the largest m <= n with
// m == s.size() or s[m] not a continuation byte (10xxxxxx). Looks only at
// continuation bytes, so it never grows what a cut keeps.
//
// Example:
//   utf8_floor("caf\xC3\xA9", 4) == 3
[[nodiscard]] size_t utf8_floor(std::string_view s, size_t n) noexcept;

// utf8_partial_tail_cut
//
// The size of `s` without a last sequence its lead byte says is longer than
// what follows it (a buffer filled up mid-character); stray continuation
// bytes and ASCII stay. For bytes copied into a fixed buffer, where what
// came after is gone.
//
// Example:
//   utf8_partial_tail_cut("caf\xC3") == 3
//   utf8_partial_tail_cut("caf\xC3\xA9") == 5
[[nodiscard]] size_t utf8_partial_tail_cut(std::string_view s) noexcept;

}  // namespace tailor
