// CookieHeader: finding one cookie in a `Cookie:` request header value, without allocating.
#include "tailor/request/cookie_header.h"

namespace tailor {
namespace {

constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}

// RFC 7230 tchar: visible ASCII except the separators.
constexpr bool is_token_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
        return false;
    }
    switch (c) {
        case '(':
        case ')':
        case '<':
        case '>':
        case '@':
        case ',':
        case ';':
        case ':':
        case '\\':
        case '"':
        case '/':
        case '[':
        case ']':
        case '?':
        case '=':
        case '{':
        case '}':
            return false;
        default:
            return true;
    }
}

std::string_view trim_ows(std::string_view s) noexcept {
    size_t b = 0;
    size_t e = s.size();
    while (b < e && is_ows(s[b])) {
        ++b;
    }
    while (e > b && is_ows(s[e - 1])) {
        --e;
    }
    return s.substr(b, e - b);
}

// Splits one segment; false if it is garbage.
bool parse_segment(std::string_view segment, Cookie* out) noexcept {
    const size_t eq = segment.find('=');
    if (eq == std::string_view::npos) {
        return false;
    }
    const std::string_view name = trim_ows(segment.substr(0, eq));
    if (name.empty()) {
        return false;
    }
    for (char c : name) {
        if (!is_token_char(c)) {
            return false;
        }
    }
    std::string_view value = trim_ows(segment.substr(eq + 1));
    if (!value.empty() && value.front() == '"') {
        if (value.size() < 2 || value.back() != '"') {
            return false;
        }
        value = value.substr(1, value.size() - 2);
    }
    // A quote left inside (`a"b`, or `"a"b"`) is not something any cookie
    // writer produces; refusing it keeps one spelling per value.
    if (value.find('"') != std::string_view::npos) {
        return false;
    }
    out->name = name;
    out->value = value;
    return true;
}

}  // namespace

bool CookieCursor::next(Cookie* out) noexcept {
    while (!rest_.empty()) {
        const size_t semi = rest_.find(';');
        const std::string_view segment = rest_.substr(0, semi);
        rest_ = semi == std::string_view::npos ? std::string_view() : rest_.substr(semi + 1);
        if (parse_segment(segment, out)) {
            return true;
        }
    }
    return false;
}

std::optional<std::string_view> find_cookie(std::string_view header,
                                            std::string_view name) noexcept {
    if (name.empty()) {
        return std::nullopt;
    }
    // Same walk as CookieCursor, but a segment is validated only once its
    // name matches: most of a Cookie header is other sites' long values.
    std::string_view rest = header;
    while (!rest.empty()) {
        const size_t semi = rest.find(';');
        const std::string_view segment = rest.substr(0, semi);
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        const size_t eq = segment.find('=');
        if (eq == std::string_view::npos || trim_ows(segment.substr(0, eq)) != name) {
            continue;
        }
        Cookie c;
        if (parse_segment(segment, &c)) {
            return c.value;
        }
    }
    return std::nullopt;
}

bool is_cookie_name(std::string_view name) noexcept {
    if (name.empty()) {
        return false;
    }
    for (char c : name) {
        if (!is_token_char(c)) {
            return false;
        }
    }
    return true;
}

}  // namespace tailor
