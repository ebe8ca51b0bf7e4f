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

}  // namespace tailor
