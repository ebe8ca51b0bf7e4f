// Profile decoding: the schema, defaults, tolerance of wrong fields, zero copy.
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

TEST(ProfileDecode, TypicalProfileDecodesEveryField) {
    const std::string blob = typical_profile();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile) << profile_error_name(r.error);
    const Profile& p = *r.profile;
    EXPECT_EQ(r.error, ProfileError::kNone);
    EXPECT_EQ(r.stats.unknown + r.stats.wrong_type + r.stats.over_limit, 0u);
    EXPECT_TRUE(p.has_shop_profile);
    EXPECT_FALSE(p.has_live);
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(p.first_name, "Ann");
    EXPECT_EQ(p.currency, "EUR");
    EXPECT_EQ(p.first_seen, kNow - 400 * kDay);
    EXPECT_EQ(p.orders_count, 5);
    EXPECT_EQ(p.total_spent, 48950);
    ASSERT_EQ(p.affinities.size(), 3u);
    EXPECT_DOUBLE_EQ(p.affinity("coffee"), 0.8);
    ASSERT_EQ(p.purchases.size(), 2u);
    EXPECT_EQ(p.purchases[0].sku, "COFFEE-1KG");
    EXPECT_EQ(p.purchases[0].qty, 2);
    EXPECT_EQ(p.purchases[0].cycle_days, 30);
    EXPECT_EQ(p.purchases[0].price, 1899);
    EXPECT_EQ(p.purchases[1].qty, 1);
    ASSERT_EQ(p.viewed.size(), 2u);
    EXPECT_EQ(p.viewed[0].sku, "BOOT-42");
    EXPECT_EQ(p.viewed[0].category, "shoes");
    EXPECT_EQ(p.viewed[0].price, 12900);
    ASSERT_EQ(p.cart.size(), 2u);
    EXPECT_EQ(p.cart[1].qty, 1);  // default
    EXPECT_EQ(p.cart_at, kNow - 1700);
    EXPECT_EQ(p.loyalty.points, 1200);
    EXPECT_EQ(p.loyalty.tier, "gold");
    EXPECT_EQ(p.loyalty.points_expire_at, kNow + 20 * kDay);
    EXPECT_FALSE(p.flags.any());
    EXPECT_EQ(p.consent.personalization, ConsentFlag::kGranted);
    EXPECT_EQ(p.consent.email, ConsentFlag::kDenied);
    EXPECT_EQ(p.consent.sms, ConsentFlag::kUnknown);
    ASSERT_EQ(p.attributes.size(), 3u);
    EXPECT_EQ(p.attribute("skin_type")->text, "dry");
    EXPECT_EQ(p.attribute("shoe_size")->type, AttributeType::kNumber);
    EXPECT_DOUBLE_EQ(p.attribute("shoe_size")->number, 42);
    EXPECT_TRUE(p.attribute("newsletter_vip")->boolean);
}

