// ProfileScan: the one-pass structural check of an untrusted MessagePack blob.
#include "tailor/profile/scan.h"

#include <msgpack.h>

#include <algorithm>
#include <array>
#include <cstdint>

namespace tailor {

namespace {

constexpr size_t kArrayItemBytes = sizeof(msgpack_object);
constexpr size_t kMapPairBytes = sizeof(msgpack_object_kv);

enum class Kind : uint8_t { kScalar, kArray, kMap, kInvalid };

// What a first byte says: its kind, the payload bytes that follow it, how
// many bytes of big-endian length follow it (whose value adds to the payload
// of a str/bin/ext, or is the count of a container), and a fix* count.
struct Header {
    Kind kind = Kind::kScalar;
    uint8_t skip = 0;
    uint8_t length_size = 0;
    uint8_t count = 0;
};

constexpr std::array<Header, 256> make_headers() {
    std::array<Header, 256> t{};
    for (int b = 0; b < 256; ++b) {
        Header& h = t[static_cast<size_t>(b)];
        if (b >= 0x80 && b <= 0x8f) {
            h.kind = Kind::kMap;
            h.count = static_cast<uint8_t>(b & 0x0f);
        } else if (b >= 0x90 && b <= 0x9f) {
            h.kind = Kind::kArray;
            h.count = static_cast<uint8_t>(b & 0x0f);
        } else if (b >= 0xa0 && b <= 0xbf) {
            h.skip = static_cast<uint8_t>(b & 0x1f);  // fixstr
        }
        // fixints, nil, false, true: the defaults, one byte and no payload.
    }
    t[0xc1].kind = Kind::kInvalid;                  // never used by MessagePack
    t[0xc4].length_size = t[0xd9].length_size = 1;  // bin 8, str 8
    t[0xc5].length_size = t[0xda].length_size = 2;
    t[0xc6].length_size = t[0xdb].length_size = 4;
    t[0xc7] = Header{Kind::kScalar, 1, 1, 0};  // ext 8/16/32: length, type byte, data
    t[0xc8] = Header{Kind::kScalar, 1, 2, 0};
    t[0xc9] = Header{Kind::kScalar, 1, 4, 0};
    t[0xca].skip = 4;                 // float 32
    t[0xcb].skip = 8;                 // float 64
    t[0xcc].skip = t[0xd0].skip = 1;  // (u)int 8
    t[0xcd].skip = t[0xd1].skip = 2;
    t[0xce].skip = t[0xd2].skip = 4;
    t[0xcf].skip = t[0xd3].skip = 8;
    t[0xd4].skip = 2;  // fixext 1/2/4/8/16: type byte, data
    t[0xd5].skip = 3;
    t[0xd6].skip = 5;
    t[0xd7].skip = 9;
    t[0xd8].skip = 17;
    t[0xdc] = Header{Kind::kArray, 0, 2, 0};
    t[0xdd] = Header{Kind::kArray, 0, 4, 0};
    t[0xde] = Header{Kind::kMap, 0, 2, 0};
    t[0xdf] = Header{Kind::kMap, 0, 4, 0};
    return t;
}

constexpr std::array<Header, 256> kHeaders = make_headers();

uint64_t read_be(const unsigned char* p, size_t n) noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

BlobScan fail(ProfileError error) noexcept {
    BlobScan s;
    s.error = error;
    return s;
}

}  // namespace

BlobScan scan_msgpack_blob(std::string_view bytes, size_t max_depth) noexcept {
    max_depth = std::min(max_depth, kMaxProfileDepth);
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const size_t size = bytes.size();
    // Values still to read: `left` in the innermost open container (kept in a
    // register, it is touched once per value), `outer` in the ones around it.
    uint64_t outer[kMaxProfileDepth];
    uint64_t left = 0;
    size_t depth = 0;
    size_t pos = 0;
    BlobScan out;
    for (;;) {
        if (pos >= size) {
            return fail(ProfileError::kTruncated);
        }
        const unsigned char b = p[pos++];
        // Fast path for what profiles are mostly made of, keys (fixstr) and
        // small numbers (fixint): the skip comes from the byte itself, which
        // keeps the table load out of the byte-to-byte dependency chain.
        if (b < 0x80 || b >= 0xe0 || (b >= 0xa0 && b <= 0xbf)) {
            const size_t skip = (b >= 0xa0 && b <= 0xbf) ? (b & 0x1fu) : 0;
            if (size - pos < skip) {
                return fail(ProfileError::kTruncated);
            }
            pos += skip;
            while (depth > 0 && --left == 0) {
                if (--depth > 0) {
                    left = outer[depth - 1];
                }
            }
            if (depth == 0) {
                break;
            }
            continue;
        }
        const Header h = kHeaders[b];
        if (h.kind == Kind::kInvalid) {
            return fail(ProfileError::kMalformed);
        }
        uint64_t n = h.count;
        if (h.length_size > 0) {
            if (size - pos < h.length_size) {
                return fail(ProfileError::kTruncated);
            }
            n = read_be(p + pos, h.length_size);
            pos += h.length_size;
        }
        if (h.kind == Kind::kScalar) {
            const uint64_t skip = h.skip + (h.length_size > 0 ? n : 0);
            if (size - pos < skip) {
                return fail(ProfileError::kTruncated);
            }
            pos += static_cast<size_t>(skip);
        } else {
            if (depth >= max_depth) {
                return fail(ProfileError::kTooDeep);
            }
            const uint64_t values = h.kind == Kind::kMap ? n * 2 : n;
            // Every value takes at least one byte, so a count the rest of the
            // blob cannot hold is a lie; refuse it before msgpack-c trusts it.
            if (values > size - pos) {
                return fail(ProfileError::kTruncated);
            }
            // n <= size here, so this cannot overflow.
            out.zone_bytes +=
                static_cast<size_t>(n) * (h.kind == Kind::kMap ? kMapPairBytes : kArrayItemBytes);
            if (out.zone_bytes > kMaxProfileZoneBytes) {
                return fail(ProfileError::kTooComplex);
            }
            if (values > 0) {
                if (depth > 0) {
                    outer[depth - 1] = left;
                }
                left = values;
                ++depth;
                continue;
            }
        }
        // A value is complete: close every container it completes.
        while (depth > 0 && --left == 0) {
            if (--depth > 0) {
                left = outer[depth - 1];
            }
        }
        if (depth == 0) {
            break;
        }
    }
    if (pos != size) {
        return fail(ProfileError::kMalformed);  // bytes after the top value
    }
    return out;
}

}  // namespace tailor
