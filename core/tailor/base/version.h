// The release Tailor reports (tailorctl --version, the status endpoint).
#pragma once

#include <string_view>

namespace tailor {

// version
//
// The version of this build, as in the top-level CMakeLists.txt.
// Example: version() == "0.1.0"
[[nodiscard]] std::string_view version() noexcept;

}  // namespace tailor
