// Ascii: the string-wide helpers (comparison, search, case folding, trimming).
#include "tailor/base/ascii.h"

namespace tailor {

bool ascii_iequals(std::string_view a, std::string_view b) noexcept {
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

bool ascii_icontains(std::string_view hay, std::string_view lower_needle) noexcept {
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

void ascii_lower_in_place(char* s, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) {
        s[i] = ascii_lower(s[i]);
    }
}

std::string_view trim(std::string_view s, std::string_view chars) noexcept {
    const size_t first = s.find_first_not_of(chars);
    if (first == std::string_view::npos) {
        return {};
    }
    return s.substr(first, s.find_last_not_of(chars) - first + 1);
}

}  // namespace tailor