TEST(ProfileDecode, StringsPointIntoTheInputBuffers) {
    const std::string blob = typical_profile();
    Mp live;
    live.map(3).ks("acquisition", "x");  // wrong type, ignored
    live.s("viewed").arr(1).map(2).ks("sku", "LIVE-SKU").ki("at", kNow);
    live.s("acquisition").map(2).ks("source", "newsletter").ks("referrer", "mail.example");
    const std::string live_blob = live.str();
    const auto r = decode_profile(blob, live_blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_TRUE(inside(p.first_name, blob));
    EXPECT_TRUE(inside(p.currency, blob));
    EXPECT_TRUE(inside(p.loyalty.tier, blob));
    for (const auto& a : p.affinities)
        EXPECT_TRUE(inside(a.category, blob));
    for (const auto& x : p.purchases)
        EXPECT_TRUE(inside(x.sku, blob) && inside(x.category, blob));
    for (const auto& x : p.cart)
        EXPECT_TRUE(inside(x.sku, blob));
    for (const auto& a : p.attributes)
        EXPECT_TRUE(inside(a.name, blob) && inside(a.text, blob));
    ASSERT_EQ(p.viewed.size(), 3u);
    EXPECT_EQ(p.viewed[0].sku, "LIVE-SKU");
    EXPECT_TRUE(inside(p.viewed[0].sku, live_blob));
    EXPECT_TRUE(inside(p.viewed[1].sku, blob));
    EXPECT_EQ(p.acquisition.source, "newsletter");
    EXPECT_TRUE(inside(p.acquisition.source, live_blob));
    EXPECT_TRUE(inside(p.acquisition.referrer, live_blob));
}

TEST(ProfileDecode, EmptyBlobsGiveADefaultProfile) {
    const auto r = decode_profile({}, {});
    ASSERT_TRUE(r.profile);
    EXPECT_FALSE(r.profile->has_shop_profile);
    EXPECT_FALSE(r.profile->has_live);
    EXPECT_EQ(r.profile->orders_count, 0);
    EXPECT_EQ(r.profile->days_since_last_order(kNow), std::nullopt);
    EXPECT_TRUE(r.profile->purchases.empty());
}

TEST(ProfileDecode, MissingFieldsTakeDefaults) {
    Mp m;
    m.map(1).ks("first_name", "Bo");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_EQ(p.version, kProfileSchemaVersion);
    EXPECT_EQ(p.first_name, "Bo");
    EXPECT_EQ(p.currency, "");
    EXPECT_EQ(p.total_spent, 0);
    EXPECT_EQ(p.loyalty.points, 0);
    EXPECT_EQ(p.loyalty.tier, "");
    EXPECT_EQ(p.consent.personalization, ConsentFlag::kUnknown);
    EXPECT_FALSE(p.flags.any());
}

TEST(ProfileDecode, UnknownFieldsAreIgnoredAndCounted) {
    Mp m;
    m.map(4).ks("first_name", "Cy").ki("future_field", 7);
    m.s("nested_future").map(1).s("deep").arr(2).i(1).s("x");
    m.s("purchases").arr(1).map(2).ks("sku", "A").ks("gift_wrap", "yes");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "Cy");
    ASSERT_EQ(r.profile->purchases.size(), 1u);
    EXPECT_EQ(r.stats.unknown, 3u);
    EXPECT_EQ(r.stats.wrong_type, 0u);
}

TEST(ProfileDecode, WrongTypedFieldIsIgnoredOthersKept) {
    Mp m;
    m.map(14);
    m.s("first_name").i(5);      // not a string
    m.ks("currency", "USD");     // fine
    m.ks("orders_count", "3");   // string, not integer
    m.s("total_spent").d(12.5);  // float, not integer minor units
    m.ki("last_order_at", -5);   // negative time
    m.ki("first_seen", kNow);    // fine
    m.s("affinity").arr(0);      // not a map
    m.s("purchases").map(0);     // not an array
    m.s("loyalty").map(2).ks("points", "many").ks("tier", "silver");
    m.s("flags").map(2).ki("open_return", 1).kb("unsubscribed", true);
    m.s("consent").map(1).ks("email", "yes");
    m.s("attrs").map(2).s("list").arr(0).ks("ok", "fine");
    m.s("cart").s("nope");
    m.s("viewed").bin("binary is not a list");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_EQ(p.first_name, "");
    EXPECT_EQ(p.currency, "USD");
    EXPECT_EQ(p.orders_count, 0);
    EXPECT_EQ(p.total_spent, 0);
    EXPECT_EQ(p.last_order_at, 0);
    EXPECT_EQ(p.first_seen, kNow);
    EXPECT_EQ(p.loyalty.points, 0);
    EXPECT_EQ(p.loyalty.tier, "silver");
    EXPECT_FALSE(p.flags.open_return);
    EXPECT_TRUE(p.flags.unsubscribed);
    EXPECT_EQ(p.consent.email, ConsentFlag::kUnknown);
    ASSERT_EQ(p.attributes.size(), 1u);
    EXPECT_EQ(p.attributes[0].name, "ok");
    EXPECT_EQ(r.stats.wrong_type, 12u);
}

