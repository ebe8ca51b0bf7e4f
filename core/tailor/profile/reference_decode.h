// ProfileReference: the msgpack-c profile decoder decode_profile replaced, kept as the oracle.
//
// Until issue 12, decode_profile scanned a blob (scan.h), msgpack_unpack'ed
// it into a zone and walked msgpack-c's object tree. decode.cpp now reads
// the bytes in one pass; this is the old path, unchanged but for its names,
// so tests and tests/fuzz/profile_fuzz.cpp can hold the new one to exactly
// its results (status, every field, every counter) on any input. Nothing in
// the product calls it (the module never links it in), and it is not a
// second decoder to maintain: a schema change goes into both or the
// differential fuzz says which one is wrong.
#pragma once

#include <string_view>

#include "tailor/profile/decode.h"

namespace tailor {

// decode_profile_reference
//
// decode_profile as it was before the one-pass reader (same contract).
//
// Example:
//   decode_profile_reference(blob, live).error == decode_profile(blob, live).error
[[nodiscard]] ProfileDecodeResult decode_profile_reference(
    std::string_view profile_bytes, std::string_view live_bytes = {},
    const ProfileLimits& limits = {}) noexcept;

// check_profile_blob_reference
//
// check_profile_blob as it was (same contract).
//
// Example:
//   check_profile_blob_reference("\x91\xc0") == ProfileError::kNotAMap
[[nodiscard]] ProfileError check_profile_blob_reference(std::string_view bytes,
                                                        const ProfileLimits& limits = {}) noexcept;

}  // namespace tailor
