// Utf8: cutting a string at a sequence boundary.
#include "tailor/base/utf8.h"

namespace tailor {

std::string_view utf8_cut(std::string_view s, size_t cap) noexcept {
    if (s.size() <= cap) {
        return s;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0;
    while (i < cap) {
        const int len = utf8_sequence(p + i, s.size() - i);
        const size_t step = len > 0 ? static_cast<size_t>(len) : 1;
        if (i + step > cap) {
            break;
        }
        i += step;
    }
    return s.substr(0, i);
}

size_t utf8_floor(std::string_view s, size_t n) noexcept {
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
        --n;
    }
    return n;
}

size_t utf8_partial_tail_cut(std::string_view s) noexcept {
    const size_t n = s.size();
    size_t i = n;
    size_t back = 0;
    while (i > 0 && back < 4 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) {
        --i;
        ++back;
    }
    if (i == 0 || back == 4) {
        return n;  // no lead before the continuation bytes: not ours to cut
    }
    const auto lead = static_cast<unsigned char>(s[i - 1]);
    size_t need = 0;
    if (lead >= 0xF0) {
        need = 3;
    } else if (lead >= 0xE0) {
        need = 2;
    } else if (lead >= 0xC0) {
        need = 1;
    } else {
        return n;  // ASCII before the continuation bytes: stray, keep
    }
    return back >= need ? n : i - 1;
}

}  // namespace tailor
