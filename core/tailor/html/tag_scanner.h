// Tag scanner: the SlotRewriter's fast path, which finds the next tag it must tokenize.
//
// Almost every byte of a page is text or a tag the rewriter never acts on
// (div, a, span, img, ...). The scanner jumps over both without keeping any
// state: memchr (SSE2 for short gaps) to the next '<', then one walk over
// the tag that follows the HTML standard's attribute quoting exactly, and
// stops at the first tag that may matter, a comment, or a tag cut by the
// end of the chunk. Everything from there on is the state machine's job
// (slot_tokenizer.cpp). Kept apart so the scan can be tuned (wider SIMD,
// other gates) without touching the tokenizer, and so both read alone.
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

}  // namespace tailor::tag_scan
