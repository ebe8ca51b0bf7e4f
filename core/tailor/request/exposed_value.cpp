// ExposedValue: which values the module may hand to nginx as a variable or a header.
#include "tailor/request/exposed_value.h"

namespace tailor {
namespace {

constexpr bool is_exposable_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == ':';
}

}  // namespace

bool is_exposable_value(std::string_view value) noexcept {
    if (value.empty() || value.size() > kMaxExposedValueBytes) {
        return false;
    }
    for (char c : value) {
        if (!is_exposable_char(c)) {
            return false;
        }
    }
    return true;
}

}  // namespace tailor
