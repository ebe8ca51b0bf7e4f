// ExposedValue: which values the module may hand to nginx as a variable ($tailor_segment,
// ...) or a header. Operators put these into response headers, upstream request headers and
// logs, and some come from a profile anyone with write access to the shop's backend may fill:
// CR, LF, or anything outside a token-like charset would split a header or smuggle a request.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// Segments, variant names and statuses are short identifiers.
inline constexpr size_t kMaxExposedValueBytes = 64;

// is_exposable_value
//
// True for 1 to kMaxExposedValueBytes bytes of [A-Za-z0-9._:-]; anything
// else is not exposed at all (never cut or escaped: a half value would be a
// different segment).
//
// Example:
//   is_exposable_value("repeat_buyer") == true
//   is_exposable_value("vip\r\nSet-Cookie: a=1") == false
//   is_exposable_value("") == false
[[nodiscard]] bool is_exposable_value(std::string_view value) noexcept;

}  // namespace tailor
