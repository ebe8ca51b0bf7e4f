// Tag scanner, block scan: what the SIMD paths and the scalar walk share (internal to html/).
//
// The block scan (tag_scanner_simd*.cpp) settles whole 64-byte blocks with
// bit arithmetic and calls back into the scalar walk (tag_scanner.cpp) for
// the two things it leaves to it: the name check of a tag that may matter,
// and the stretches its model of the block cannot vouch for.
#pragma once

#include <cstdint>

#include "tailor/html/tag_scanner.h"

namespace tailor::tag_scan::detail {

// Start-tag names we act on begin with one of these letters (either case);
// a unit test checks it against kRawNames and kSlotTag.
inline constexpr char kFirstLetters[] = {'t', 's', 'x', 'i', 'n', 'p'};

// start_needs_tokenizer
//
// For the '<' at `lt`, which opens a tag in text: whether the scalar walk
// would stop there (a name that may matter, or a name cut by `end`).
//
// Example:
//   "<span>": false; "<script>": true; "<scr" at the chunk's end: true
[[nodiscard]] bool start_needs_tokenizer(const char* lt, const char* end,
                                         TagInterest interest) noexcept;

// walk_until
//
// The scalar walk from `q` (in text), as skip_to_tag, but it gives up at
// the first point in text at or past `until`. Sets *done and returns
// skip_to_tag's answer if the walk stopped or the chunk ended first;
// otherwise returns the point in text where the block scan resumes.
[[nodiscard]] const char* walk_until(const char* q, const char* until, const char* end,
                                     TagInterest interest, bool* done) noexcept;

#if defined(__x86_64__)
// The block scan on SSE2 (every x86-64), AVX2 and AVX-512BW with VBMI (check the CPU first).
[[nodiscard]] const char* skip_to_tag_sse2(const char* p, const char* end,
                                           TagInterest interest) noexcept;
[[nodiscard]] const char* skip_to_tag_avx2(const char* p, const char* end,
                                           TagInterest interest) noexcept;
[[nodiscard]] const char* skip_to_tag_avx512(const char* p, const char* end,
                                             TagInterest interest) noexcept;
#endif

}  // namespace tailor::tag_scan::detail
