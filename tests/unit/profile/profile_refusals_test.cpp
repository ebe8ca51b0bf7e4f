// Profile decoding: refusals and the caps on lists (bounds before allocation, depth, size,
// versions).
#include "tailor/profile/decode.h"
#include "tailor/profile/scan.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <string>
#include <string_view>

#include "profile_test_util.h"

namespace tailor {
namespace {

using namespace profile_testing;  // NOLINT(google-build-using-namespace): test helpers

// --- refusals ---------------------------------------------------------------

TEST(ProfileDecode, EveryTruncationIsRefused) {
    const std::string blob = typical_profile();
    for (size_t n = 1; n < blob.size(); ++n) {
        const auto r = decode_profile(std::string_view(blob).substr(0, n));
        ASSERT_FALSE(r.profile) << "prefix " << n;
        ASSERT_EQ(r.error, ProfileError::kTruncated) << "prefix " << n;
    }
}

TEST(ProfileDecode, NotAMapAtTopLevelIsRefused) {
    Mp arr, str, num;
    arr.arr(1).map(0);
    str.s("first_name");
    num.i(42);
    for (const std::string& blob : {arr.str(), str.str(), num.str(), std::string("\xc1")}) {
        const auto r = decode_profile(blob);
        EXPECT_FALSE(r.profile);
        EXPECT_EQ(r.error, ProfileError::kNotAMap);
    }
}

TEST(ProfileDecode, HugeDeclaredLengthsAreRefusedBeforeAllocating) {
    // Each would make msgpack-c reserve gigabytes if handed over unchecked.
    const std::string cases[] = {
        std::string("\xdf\xff\xff\xff\xff", 5),           // map32 of 4G pairs
        std::string("\x81\xa1x\xdd\xff\xff\xff\xff", 8),  // array32 of 4G items
        std::string("\x81\xa1x\xdb\xff\xff\xff\xf0"
                    "abc",
                    11),                                      // str32 of 4 GB
        std::string("\x81\xa1x\xc6\x7f\xff\xff\xff", 8),      // bin32
        std::string("\x81\xa1x\xc9\x00\x10\x00\x00\x01", 9),  // ext32
        std::string("\x81\xa1x\xdc\x00\x03\xc0\xc0", 8),      // array16 of 3, 2 present
    };
    for (const std::string& blob : cases) {
        const auto r = decode_profile(blob);
        EXPECT_FALSE(r.profile);
        EXPECT_EQ(r.error, ProfileError::kTruncated);
    }
}

TEST(ProfileDecode, TrailingBytesAreMalformed) {
    std::string blob = typical_profile();
    blob.push_back('\xc0');
    const auto r = decode_profile(blob);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kMalformed);
}

TEST(ProfileDecode, ReservedByteIsMalformed) {
    const std::string blob("\x81\xa1x\xc1", 4);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kMalformed);
}

TEST(ProfileDecode, NestingAtTheDepthLimitIsAccepted) {
    const std::string blob = nested(kMaxProfileDepth - 1);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile) << profile_error_name(r.error);
    EXPECT_EQ(r.profile->first_name, "Deep");
}

TEST(ProfileDecode, NestingOnePastTheDepthLimitIsRefused) {
    const std::string blob = nested(kMaxProfileDepth);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kTooDeep);
}

TEST(ProfileDecode, NestingFarPastMsgpackStackIsRefused) {
    const std::string blob = nested(100000);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kTooDeep);
    const std::string empty_arrays = std::string("\x81\xa1x", 3) + std::string(40, '\x91') + "\x90";
    EXPECT_EQ(decode_profile(empty_arrays).error, ProfileError::kTooDeep);
}

