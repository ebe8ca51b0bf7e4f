// EventLive and orders: an order's products kept as purchased, under each spelling, ahead of
// the shop's own list; and Identify, which merges the anonymous visitor into the known one.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "event_live.h"
#include "profile/profile_test_util.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"
#include "tailor/profile/decode.h"

namespace tailor {
namespace {

// Blobs written by hand, with msgpack-c's packer.
using profile_testing::Mp;

TEST_F(EventLive, AnOrderKeepsItsProductsAsPurchasedWithTheOrderTime) {
    (void)run({event(EventType::kProductAdded, kVid, kT0, {{"product_id", "A"}}),
               event(EventType::kProductAdded, kVid, kT0 + 1000, {{"product_id", "B"}})});
    EXPECT_EQ(run({event(EventType::kOrderCompleted, kVid, kT0 + 2000,
                         {{"order_id", "o-1"}, {"product_id", "A"}})}),
              (std::vector<long long>{1}));
    std::string live = live_of(kVid);
    auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile);
    EXPECT_TRUE(r.profile->has_purchased("A"));
    EXPECT_FALSE(r.profile->has_purchased("B"));
    EXPECT_EQ(r.profile->last_order_at, (kT0 + 2000) / 1000);
    EXPECT_EQ(r.profile->orders_count, 1);  // the lifecycle stage moves at once
    EXPECT_TRUE(r.profile->cart.empty());
    // a later order: its product first, the earlier one kept
    (void)run({event(EventType::kOrderCompleted, kVid, kT0 + 5000, {{"sku", "C"}})});
    live = live_of(kVid);
    r = decode_profile({}, live);
    ASSERT_EQ(r.profile->purchases.size(), 2u);
    EXPECT_EQ(r.profile->purchases[0].sku, "C");
    EXPECT_EQ(r.profile->purchases[0].at, (kT0 + 5000) / 1000);
    EXPECT_EQ(r.profile->purchases[1].sku, "A");
    EXPECT_EQ(r.profile->last_order_at, (kT0 + 5000) / 1000);
    EXPECT_EQ(r.stats.wrong_type + r.stats.unknown, 0u);
}

// Hand-built: the module's own events carry flat props; an upstream-declared
// order may carry Segment's products[].
TEST_F(EventLive, AnOrdersProductsListIsReadUnderEachSpelling) {
    Mp m;
    m.map(4).ks("type", "Order Completed").ks("vid", kVid).ki("ts", kT0);
    m.s("props").map(2).ks("order_id", "o-2").s("products").arr(4);
    for (auto [k, v] : {std::pair<std::string_view, std::string_view>{"product_id", "P1"},
                        {"sku", "P2"},
                        {"ProductID", "P3"},
                        {"product_id", "P1"}}) {
        m.map(2).ks(k, v).ki("quantity", 2);
    }
    const std::string blob = m.str();
    EXPECT_EQ(run({blob}), (std::vector<long long>{1}));
    const std::string live = live_of(kVid);
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile);
    ASSERT_EQ(r.profile->purchases.size(), 3u);  // P1 once
    EXPECT_TRUE(r.profile->has_purchased("P1"));
    EXPECT_TRUE(r.profile->has_purchased("P2"));
    EXPECT_TRUE(r.profile->has_purchased("P3"));
    EXPECT_EQ(r.profile->last_order_at, kT0 / 1000);
}

TEST_F(EventLive, AnOrderOnAnotherDeviceReachesTheKnownVisitor) {
    (void)run({event(EventType::kProductViewed, kKnown, kT0, {{"product_id", "OLD"}}),
               event(EventType::kOrderCompleted, kKnown, kT0 + 500, {{"product_id", "K"}}),
               event(EventType::kOrderCompleted, kVid, kT0 + 1000, {{"product_id", "X"}})});
    EXPECT_EQ(run({event(EventType::kIdentify, kKnown, kT0 + 3000, {}, 0, kVid)}),
              (std::vector<long long>{1}));
    const std::string live = live_of(kKnown);
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile);
    ASSERT_EQ(r.profile->purchases.size(), 2u);
    EXPECT_EQ(r.profile->purchases[0].sku, "X");  // newest first
    EXPECT_EQ(r.profile->purchases[1].sku, "K");
    EXPECT_EQ(r.profile->last_order_at, (kT0 + 1000) / 1000);
}

TEST_F(EventLive, LiveOrdersComeBeforeAFullShopPurchaseList) {
    (void)run({event(EventType::kOrderCompleted, kVid, kT0, {{"product_id", "NEW"}})});
    Mp m;
    m.map(4).ki("v", 1).ki("orders_count", 3).ki("last_order_at", kT0 / 1000 - 86400);
    m.s("purchases").arr(kMaxPurchases);
    for (size_t i = 0; i < kMaxPurchases; ++i) {
        m.map(1).ks("sku", "SHOP-" + std::to_string(i));
    }
    const std::string shop = m.str();
    const std::string live = live_of(kVid);
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->purchases.size(), kMaxPurchases);
    EXPECT_TRUE(r.profile->has_purchased("NEW"));
    EXPECT_EQ(r.profile->last_order_at, kT0 / 1000);
    EXPECT_EQ(r.profile->orders_count, 3);  // the shop's count may already hold it
}

TEST_F(EventLive, IdentifyMergesTheAnonymousVisitorIntoTheKnownOne) {
    (void)run({event(EventType::kProductViewed, kKnown, kT0, {{"product_id", "OLD"}}),
               event(EventType::kProductViewed, kVid, kT0 + 1000, {{"product_id", "NEW"}}),
               event(EventType::kProductAdded, kVid, kT0 + 2000, {{"product_id", "NEW"}})});
    EXPECT_EQ(run({event(EventType::kIdentify, kKnown, kT0 + 3000, {}, 0, kVid)}),
              (std::vector<long long>{1}));
    const std::string live = live_of(kKnown);
    const auto r = decode_profile({}, live);
    ASSERT_EQ(r.profile->viewed.size(), 2u);
    EXPECT_EQ(r.profile->viewed[0].sku, "NEW");
    ASSERT_EQ(r.profile->cart.size(), 1u);
    EXPECT_EQ(r.profile->cart[0].sku, "NEW");
    EXPECT_EQ(r.profile->first_seen, kT0 / 1000);
    EXPECT_EQ(redis_->command({"HGET", live_ev_key(kVid), "merged_into"}).str, kKnown);
}

}  // namespace
}  // namespace tailor
