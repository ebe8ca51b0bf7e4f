// Url: percent-decoding of query-string components, the one decoder for utm_*, consent and path
// parameters.
//
// Query strings are application/x-www-form-urlencoded: `+` is a space and
// `%XY` a byte. What to do with a broken escape is the caller's policy (a
// referrer keeps it as browsers show it; a consent string refuses the whole
// value), so the decoder keeps it literally and says so.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// PercentDecoded
//
// `size` bytes were written. `complete` is false when `out` filled up before
// the input ended (the rest is not decoded); `bad_escape` is true when a `%`
// was not followed by two hex digits (it was kept literally).
struct PercentDecoded {
    size_t size = 0;
    bool complete = true;
    bool bad_escape = false;
};

// percent_decode_query
//
// Decodes `in` into out[0, cap). Decoding never grows a string, so a `cap`
// of in.size() always completes.
//
// Example:
//   char buf[16];
//   auto r = percent_decode_query("spring+sale%21", buf, sizeof buf);
//   std::string_view(buf, r.size) == "spring sale!", r.complete, !r.bad_escape
//   percent_decode_query("100%", buf, sizeof buf).bad_escape == true  // "100%"
[[nodiscard]] PercentDecoded percent_decode_query(std::string_view in, char* out,
                                                  size_t cap) noexcept;

}  // namespace tailor
