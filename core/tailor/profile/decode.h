// decode_profile: the shop's and the module's MessagePack blobs into one Profile, bounded.
//
// The schema (profile.h) says what the fields mean; this says how a blob is
// read and when it is refused. decode.cpp holds the bounded parse,
// decode_fields.cpp the field readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "tailor/profile/profile.h"

namespace tailor {

// ProfileLimits
//
// Per-call bounds. Values above the compiled caps are clamped to them, so a
// configuration can tighten but never loosen them.
struct ProfileLimits {
    size_t max_bytes = kMaxProfileBytes;
    size_t max_depth = kMaxProfileDepth;
};

// ProfileDecodeStats
//
// What decoding left out without refusing the blob, summed over both blobs.
struct ProfileDecodeStats {
    uint32_t unknown = 0;     // keys this schema does not know
    uint32_t wrong_type = 0;  // fields of the wrong type or range, malformed list elements
    uint32_t over_limit = 0;  // list or map elements past a cap
};

// ProfileDecodeResult
//
// `profile` is set unless the shop's blob was refused (`error` says why).
// A refused live blob only loses the live data: `live_error` says why, and
// the shop's profile is still returned, since it alone is worth using.
struct ProfileDecodeResult {
    std::optional<Profile> profile;
    ProfileError error = ProfileError::kNone;
    ProfileError live_error = ProfileError::kNone;
    ProfileDecodeStats stats;
};

// decode_profile
//
// Decodes the shop's `profile` blob and merges the module's `live` blob into
// one Profile. An empty blob is absent (Redis nil): both absent gives a
// default Profile. Never throws; every string views `profile_bytes` or
// `live_bytes`, which must outlive the result.
//
// Example:
//   auto r = decode_profile(mget[0], mget[1]);
//   if (!r.profile) { count(profile_error_name(r.error)); serve_default(); }
//   r.profile->days_since_last_order(now)  // e.g. 41
[[nodiscard]] ProfileDecodeResult decode_profile(std::string_view profile_bytes,
                                                 std::string_view live_bytes = {},
                                                 const ProfileLimits& limits = {}) noexcept;

namespace profile_detail {
struct DecodeScratch;
}

// ProfileDecoder
//
// decode_profile for a caller that decodes over and over (a worker, a profile per page view):
// the Profile's lists keep their room between decodes, so a decode allocates nothing once
// the lists have grown to the visitors' sizes (they are capped: profile.h). The Profile
// returned lives until the next decode or the decoder's end, and views the blobs as
// decode_profile's does. Not thread-safe: one per worker.
//
// Example:
//   ProfileDecoder decoder;
//   ProfileDecoder::Result r = decoder.decode(profile_blob, live_blob);
//   if (r.profile != nullptr) { run_rules(*r.profile); }
class ProfileDecoder {
  public:
    // As ProfileDecodeResult, with the Profile kept by the decoder.
    struct Result {
        const Profile* profile = nullptr;  // null when the shop's blob was refused
        ProfileError error = ProfileError::kNone;
        ProfileError live_error = ProfileError::kNone;
        ProfileDecodeStats stats;
    };

    ProfileDecoder() noexcept;
    ~ProfileDecoder();
    ProfileDecoder(ProfileDecoder&&) noexcept;
    ProfileDecoder& operator=(ProfileDecoder&&) noexcept;

    [[nodiscard]] Result decode(std::string_view profile_bytes, std::string_view live_bytes = {},
                                const ProfileLimits& limits = {}) noexcept;

  private:
    std::unique_ptr<profile_detail::DecodeScratch> scratch_;  // made at the first decode
};

// check_profile_blob
//
// The structural checks decode_profile runs before reading any field (size,
// truncation, depth, object tree size, top-level map, version), without
// building a Profile. An empty blob passes.
//
// Example:
//   check_profile_blob("\x91\xc0") == ProfileError::kNotAMap
[[nodiscard]] ProfileError check_profile_blob(std::string_view bytes,
                                              const ProfileLimits& limits = {}) noexcept;

}  // namespace tailor
