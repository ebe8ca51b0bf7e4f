// Ascii: in-place case folding and trimming.
#include "tailor/base/ascii.h"

namespace tailor {

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
