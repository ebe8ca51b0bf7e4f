// ProfileScan: the one-pass structural check run on an untrusted MessagePack blob before
// msgpack-c is allowed to build anything from it.
//
// msgpack-c reserves `count * 24` (arrays) or `count * 48` (maps) zone bytes
// the moment it reads a container header, before it knows whether the data
// is there: a 5-byte `dd ff ff ff ff` asks for 96 GiB. Its nesting stack is
// a fixed 32 levels. This scan walks the encoding once with the bounded
// MsgpackReader (base/msgpack_reader.h), allocating nothing, refuses what
// would hurt, and says exactly how much zone memory the parse
// will take, so that memory can be capped and reserved in one piece.
//
// decode_profile no longer builds a tree: it makes the same checks, in the
// same order, as it reads (decode_cursor.h). This scan remains the first
// step of the msgpack-c reference decoder (reference_decode.h) it is held to.
#pragma once

#include <cstddef>
#include <string_view>

#include "tailor/profile/profile.h"

namespace tailor {

// What msgpack-c's tree takes per array item (one msgpack_object) and per
// map pair (one msgpack_object_kv) on 64-bit builds: the units of
// kMaxProfileZoneBytes, which decode_profile tallies as this scan does
// (scan.cpp checks them against msgpack.h).
inline constexpr size_t kZoneArrayItemBytes = 24;
inline constexpr size_t kZoneMapPairBytes = 48;

// BlobScan
//
// The verdict on one blob: `error` is kNone when it holds exactly one
// complete MessagePack value nested at most `max_depth` deep; then
// `zone_bytes` is the size of the object tree msgpack_unpack will build.
struct BlobScan {
    ProfileError error = ProfileError::kNone;
    size_t zone_bytes = 0;
};

// scan_msgpack_blob
//
// Refuses, in order of discovery: a value that ends early or a container or
// string whose declared length the rest of the blob cannot hold
// (kTruncated), the never-used byte 0xc1 or bytes after the value
// (kMalformed), a container deeper than `max_depth` (kTooDeep; the top
// value is depth 1, and `max_depth` is clamped to kMaxProfileDepth) and a
// tree over kMaxProfileZoneBytes (kTooComplex). Iterative: hostile nesting
// costs no stack.
//
// Example:
//   scan_msgpack_blob("\x81\xa1k\xc0", 16).error == ProfileError::kNone   // {"k": nil}
//   scan_msgpack_blob("\x81\xa1k\xc0", 16).zone_bytes == 48
//   scan_msgpack_blob("\xdd\xff\xff\xff\xff", 16).error == ProfileError::kTruncated
[[nodiscard]] BlobScan scan_msgpack_blob(std::string_view bytes, size_t max_depth) noexcept;

}  // namespace tailor
