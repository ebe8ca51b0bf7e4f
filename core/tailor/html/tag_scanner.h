// Tag scanner: the SlotRewriter's fast path, which finds the next tag it must tokenize.
//
// Almost every byte of a page is text or a tag the rewriter never acts on
// (div, a, span, img, ...). The scanner jumps over both without keeping any
// state between calls and stops at the first tag that may matter, a
// comment, or a tag cut by the end of the chunk. Everything from there on is
// the state machine's job (slot_tokenizer.cpp).
//
// Two implementations give the same answer for every input:
//   - the scalar walk (tag_scanner.cpp): memchr to the next '<', then one
//     walk over the tag that follows the HTML standard's attribute quoting;
//   - the block scan (tag_scanner_simd.*): classifies 64 bytes at a time
//     with SSE2, AVX2 or AVX-512BW and settles every tag of the block with bit
//     arithmetic; where its model of the block cannot vouch for the answer
//     (a quote in text, single-quoted values, '>' in text) it hands that
//     stretch to the scalar walk.
// skip_to_tag() uses the best one this CPU runs, chosen once at run time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tailor/base/ascii.h"

namespace tailor::tag_scan {

// Elements whose content is text up to the matching end tag (raw text and
// RCDATA in the standard). noscript is raw text when scripting is on, which
// is how browsers parse it. plaintext never ends.
inline constexpr std::string_view kRawNames[] = {"script",   "style",    "textarea", "title",
                                                 "xmp",      "iframe",   "noembed",  "noframes",
                                                 "noscript", "plaintext"};
inline constexpr uint8_t kRawNameCount = sizeof(kRawNames) / sizeof(kRawNames[0]);
inline constexpr uint8_t kPlaintext = 9;

inline constexpr std::string_view kSlotTag = "tailor-slot";
inline constexpr std::string_view kBodyTag = "body";

inline bool ends_tag_name(unsigned char c) {
    return c == '>' || c == '/' || is_html_space(c);
}

// TagInterest
//
// Which end tags the rewriter acts on right now. Start tags that matter
// (<tailor-slot> and the raw-text elements) always do; "</tailor-slot"
// only inside a slot being held or bailed, "</body" only while an injection
// is pending or a slot is held.
struct TagInterest {
    bool slot_end = false;
    bool body_end = false;
};

// skip_to_tag
//
// Skips text and boring tags from `p`; returns the '<' of the first tag the
// tokenizer must take byte by byte, or null if the chunk ends in text. That
// tag is one that may matter, a comment or declaration, a lone '<', or any
// tag cut by `end` (the tokenizer carries its state into the next chunk).
//
// Example:
//   const std::string_view s = "<p class=a>hi</p><tailor-slot name=x>";
//   tag_scan::skip_to_tag(s.data(), s.data() + s.size(), {}) == s.data() + 17
[[nodiscard]] const char* skip_to_tag(const char* p, const char* end,
                                      TagInterest interest) noexcept;

// ScanPath
//
// One implementation of skip_to_tag. kSse2, kAvx2 and kAvx512 (AVX-512BW with VBMI)
// exist on x86-64 only; elsewhere only kScalar runs.
enum class ScanPath : uint8_t { kScalar, kSse2, kAvx2, kAvx512 };

// path_supported
//
// Whether this build and this CPU can run `path`.
//
// Example:
//   tag_scan::path_supported(tag_scan::ScanPath::kScalar) == true
[[nodiscard]] bool path_supported(ScanPath path) noexcept;

// best_path
//
// The fastest supported path: AVX-512BW on CPUs where 512-bit integer work
// keeps the clock (those with AVX512-VBMI2: Ice Lake, Zen 4 and later),
// else AVX2, else scalar (SSE2 alone is slower than the scalar walk).
[[nodiscard]] ScanPath best_path() noexcept;

// active_path, set_active_path
//
// The path skip_to_tag() uses; best_path() until changed. set_active_path
// is for tests and benchmarks (one process-wide setting, not thread-safe
// against concurrent scans); it refuses an unsupported path and returns
// false.
//
// Example:
//   tag_scan::set_active_path(tag_scan::ScanPath::kScalar);  // differential tests
[[nodiscard]] ScanPath active_path() noexcept;
bool set_active_path(ScanPath path) noexcept;

// skip_to_tag_on
//
// skip_to_tag through one given path (kScalar if `path` is unsupported),
// for differential tests and benchmarks.
[[nodiscard]] const char* skip_to_tag_on(ScanPath path, const char* p, const char* end,
                                         TagInterest interest) noexcept;

}  // namespace tailor::tag_scan
