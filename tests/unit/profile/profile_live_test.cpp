// Profile decoding: the live map merged over the shop profile, the scan, error names.
#include "tailor/profile/decode.h"
#include "tailor/profile/scan.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <set>
#include <string>
#include <string_view>

#include "profile/profile_compare.h"
#include "profile_test_util.h"

namespace tailor {
namespace {

using namespace profile_testing;  // NOLINT(google-build-using-namespace): test helpers

// --- the live map -------------------------------------------------------------

std::string live_blob() {
    Mp m;
    m.map(7).ki("v", 1).ki("visits", 12).ki("first_seen", kNow - 500 * kDay);
    m.ki("last_seen", kNow - 60);
    m.s("viewed").arr(2);
    m.map(3).ks("sku", "BOOT-42").ki("at", kNow - 100).ki("price", 11900);  // newer view
    m.map(2).ks("sku", "SCARF").ki("at", kNow - 5000);
    m.s("cart").arr(1).map(2).ks("sku", "SCARF").ki("qty", 1);
    m.s("acquisition").map(4).ks("source", "google").ks("medium", "cpc").ks("campaign", "spring");
    m.ki("at", kNow - 500 * kDay);
    return m.str();
}

TEST(ProfileDecode, LiveMergesVisitsSeenAndAcquisition) {
    const std::string shop = typical_profile();
    const std::string live = live_blob();
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_TRUE(p.has_shop_profile);
    EXPECT_TRUE(p.has_live);
    EXPECT_EQ(p.visits, 12);
    EXPECT_EQ(p.last_seen, kNow - 60);
    EXPECT_EQ(p.first_seen, kNow - 500 * kDay);  // the earliest known
    EXPECT_EQ(p.acquisition.source, "google");
    EXPECT_EQ(p.acquisition.medium, "cpc");
    EXPECT_EQ(p.acquisition.campaign, "spring");
    EXPECT_EQ(p.acquisition.at, kNow - 500 * kDay);
    EXPECT_EQ(p.first_name, "Ann");  // shop fields untouched
}

TEST(ProfileDecode, ViewedIsOneEntryPerSkuMostRecentFirst) {
    const std::string shop = typical_profile();
    const std::string live = live_blob();
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    const auto& v = r.profile->viewed;
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].sku, "BOOT-42");
    EXPECT_EQ(v[0].price, 11900);  // the later view's price
    EXPECT_EQ(v[1].sku, "SCARF");
    EXPECT_EQ(v[2].sku, "TEA-GREEN");
}

TEST(ProfileDecode, ShopCartWinsWhenLiveSnapshotIsNotNewer) {
    const std::string shop = typical_profile();  // cart_at kNow - 1700
    const std::string live = live_blob();        // cart, no cart_at
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    EXPECT_TRUE(r.profile->in_cart("TEE-M"));
    EXPECT_FALSE(r.profile->in_cart("SCARF"));
}

TEST(ProfileDecode, NewerLiveCartSnapshotWins) {
    const std::string shop = typical_profile();
    Mp m;
    m.map(2).s("cart").arr(1).map(2).ks("sku", "SCARF").ki("qty", 3).ki("cart_at", kNow);
    const std::string live = m.str();
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    ASSERT_EQ(r.profile->cart.size(), 1u);
    EXPECT_EQ(r.profile->cart_line("SCARF")->qty, 3);
    EXPECT_EQ(r.profile->cart_at, kNow);
}

TEST(ProfileDecode, LiveCartIsUsedWhenTheShopHasNone) {
    Mp shop;
    shop.map(1).ks("first_name", "Eve");
    const std::string shop_blob = shop.str();
    const std::string live = live_blob();
    const auto r = decode_profile(shop_blob, live);
    ASSERT_TRUE(r.profile);
    EXPECT_TRUE(r.profile->in_cart("SCARF"));
}

TEST(ProfileDecode, LiveAloneGivesAProfileForANewVisitor) {
    const std::string live = live_blob();
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile);
    EXPECT_FALSE(r.profile->has_shop_profile);
    EXPECT_TRUE(r.profile->has_live);
    EXPECT_TRUE(r.profile->has_viewed("SCARF"));
    EXPECT_EQ(r.profile->orders_count, 0);
}

TEST(ProfileDecode, RefusedLiveKeepsTheShopProfile) {
    const std::string shop = typical_profile();
    const std::string live("\x81\xa6visits", 8);  // truncated
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kNone);
    EXPECT_EQ(r.live_error, ProfileError::kTruncated);
    EXPECT_FALSE(r.profile->has_live);
    EXPECT_EQ(r.profile->first_name, "Ann");
    EXPECT_EQ(r.profile->viewed.size(), 2u);
}

TEST(ProfileDecode, RefusedProfileMeansNoProfileEvenWithLive) {
    const std::string live = live_blob();
    const auto r = decode_profile("\x92\x01\x02", live);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kNotAMap);
}