TEST(ProfileDecode, ConfiguredDepthIsHonouredAndClampedToTheCap) {
    const std::string blob = nested(3);  // innermost at level 4
    ProfileLimits limits;
    limits.max_depth = 3;
    EXPECT_EQ(decode_profile(blob, {}, limits).error, ProfileError::kTooDeep);
    limits.max_depth = 4;
    EXPECT_TRUE(decode_profile(blob, {}, limits).profile);
    limits.max_depth = 1000;
    EXPECT_EQ(decode_profile(nested(kMaxProfileDepth), {}, limits).error, ProfileError::kTooDeep);
}

// A valid blob of exactly `size` bytes: a map whose padding string fills it.
std::string blob_of_size(size_t size) {
    Mp head;
    head.map(2).ks("first_name", "Pad").s("pad");
    const std::string prefix = head.str();
    auto header_bytes = [](size_t n) -> size_t {
        return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
    };
    for (size_t h : {1, 2, 3, 5}) {
        const size_t body = size - prefix.size() - h;
        if (header_bytes(body) == h) {
            Mp m;
            m.raw(prefix).s(std::string(body, 'p'));
            EXPECT_EQ(m.str().size(), size);
            return m.str();
        }
    }
    ADD_FAILURE() << "no padding fits " << size;
    return {};
}

TEST(ProfileDecode, SizeAtTheLimitIsAccepted) {
    const std::string blob = blob_of_size(kMaxProfileBytes);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile) << profile_error_name(r.error);
    EXPECT_EQ(r.profile->first_name, "Pad");
}

TEST(ProfileDecode, SizeOnePastTheLimitIsRefused) {
    const std::string blob = blob_of_size(kMaxProfileBytes + 1);
    const auto r = decode_profile(blob);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kTooLarge);
}

TEST(ProfileDecode, ConfiguredSizeLimitIsHonouredAndClampedToTheCap) {
    ProfileLimits limits;
    limits.max_bytes = 4096;
    EXPECT_TRUE(decode_profile(blob_of_size(4096), {}, limits).profile);
    EXPECT_EQ(decode_profile(blob_of_size(4097), {}, limits).error, ProfileError::kTooLarge);
    limits.max_bytes = SIZE_MAX;
    EXPECT_TRUE(decode_profile(blob_of_size(kMaxProfileBytes + 1), {}, limits).profile);
    EXPECT_EQ(decode_profile(blob_of_size(kMaxProfileBytesLimit + 1), {}, limits).error,
              ProfileError::kTooLarge);
}

TEST(ProfileDecode, ObjectTreeOverTheZoneCapIsRefused) {
    // 3-byte maps each cost msgpack-c 24 + 48 zone bytes: 24 per input byte.
    const size_t n = 70000;  // 210 KB of input, about 5 MB of tree
    Mp m;
    m.map(1).s("x").arr(n);
    for (size_t i = 0; i < n; ++i) {
        m.map(1).nil().nil();
    }
    const std::string blob = m.str();
    ASSERT_LE(blob.size(), kMaxProfileBytes);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kTooComplex);
}

TEST(ProfileDecode, NewerSchemaVersionIsRefused) {
    Mp m;
    m.map(2).ki("v", kProfileSchemaVersion + 1).ks("first_name", "Future");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kUnsupportedVersion);
}

TEST(ProfileDecode, VersionBelowOneIsRefused) {
    Mp zero, negative;
    zero.map(1).ki("v", 0);
    negative.map(1).ki("v", -1);
    EXPECT_EQ(decode_profile(zero.str()).error, ProfileError::kUnsupportedVersion);
    EXPECT_EQ(decode_profile(negative.str()).error, ProfileError::kUnsupportedVersion);
}

TEST(ProfileDecode, WrongTypedVersionIsIgnoredLikeAnyField) {
    Mp m;
    m.map(2).ks("v", "2").ks("first_name", "Dee");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->version, 1);
    EXPECT_EQ(r.stats.wrong_type, 1u);
}

// --- caps -------------------------------------------------------------------

std::string purchases_blob(size_t n) {
    Mp m;
    m.map(1).s("purchases").arr(n);
    for (size_t i = 0; i < n; ++i) {
        m.map(2).ks("sku", "SKU-" + std::to_string(i)).ki("at", kNow - static_cast<int64_t>(i));
    }
    return m.str();
}

