// ProfileScan: the one-pass structural check of an untrusted MessagePack blob, over MsgpackReader.
#include "tailor/profile/scan.h"

#include "tailor/base/msgpack_reader.h"

#include <msgpack.h>

#include <algorithm>
#include <cstdint>

namespace tailor {

namespace {

static_assert(kZoneArrayItemBytes == sizeof(msgpack_object), "msgpack-c's tree changed");
static_assert(kZoneMapPairBytes == sizeof(msgpack_object_kv), "msgpack-c's tree changed");

BlobScan fail(ProfileError error) noexcept {
    BlobScan s;
    s.error = error;
    return s;
}

ProfileError scan_error(MsgpackError error) noexcept {
    switch (error) {
        case MsgpackError::kTruncated:
            return ProfileError::kTruncated;
        case MsgpackError::kTooDeep:
            return ProfileError::kTooDeep;
        case MsgpackError::kTooLarge:  // a count past the reader's limits is past the zone's too
            return ProfileError::kTooComplex;
        case MsgpackError::kNone:
        case MsgpackError::kMalformed:
        case MsgpackError::kWrongType:
            break;
    }
    return ProfileError::kMalformed;
}

}  // namespace

BlobScan scan_msgpack_blob(std::string_view bytes, size_t max_depth) noexcept {
    MsgpackLimits limits;
    limits.max_depth = std::min(max_depth, kMaxProfileDepth);
    MsgpackReader r(bytes, limits);
    BlobScan out;
    // The walk has refused a count the rest of the blob cannot hold (every
    // value takes a byte) before it gets here, so the count is at most the
    // blob's size: no overflow, and msgpack-c never trusts a lie.
    const bool whole = r.walk(1, [&out](const MsgpackHead& h) {
        out.zone_bytes += static_cast<size_t>(h.u) *
                          (h.type == MsgpackType::kMap ? kZoneMapPairBytes : kZoneArrayItemBytes);
        return out.zone_bytes <= kMaxProfileZoneBytes;
    });
    if (!whole) {
        return fail(r.error() == MsgpackError::kNone ? ProfileError::kTooComplex
                                                     : scan_error(r.error()));
    }
    if (!r.at_end()) {
        return fail(ProfileError::kMalformed);  // bytes after the top value
    }
    return out;
}

}  // namespace tailor