TEST(ProfileDecode, ShopOnlyKeysInLiveAreUnknown) {
    Mp m;
    m.map(2).ks("first_name", "Mallory").ki("orders_count", 99);
    const std::string live = m.str();
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "");
    EXPECT_EQ(r.profile->orders_count, 0);
    EXPECT_EQ(r.stats.unknown, 2u);
}

TEST(CheckProfileBlob, RunsTheStructuralChecksOnly) {
    EXPECT_EQ(check_profile_blob({}), ProfileError::kNone);
    EXPECT_EQ(check_profile_blob(typical_profile()), ProfileError::kNone);
    EXPECT_EQ(check_profile_blob("\x91\xc0"), ProfileError::kNotAMap);
    EXPECT_EQ(check_profile_blob(nested(kMaxProfileDepth)), ProfileError::kTooDeep);
}

TEST(ProfileScan, ZoneBytesAreWhatMsgpackBuilds) {
    // {"a": [1, 2, 3], "b": {}}: one 2-pair map, one 3-item array, one empty map.
    const std::string blob(
        "\x82\xa1"
        "a\x93\x01\x02\x03\xa1"
        "b\x80",
        10);
    const BlobScan s = scan_msgpack_blob(blob, kMaxProfileDepth);
    EXPECT_EQ(s.error, ProfileError::kNone);
    EXPECT_EQ(s.zone_bytes, 2 * sizeof(msgpack_object_kv) + 3 * sizeof(msgpack_object));
}

TEST(ProfileScan, AcceptsEveryScalarEncoding) {
    Mp m;
    m.arr(13).nil().b(true).i(-1).i(-200).i(70000).u(UINT64_MAX).f(1.5f).d(2.5);
    m.s(std::string(40, 's')).s(std::string(300, 's')).bin("b");
    m.raw(std::string("\xd4\x01\x02", 3));          // fixext 1
    m.raw(std::string("\xc7\x02\x05\xaa\xbb", 5));  // ext 8
    const std::string blob = m.str();
    EXPECT_EQ(scan_msgpack_blob(blob, 1).error, ProfileError::kNone);
    EXPECT_EQ(scan_msgpack_blob(blob, 0).error, ProfileError::kTooDeep);
}

TEST(ProfileErrorName, EveryErrorHasADistinctName) {
    std::set<std::string_view> names;
    for (int i = 0; i < static_cast<int>(ProfileError::kCount); ++i) {
        names.insert(profile_error_name(static_cast<ProfileError>(i)));
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(ProfileError::kCount));
    EXPECT_EQ(profile_error_name(ProfileError::kTooDeep), "too-deep");
    EXPECT_EQ(profile_error_name(ProfileError::kUnsupportedVersion), "unsupported-version");
}

// --- a decoder used again -------------------------------------------------------

// One ProfileDecoder through inputs of every kind, each after another: each decode gives
// exactly what decode_profile gives for it, so nothing of the decode before (a longer list,
// a live map, a refused blob) shows through the lists it keeps.
TEST(ProfileDecoder, EachDecodeGivesWhatDecodeProfileGives) {
    const std::string shop = typical_profile();
    const std::string live = live_blob();
    Mp small;
    small.map(2).ki("v", 1).s("purchases").arr(1).map(2).ks("sku", "MUG-1").ki("at", kNow);
    const std::string small_shop = small.str();
    const std::string truncated("\x81\xa6visits", 8);
    const struct {
        std::string_view shop;
        std::string_view live;
    } inputs[] = {
        {shop, live}, {small_shop, {}}, {{}, live},         {truncated, live}, {shop, truncated},
        {{}, {}},     {shop, live},     {small_shop, live}, {shop, {}},
    };
    ProfileDecoder decoder;
    for (size_t i = 0; i < std::size(inputs); ++i) {
        const ProfileDecodeResult want = decode_profile(inputs[i].shop, inputs[i].live);
        const ProfileDecodeResult got =
            profile_testing::as_result(decoder.decode(inputs[i].shop, inputs[i].live));
        EXPECT_EQ(profile_testing::decode_difference(got, want), "") << "input " << i;
    }
}

// The Profile a decode returns is the decoder's own, and decoding the same bytes again fills
// the same lists in place.
TEST(ProfileDecoder, DecodingAgainKeepsTheListsRoom) {
    const std::string shop = typical_profile();
    ProfileDecoder decoder;
    const ProfileDecoder::Result first = decoder.decode(shop);
    ASSERT_NE(first.profile, nullptr);
    const Purchase* purchases = first.profile->purchases.data();
    const Attribute* attributes = first.profile->attributes.data();
    const ProfileDecoder::Result again = decoder.decode(shop);
    ASSERT_EQ(again.profile, first.profile);
    EXPECT_EQ(again.profile->purchases.data(), purchases);
    EXPECT_EQ(again.profile->attributes.data(), attributes);
    EXPECT_EQ(again.profile->purchases.size(), 2u);
}

}  // namespace
}  // namespace tailor
