#include "tailor/base/version.h"

namespace tailor {

std::string_view version() noexcept {
    return "0.1.0";
}

}  // namespace tailor