TEST(ProfileDecode, PurchasesAtTheCapAreAllKept) {
    const std::string blob = purchases_blob(kMaxPurchases);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->purchases.size(), kMaxPurchases);
    EXPECT_EQ(r.stats.over_limit, 0u);
}

TEST(ProfileDecode, PurchasesPastTheCapAreDroppedAndCounted) {
    const std::string blob = purchases_blob(kMaxPurchases + 1);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->purchases.size(), kMaxPurchases);
    EXPECT_EQ(r.stats.over_limit, 1u);
    EXPECT_TRUE(r.profile->has_purchased("SKU-0"));  // writers put the newest first
    EXPECT_FALSE(r.profile->has_purchased("SKU-256"));
}

template <typename Fill>
std::string list_blob(std::string_view key, size_t n, Fill fill) {
    Mp m;
    m.map(1).s(key).arr(n);
    for (size_t i = 0; i < n; ++i) {
        fill(m, i);
    }
    return m.str();
}

TEST(ProfileDecode, ViewedAndCartAtTheCapKeptOnePastCounted) {
    auto viewed = [](Mp& m, size_t i) {
        m.map(2).ks("sku", "V" + std::to_string(i)).ki("at", kNow - static_cast<int64_t>(i));
    };
    auto cart = [](Mp& m, size_t i) { m.map(1).ks("sku", "C" + std::to_string(i)); };
    for (size_t extra : {0, 1}) {
        const std::string v = list_blob("viewed", kMaxViewed + extra, viewed);
        const auto rv = decode_profile(v);
        ASSERT_TRUE(rv.profile);
        EXPECT_EQ(rv.profile->viewed.size(), kMaxViewed);
        EXPECT_EQ(rv.stats.over_limit, extra);
        const std::string c = list_blob("cart", kMaxCartLines + extra, cart);
        const auto rc = decode_profile(c);
        ASSERT_TRUE(rc.profile);
        EXPECT_EQ(rc.profile->cart.size(), kMaxCartLines);
        EXPECT_EQ(rc.stats.over_limit, extra);
    }
}

std::string map_blob(std::string_view key, size_t n) {
    Mp m;
    m.map(1).s(key).map(n);
    for (size_t i = 0; i < n; ++i) {
        m.s("k" + std::to_string(i)).d(static_cast<double>(i) / 1000);
    }
    return m.str();
}

TEST(ProfileDecode, AffinitiesAndAttributesAtTheCapKeptOnePastCounted) {
    for (size_t extra : {0, 1}) {
        const std::string a = map_blob("affinity", kMaxAffinities + extra);
        const auto ra = decode_profile(a);
        ASSERT_TRUE(ra.profile);
        EXPECT_EQ(ra.profile->affinities.size(), kMaxAffinities);
        EXPECT_EQ(ra.stats.over_limit, extra);
        const std::string t = map_blob("attrs", kMaxAttributes + extra);
        const auto rt = decode_profile(t);
        ASSERT_TRUE(rt.profile);
        EXPECT_EQ(rt.profile->attributes.size(), kMaxAttributes);
        EXPECT_EQ(rt.stats.over_limit, extra);
    }
}

TEST(ProfileDecode, SingleByteCorruptionsNeverCrash) {
    const std::string blob = typical_profile();
    const unsigned char values[] = {0x00, 0xff, 0xc1, 0xdd, 0xdf, 0x7f, 0x9f, 0xdb};
    for (size_t i = 0; i < blob.size(); ++i) {
        for (unsigned char v : values) {
            std::string bad = blob;
            bad[i] = static_cast<char>(v);
            const auto r = decode_profile(bad);
            ASSERT_EQ(r.profile.has_value(), r.error == ProfileError::kNone);
        }
    }
}

}  // namespace
}  // namespace tailor
