// Profile: the accessors rules ask and the example profiles.
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

// --- accessors ----------------------------------------------------------------

TEST(Profile, AccessorsAnswerWhatRulesAsk) {
    const std::string blob = typical_profile();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_EQ(p.days_since_last_order(kNow), 41);
    EXPECT_EQ(p.days_since_first_seen(kNow), 400);
    EXPECT_TRUE(p.has_purchased("COFFEE-1KG"));
    EXPECT_FALSE(p.has_purchased("COFFEE"));
    EXPECT_EQ(p.replenish_due_at("COFFEE-1KG"), kNow - 41 * kDay + 30 * kDay);
    EXPECT_EQ(p.replenish_due_at("MUG-1"), std::nullopt);  // not consumable
    EXPECT_EQ(p.replenish_due_at("NEVER"), std::nullopt);
    EXPECT_TRUE(p.in_cart("TEE-M"));
    EXPECT_FALSE(p.in_cart("MUG-1"));
    EXPECT_EQ(p.cart_quantity(), 3);
    EXPECT_EQ(p.cart_value(), 2 * 1500 + 999);
    EXPECT_TRUE(p.has_viewed("BOOT-42"));
    EXPECT_EQ(p.top_affinity()->category, "coffee");
    EXPECT_DOUBLE_EQ(p.affinity("unknown"), 0.0);
    EXPECT_EQ(p.attribute("nope"), nullptr);
}

TEST(Profile, DaysSinceIsZeroWhenTheClockIsBehind) {
    Profile p;
    p.last_order_at = kNow;
    EXPECT_EQ(p.days_since_last_order(kNow - 10), 0);
    EXPECT_EQ(p.days_since_last_order(kNow + kDay - 1), 0);
    EXPECT_EQ(p.days_since_last_order(kNow + kDay), 1);
}

TEST(Profile, LastPurchaseOfPicksTheLatest) {
    Profile p;
    p.purchases.push_back(Purchase{"A", "", kNow - 10 * kDay, 1, 0, 0});
    p.purchases.push_back(Purchase{"A", "", kNow - 2 * kDay, 4, 14, 0});
    EXPECT_EQ(p.last_purchase_of("A")->qty, 4);
    EXPECT_EQ(p.replenish_due_at("A"), kNow + 12 * kDay);
}

TEST(Profile, CartValueSaturatesInsteadOfOverflowing) {
    Profile p;
    for (int i = 0; i < 64; ++i) {
        p.cart.push_back(CartLine{"X", kMaxQuantity, 0, kMaxMoney});
    }
    EXPECT_EQ(p.cart_value(), INT64_MAX);
}

TEST(Profile, EmptyProfileHasNoTopAffinity) {
    Profile p;
    EXPECT_EQ(p.top_affinity(), nullptr);
    EXPECT_EQ(p.days_since_first_seen(kNow), std::nullopt);
    EXPECT_EQ(p.cart_value(), 0);
}

// --- the example profiles (tests/data/profiles, encoded into the fuzz seeds) ----

std::string example(const char* name) {
    return read_file(std::string(TAILOR_SOURCE_DIR) + "/tests/fuzz/corpus/profile/" + name +
                     ".msgpack");
}

TEST(ProfileExamples, EachDecodesCleanly) {
    for (const char* name :
         {"new_visitor", "first_time_buyer", "repeat_buyer", "lapsed_customer", "vip_with_cart"}) {
        const std::string blob = example(name);
        ASSERT_FALSE(blob.empty()) << name;
        const auto r = decode_profile(blob);
        ASSERT_TRUE(r.profile) << name << ": " << profile_error_name(r.error);
        EXPECT_EQ(r.stats.unknown + r.stats.wrong_type + r.stats.over_limit, 0u) << name;
    }
}

TEST(ProfileExamples, LifecycleFactsMatchTheirNames) {
    const std::string nv = example("new_visitor");
    const std::string ftb = example("first_time_buyer");
    const std::string rb = example("repeat_buyer");
    const std::string lc = example("lapsed_customer");
    const std::string vip = example("vip_with_cart");
    const auto r_nv = decode_profile(nv);
    const auto r_ftb = decode_profile(ftb);
    const auto r_rb = decode_profile(rb);
    const auto r_lc = decode_profile(lc);
    const auto r_vip = decode_profile(vip);
    ASSERT_TRUE(r_nv.profile && r_ftb.profile && r_rb.profile && r_lc.profile && r_vip.profile);
    EXPECT_EQ(r_nv.profile->orders_count, 0);
    EXPECT_EQ(r_ftb.profile->orders_count, 1);
    EXPECT_GE(r_rb.profile->orders_count, 2);
    EXPECT_GT(r_lc.profile->days_since_last_order(kNow).value_or(0), 180);
    EXPECT_FALSE(r_vip.profile->cart.empty());
    EXPECT_EQ(r_vip.profile->loyalty.tier, "vip");
}

}  // namespace
}  // namespace tailor
