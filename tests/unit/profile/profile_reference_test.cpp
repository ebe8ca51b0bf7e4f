// decode_profile against the msgpack-c decoder it replaced (reference_decode.h): the same
// status, counters and fields on real, hostile and mutated blobs.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "profile/profile_compare.h"
#include "profile/profile_test_util.h"
#include "tailor/profile/reference_decode.h"

namespace tailor::profile_testing {
namespace {

// Both decoders on the blob alone, as live map, split in two and under
// tightened limits; "" when they agree everywhere.
std::string differ(std::string_view blob) {
    const auto run = [](std::string_view shop, std::string_view live, const ProfileLimits& limits) {
        return decode_difference(decode_profile(shop, live, limits),
                                 decode_profile_reference(shop, live, limits));
    };
    std::vector<ProfileLimits> limits(3);
    limits[1].max_depth = 2;
    limits[2].max_bytes = blob.size() > 0 ? blob.size() - 1 : 0;
    for (const ProfileLimits& l : limits) {
        std::string d = run(blob, {}, l);
        if (d.empty()) {
            d = run({}, blob, l);
        }
        if (d.empty()) {
            d = run(blob, blob, l);
        }
        if (d.empty() && check_profile_blob(blob, l) != check_profile_blob_reference(blob, l)) {
            d = "check_profile_blob";
        }
        if (!d.empty()) {
            return d;
        }
    }
    return {};
}

std::vector<std::string> corpus() {
    std::vector<std::string> blobs;
    const std::string dir = std::string(TAILOR_SOURCE_DIR) + "/tests/fuzz/corpus/profile";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        blobs.push_back(read_file(entry.path().string()));
    }
    return blobs;
}

TEST(ProfileReference, AgreesOnTheSeedCorpus) {
    const std::vector<std::string> blobs = corpus();
    ASSERT_GE(blobs.size(), 10u);
    for (const std::string& blob : blobs) {
        EXPECT_EQ(differ(blob), "") << testing::PrintToString(blob);
    }
}

TEST(ProfileReference, AgreesOnTheTypicalProfileAndLiveMap) {
    const std::string shop = typical_profile();
    Mp live;
    live.map(5).ki("v", 1).ki("visits", 4).ki("last_order_at", kNow - 10);
    live.s("purchased").arr(1).map(2).ks("sku", "NEW-1").ki("qty", 3);
    live.s("acquisition").map(2).ks("source", "google").ki("at", kNow - kDay);
    const std::string l = live.str();
    EXPECT_EQ(decode_difference(decode_profile(shop, l), decode_profile_reference(shop, l)), "");
    const ProfileDecodeResult r = decode_profile(shop, l);
    ASSERT_TRUE(r.profile.has_value());
    EXPECT_EQ(r.profile->purchases.front().sku, "NEW-1");
    EXPECT_EQ(r.profile->acquisition.source, "google");
}

// Wrong types everywhere the schema reads one, nil included, at every level.
TEST(ProfileReference, AgreesOnWrongTypesNilsAndUnknownKeys) {
    Mp m;
    m.map(14).s("v").d(1.0).s("first_name").i(3).s("currency").nil();
    m.s("orders_count").i(-1).s("last_order_at").u(UINT64_MAX).s("total_spent").s("x");
    m.s("affinity").map(4).s("a").nil().s("").d(1).s("b").s("no").s("a").f(0.5f);
    m.s("purchases").arr(4).nil().i(1).map(1).ks("category", "c");
    m.map(3).ks("sku", "S").s("qty").i(0).s("extra").arr(2).map(0).arr(0);
    m.s("loyalty").map(2).s("points").i(-5).s("tier").b(true);
    m.s("flags").arr(0).s("consent").map(1).s("sms").nil();
    m.s("attrs").map(4).s("n").d(2.5).s("b").b(false).s("").s("x").s("bad").arr(0);
    m.s("cart").nil().s("viewed").map(0);
    EXPECT_EQ(differ(m.str()), "");
}

TEST(ProfileReference, AgreesOverCaps) {
    Mp m;
    m.map(2).s("viewed").arr(kMaxViewed + 3);
    for (size_t i = 0; i < kMaxViewed + 3; ++i) {
        m.map(2).ks("sku", "V" + std::to_string(i % 70)).ki("at", static_cast<int64_t>(i));
    }
    m.s("affinity").map(kMaxAffinities + 2);
    for (size_t i = 0; i < kMaxAffinities + 2; ++i) {
        m.s("c" + std::to_string(i)).i(1);
    }
    EXPECT_EQ(differ(m.str()), "");
}

// Every prefix and every one-byte change of a real profile: each cut or
// corrupted blob must be refused for the same reason, or read the same.
TEST(ProfileReference, AgreesOnEveryPrefixAndOneByteMutation) {
    const std::string blob = typical_profile();
    for (size_t n = 0; n <= blob.size(); ++n) {
        ASSERT_EQ(differ(blob.substr(0, n)), "") << "prefix " << n;
    }
    const unsigned char swaps[] = {0x00, 0x7f, 0x80, 0x90, 0xa0, 0xc0, 0xc1, 0xc3, 0xca,
                                   0xcb, 0xcf, 0xd3, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xff};
    for (size_t i = 0; i < blob.size(); ++i) {
        for (unsigned char b : swaps) {
            std::string mutated = blob;
            mutated[i] = static_cast<char>(b);
            ASSERT_EQ(differ(mutated), "") << "byte " << i << " = " << static_cast<int>(b);
        }
    }
}

TEST(ProfileReference, AgreesOnRefusalsOfStructure) {
    EXPECT_EQ(differ(nested(kMaxProfileDepth)), "");
    EXPECT_EQ(differ(nested(kMaxProfileDepth - 1)), "");
    EXPECT_EQ(differ(std::string("\xdd\xff\xff\xff\xff", 5)), "");
    EXPECT_EQ(differ(std::string("\x81\xa1v\x02", 4)), "");
    EXPECT_EQ(differ(std::string("\x82\xa1v\x02\xa1x\xc1", 7)), "");  // the fault wins
    EXPECT_EQ(differ(std::string("\x80\xc0", 2)), "");
    // A tree msgpack-c would have built over kMaxProfileZoneBytes.
    std::string wide("\x81\xa1x\xdc\xff\xff", 6);
    wide.append(0xffff, '\x90');
    EXPECT_EQ(decode_profile(wide).error, ProfileError::kNone);
    std::string many("\x81\xa1x\xdd\x00\x02\xff\xff", 8);
    many.append(0x2ffff, '\x90');
    EXPECT_EQ(decode_profile(many).error, ProfileError::kTooComplex);
    EXPECT_EQ(differ(many), "");
}

}  // namespace
}  // namespace tailor::profile_testing