TEST(ProfileDecode, MalformedListElementIsSkippedOthersKept) {
    Mp m;
    m.map(1).s("purchases").arr(5);
    m.map(2).ks("sku", "A").ki("qty", 3);
    m.s("not a map");
    m.map(1).ks("category", "no sku");         // the sku is what makes a purchase
    m.map(2).ks("sku", "B").ks("qty", "two");  // bad field only: element kept, qty default
    m.map(1).s("sku").i(7);                    // sku of the wrong type: no sku
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const auto& ps = r.profile->purchases;
    ASSERT_EQ(ps.size(), 2u);
    EXPECT_EQ(ps[0].sku, "A");
    EXPECT_EQ(ps[0].qty, 3);
    EXPECT_EQ(ps[1].sku, "B");
    EXPECT_EQ(ps[1].qty, 1);
    EXPECT_EQ(r.stats.wrong_type, 5u);  // 3 elements + B's qty + the int sku
}

TEST(ProfileDecode, NilIsTheSameAsMissing) {
    Mp m;
    m.map(4).s("first_name").nil().s("purchases").nil().s("loyalty").nil();
    m.s("attrs").map(1).s("x").nil();  // an attribute needs a value
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "");
    EXPECT_TRUE(r.profile->attributes.empty());
    EXPECT_EQ(r.stats.wrong_type, 1u);  // only the valueless attribute
}

TEST(ProfileDecode, ValueRangesAreEnforcedPerField) {
    Mp m;
    m.map(1).s("purchases").arr(1).map(6).ks("sku", "A").ki("qty", 0).ki("at", kMaxTime + 1);
    m.ki("cycle_days", kMaxCycleDays + 1).ki("price", -1).s("category").u(UINT64_MAX);
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    ASSERT_EQ(r.profile->purchases.size(), 1u);
    const Purchase& p = r.profile->purchases[0];
    EXPECT_EQ(p.qty, 1);
    EXPECT_EQ(p.at, 0);
    EXPECT_EQ(p.cycle_days, 0);
    EXPECT_EQ(p.price, 0);
    EXPECT_EQ(r.stats.wrong_type, 5u);
}

TEST(ProfileDecode, AffinityScoresAcceptIntegersAndFloat32RefuseNaN) {
    Mp m;
    m.map(1).s("affinity").map(5).s("a").i(1).s("b").f(0.5f).s("c").d(std::nan(""));
    m.s("").d(0.3).s("d").s("high");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_DOUBLE_EQ(r.profile->affinity("a"), 1.0);
    EXPECT_DOUBLE_EQ(r.profile->affinity("b"), 0.5);
    EXPECT_EQ(r.profile->affinities.size(), 2u);
    EXPECT_EQ(r.stats.wrong_type, 3u);
}

TEST(ProfileDecode, KeyGivenTwiceTheLastOneCounts) {
    Mp m;
    m.map(4).ks("first_name", "Old").ks("first_name", "New");
    m.s("affinity").map(2).s("tea").d(0.1).s("tea").d(0.9);
    m.s("attrs").map(2).ks("size", "S").ks("size", "M");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "New");
    ASSERT_EQ(r.profile->affinities.size(), 1u);
    EXPECT_DOUBLE_EQ(r.profile->affinity("tea"), 0.9);
    ASSERT_EQ(r.profile->attributes.size(), 1u);
    EXPECT_EQ(r.profile->attribute("size")->text, "M");
}

TEST(ProfileDecode, Utf8PassesThroughUntouched) {
    const std::string name = "Zo\xC3\xAB \xF0\x9F\x91\x8B \xE6\x9D\xB1\xE4\xBA\xAC";
    Mp m;
    m.map(2).ks("first_name", name).s("attrs").map(1).ks("stadt", "M\xC3\xBCnchen");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, name);
    EXPECT_EQ(r.profile->attribute("stadt")->text, "M\xC3\xBCnchen");
}

}  // namespace
}  // namespace tailor
