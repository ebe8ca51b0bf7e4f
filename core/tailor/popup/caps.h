// PopupCaps: the module-written pop-up frequency caps (`tailor:{vid}:caps`), decoded zero-copy.
//
// Schema (docs/popups.md): a MessagePack map
//   { "v": 1,
//     "p": { "<popup id>": { "imp": [t, ...],      // impression times, newest first
//                            "visit": n,           // live `visits` at the last impression
//                            "visit_imp": n,       // impressions during that visit
//                            "close": t,           // last close (0 = never)
//                            "conv": t } } }       // conversion (0 = never)
// Times are unix seconds (UTC). Unknown keys are ignored and wrong-typed
// fields skipped (counted), as in the profile; a newer `v` refuses the blob.
//
// Zero copy: every PopupCapsEntry::id views the bytes it was decoded from,
// which must outlive the PopupCaps.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace tailor {

// The caps schema major this build reads.
inline constexpr int64_t kPopupCapsSchemaVersion = 1;
// A caps blob larger than this is refused before it is read.
inline constexpr size_t kMaxPopupCapsBytes = 16 * 1024;
// Pop-ups kept per visitor; entries past it are dropped (counted).
inline constexpr size_t kMaxPopupCapsEntries = 32;
// Impression times kept per pop-up (newest first); the rest are dropped.
// It bounds `per_day` caps: a cap above it counts at most this many.
inline constexpr size_t kMaxPopupImpressions = 16;
// Nesting the decoder follows (the schema needs 4: map > map > map > array).
inline constexpr size_t kMaxPopupCapsDepth = 8;

// PopupCapsEntry
//
// What the module recorded for one pop-up. `impressions[0..impression_count)`
// are unix seconds, in the writer's order (newest first).
struct PopupCapsEntry {
    std::string_view id;
    std::array<int64_t, kMaxPopupImpressions> impressions{};
    size_t impression_count = 0;
    int64_t visit = 0;              // live `visits` when last shown, 0 = unknown
    int64_t visit_impressions = 0;  // shown this many times during `visit`
    int64_t closed_at = 0;
    int64_t converted_at = 0;
};

// PopupCaps
//
// Every pop-up the visitor has a record for.
//
// Example:
//   const PopupCapsEntry* e = caps.find("cart-rescue");  // null: never shown
struct PopupCaps {
    std::vector<PopupCapsEntry> entries;

    // find
    //
    // The entry for `id` (the first, if a writer repeated it), or null.
    //
    // Example:
    //   caps.find("nope") == nullptr
    [[nodiscard]] const PopupCapsEntry* find(std::string_view id) const noexcept;
};

// PopupCapsError
//
// Why a whole caps blob was refused.
enum class PopupCapsError : unsigned char {
    kNone = 0,
    kTooLarge,            // over kMaxPopupCapsBytes
    kTruncated,           // ends before what it declares
    kMalformed,           // not MessagePack (0xc1, bytes after the value, ext types)
    kTooDeep,             // nesting over kMaxPopupCapsDepth
    kNotAMap,             // the top value is not a map
    kUnsupportedVersion,  // `v` newer than kPopupCapsSchemaVersion, or below 1
    kNoMemory,
};

// popup_caps_error_name
//
// Example:
//   popup_caps_error_name(PopupCapsError::kTooDeep) == "too-deep"
[[nodiscard]] std::string_view popup_caps_error_name(PopupCapsError error) noexcept;

// PopupCapsDecodeResult
//
// `error` is kNone and `caps` filled, or `caps` empty and `error` says why.
// `skipped` counts fields of the wrong type and entries past the caps.
struct PopupCapsDecodeResult {
    PopupCaps caps;
    PopupCapsError error = PopupCapsError::kNone;
    uint32_t skipped = 0;
};

// decode_popup_caps
//
// Decodes the caps blob; an empty blob (Redis nil) is no caps at all, not an
// error. Reads the bytes in place through the bounded MsgpackReader, without
// a tree (no zone, one vector of at most kMaxPopupCapsEntries); follows no
// nesting deeper than kMaxPopupCapsDepth, never throws.
//
// Example:
//   auto r = decode_popup_caps(stored.caps.bytes);
//   if (r.error == PopupCapsError::kNone) { r.caps.find("cart-rescue") ... }
[[nodiscard]] PopupCapsDecodeResult decode_popup_caps(std::string_view bytes) noexcept;

}  // namespace tailor
