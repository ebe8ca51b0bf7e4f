// EventLive and the live map: what the script keeps of a visitor's events (visits, last seen,
// recently viewed, cart, acquisition), read back by the profile decoder, and left unwritten
// when nothing changed.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event_live.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"
#include "tailor/profile/decode.h"

namespace tailor {
namespace {

TEST_F(EventLive, LiveMapIsWhatTheProfileDecoderReads) {
    (void)run({event(EventType::kProductViewed, kVid, kT0,
                     {{"product_id", "SKU-1"},
                      {"price", "19.99", PropertyKind::kNumber},
                      {"category", "Shirts"}}),
               event(EventType::kProductAdded, kVid, kT0 + 5000,
                     {{"product_id", "SKU-1"},
                      {"price", "19.99", PropertyKind::kNumber},
                      {"quantity", "2", PropertyKind::kNumber}})});
    const std::string live = live_of(kVid);
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile.has_value());
    EXPECT_EQ(r.live_error, ProfileError::kNone);
    EXPECT_EQ(r.stats.unknown, 0u);
    EXPECT_EQ(r.stats.wrong_type, 0u);
    const Profile& p = *r.profile;
    EXPECT_TRUE(p.has_live);
    EXPECT_EQ(p.visits, 1);
    EXPECT_EQ(p.first_seen, kT0 / 1000);
    EXPECT_EQ(p.last_seen, (kT0 + 5000) / 1000);
    ASSERT_EQ(p.viewed.size(), 1u);
    EXPECT_EQ(p.viewed[0].sku, "SKU-1");
    EXPECT_EQ(p.viewed[0].category, "Shirts");
    EXPECT_EQ(p.viewed[0].price, 1999);
    ASSERT_EQ(p.cart.size(), 1u);
    EXPECT_EQ(p.cart[0].qty, 2);
    EXPECT_EQ(p.cart[0].price, 1999);
    EXPECT_EQ(p.cart_at, (kT0 + 5000) / 1000);
    EXPECT_EQ(p.acquisition.source, "newsletter");
    EXPECT_EQ(p.acquisition.medium, "email");
    EXPECT_EQ(p.acquisition.at, kT0 / 1000);
    const long long ttl = redis_->command({"TTL", live_key(kVid)}).integer;
    EXPECT_GT(ttl, 89 * 86400);
}

TEST_F(EventLive, CartFollowsAddsRemovesAndOrders) {
    (void)run({event(EventType::kProductAdded, kVid, kT0, {{"product_id", "A"}}),
               event(EventType::kProductAdded, kVid, kT0 + 1000, {{"product_id", "B"}}),
               event(EventType::kProductRemoved, kVid, kT0 + 2000, {{"product_id", "A"}})});
    std::string live = live_of(kVid);
    auto r = decode_profile({}, live);
    ASSERT_EQ(r.profile->cart.size(), 1u);
    EXPECT_EQ(r.profile->cart[0].sku, "B");
    (void)run({event(EventType::kOrderCompleted, kVid, kT0 + 3000, {{"order_id", "o-1"}})});
    live = live_of(kVid);
    r = decode_profile({}, live);
    EXPECT_TRUE(r.profile->cart.empty());
    EXPECT_EQ(r.profile->cart_at, (kT0 + 3000) / 1000);
    EXPECT_EQ(r.stats.wrong_type, 0u);
}

TEST_F(EventLive, RecentlyViewedIsNewestFirstAndCapped) {
    std::vector<std::string> blobs;
    for (int i = 0; i < 25; ++i) {
        blobs.push_back(event(EventType::kProductViewed, kVid, kT0 + i * 1000,
                              {{"product_id", "SKU-" + std::to_string(i)}}));
    }
    // Property views must outlive encode only; the vector of EventProperty is
    // rebuilt per call, so the strings above are copied into blobs already.
    blobs.push_back(event(EventType::kProductViewed, kVid, kT0 + 30000, {{"product_id", "SKU-3"}}));
    (void)run(blobs);
    const std::string live = live_of(kVid);
    const auto r = decode_profile({}, live);
    ASSERT_EQ(r.profile->viewed.size(), 20u);
    EXPECT_EQ(r.profile->viewed[0].sku, "SKU-3");
    EXPECT_EQ(r.profile->viewed[1].sku, "SKU-24");
}

TEST_F(EventLive, VisitsCountSessionsSeparatedByTheGap) {
    (void)run({event(EventType::kPageViewed, kVid, kT0),
               event(EventType::kPageViewed, kVid, kT0 + 10 * 60 * 1000),
               event(EventType::kPageViewed, kVid, kT0 + 3 * 3600 * 1000)});
    const std::string live = live_of(kVid);
    EXPECT_EQ(decode_profile({}, live).profile->visits, 2);
}

TEST_F(EventLive, PageViewsInLaterBatchesMoveLastSeenAndCountVisits) {
    (void)run({event(EventType::kProductViewed, kVid, kT0 + 60000, {{"product_id", "A"}})});
    // each batch alone: the stored map is patched (same visit) or rebuilt (a new visit, an
    // event older than first_seen)
    (void)run({event(EventType::kPageViewed, kVid, kT0 + 10 * 60 * 1000)});
    (void)run({event(EventType::kPageViewed, kVid, kT0 + 20 * 60 * 1000)});
    // the decoded profile views the bytes: they must outlive it
    std::string live = live_of(kVid);
    auto r = decode_profile({}, live);
    EXPECT_EQ(r.profile->visits, 1);
    EXPECT_EQ(r.profile->last_seen, (kT0 + 20 * 60 * 1000) / 1000);
    EXPECT_EQ(r.profile->first_seen, (kT0 + 60000) / 1000);
    ASSERT_EQ(r.profile->viewed.size(), 1u);
    EXPECT_EQ(r.profile->acquisition.source, "newsletter");
    (void)run({event(EventType::kPageViewed, kVid, kT0 + 3 * 3600 * 1000)});
    (void)run({event(EventType::kPageViewed, kVid, kT0)});  // a late replay of an older event
    live = live_of(kVid);
    r = decode_profile({}, live);
    EXPECT_EQ(r.profile->visits, 2);
    EXPECT_EQ(r.profile->last_seen, (kT0 + 3 * 3600 * 1000) / 1000);
    EXPECT_EQ(r.profile->first_seen, kT0 / 1000);
    EXPECT_EQ(r.stats.unknown, 0u);
    EXPECT_EQ(r.stats.wrong_type, 0u);
    EXPECT_GT(redis_->command({"TTL", live_key(kVid)}).integer, 89 * 86400);
}

TEST_F(EventLive, ProductIdIsReadUnderEachOfItsSpellings) {
    (void)run({event(EventType::kProductViewed, kVid, kT0, {{"sku", "C"}}),
               event(EventType::kProductViewed, kVid, kT0 + 1000, {{"ProductID", "B"}}),
               event(EventType::kProductViewed, kVid, kT0 + 2000,
                     {{"sku", "x"}, {"ProductID", "y"}, {"product_id", "A"}})});
    const std::string live = live_of(kVid);
    const auto r = decode_profile({}, live);
    ASSERT_EQ(r.profile->viewed.size(), 3u);
    EXPECT_EQ(r.profile->viewed[0].sku, "A");
    EXPECT_EQ(r.profile->viewed[1].sku, "B");
    EXPECT_EQ(r.profile->viewed[2].sku, "C");
}

TEST_F(EventLive, AnEventThatChangesNothingLeavesTheLiveMapUnwritten) {
    EXPECT_EQ(run({event(EventType::kProductViewed, kVid, kT0,
                         {{"product_id", "A"}, {"price", "5", PropertyKind::kNumber}})}),
              (std::vector<long long>{1}));
    // a marker only a rewrite (SET ... EX) would clear
    ASSERT_EQ(redis_->command({"EXPIRE", live_key(kVid), "1000"}).integer, 1);
    const std::string before = live_of(kVid);
    // the same second: a page view and the same product again change nothing
    EXPECT_EQ(run({event(EventType::kPageViewed, kVid, kT0 + 300),
                   event(EventType::kProductViewed, kVid, kT0 + 400,
                         {{"product_id", "A"}, {"price", "5", PropertyKind::kNumber}})}),
              (std::vector<long long>{1, 1}));
    EXPECT_LE(redis_->command({"TTL", live_key(kVid)}).integer, 1000);
    EXPECT_EQ(live_of(kVid), before);
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 3);
    // a later second is news: written, with the TTL refreshed
    EXPECT_EQ(run({event(EventType::kPageViewed, kVid, kT0 + 1000)}), (std::vector<long long>{1}));
    EXPECT_GT(redis_->command({"TTL", live_key(kVid)}).integer, 89 * 86400);
    EXPECT_EQ(decode_profile({}, live_of(kVid)).profile->last_seen, (kT0 + 1000) / 1000);
}

}  // namespace
}  // namespace tailor
