// Ascii: locale-free ASCII character classes, case folding, hex digits and trimming.
//
// Bytes from the wire (headers, query strings, cookies, key files, HTML) are
// classified byte by byte; <cctype> would consult the C locale and is
// undefined for negative chars. Bytes >= 0x80 are never letters, digits or
// space here.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// ASCII whitespace as HTML (and the WHATWG URL and cookie parsers) define
// it: space, tab, LF, CR, form feed.
inline constexpr std::string_view kHtmlSpace = " \t\n\r\f";

[[nodiscard]] constexpr bool is_ascii_upper(char c) noexcept {
    return c >= 'A' && c <= 'Z';
}

[[nodiscard]] constexpr bool is_ascii_lower(char c) noexcept {
    return c >= 'a' && c <= 'z';
}

[[nodiscard]] constexpr bool is_ascii_alpha(char c) noexcept {
    // one compare: folding bit 0x20 maps 'A'..'Z' onto 'a'..'z' (the tokenizer's hot path)
    return static_cast<unsigned>((c | 0x20) - 'a') < 26u;
}

[[nodiscard]] constexpr bool is_ascii_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

[[nodiscard]] constexpr bool is_ascii_alnum(char c) noexcept {
    return is_ascii_alpha(c) || is_ascii_digit(c);
}

// is_html_space
//
// One of kHtmlSpace (no vertical tab).
[[nodiscard]] constexpr bool is_html_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

// is_ascii_space
//
// What isspace() says in the "C" locale: kHtmlSpace and the vertical tab.
[[nodiscard]] constexpr bool is_ascii_space(char c) noexcept {
    return is_html_space(c) || c == '\v';
}

// ascii_lower
//
// Example:
//   ascii_lower('Q') == 'q', ascii_lower('\xC9') == '\xC9'
[[nodiscard]] constexpr char ascii_lower(char c) noexcept {
    return static_cast<unsigned>(c - 'A') < 26u ? static_cast<char>(c | 0x20) : c;
}

// hex_value
//
// The value of a hex digit of either case, or -1.
//
// Example:
//   hex_value('b') == 11, hex_value('F') == 15, hex_value('g') == -1
[[nodiscard]] constexpr int hex_value(char c) noexcept {
    if (is_ascii_digit(c)) {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

// ascii_iequals
//
// ASCII case-insensitive equality.
//
// Example:
//   ascii_iequals("Granted", "granted") == true
[[nodiscard]] inline bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

// ascii_icontains
//
// True if `hay` contains `lower_needle` ignoring the case of `hay`;
// `lower_needle` is lower case already (an empty one is always found).
//
// Example:
//   ascii_icontains("Mozilla/5.0 (iPhone; ...)", "iphone") == true
// Inline: the User-Agent classifier calls it once per token on every request.
[[nodiscard]] inline bool ascii_icontains(std::string_view hay,
                                          std::string_view lower_needle) noexcept {
    if (lower_needle.size() > hay.size()) {
        return false;
    }
    if (lower_needle.empty()) {
        return true;
    }
    const size_t last = hay.size() - lower_needle.size();
    for (size_t i = 0; i <= last; ++i) {
        if (ascii_lower(hay[i]) != lower_needle[0]) {
            continue;
        }
        size_t j = 1;
        while (j < lower_needle.size() && ascii_lower(hay[i + j]) == lower_needle[j]) {
            ++j;
        }
        if (j == lower_needle.size()) {
            return true;
        }
    }
    return false;
}

// ascii_lower_in_place
//
// Lower-cases `n` bytes at `s`.
void ascii_lower_in_place(char* s, size_t n) noexcept;

// trim
//
// `s` without the leading and trailing bytes found in `chars` (by default
// spaces and tabs).
//
// Example:
//   trim("  k1 abc\r", " \t\r") == "k1 abc"
[[nodiscard]] std::string_view trim(std::string_view s, std::string_view chars = " \t") noexcept;

}  // namespace tailor
