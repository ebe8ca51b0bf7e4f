// EventLive: the live-state script against a real redis-server, read back by the profile decoder.
//
// Each test suite run starts its own redis-server (redis_server.h); the
// tests skip when /usr/bin/redis-server is not installed.
#include "tailor/events/live.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <memory>
#include <string>
#include <vector>

#include "redis_server.h"
#include "tailor/events/event.h"
#include "tailor/profile/decode.h"

namespace tailor {
namespace {

class EventLive : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { server_.start(); }
    static void TearDownTestSuite() { server_.stop(); }
    void SetUp() override {
        if (!server_.running()) {
            GTEST_SKIP() << kRedisServer << " is not installed";
        }
        redis_ = std::make_unique<Resp>(server_.port());
        ASSERT_TRUE(redis_->ok());
        ASSERT_EQ(redis_->command({"FLUSHALL"}).str, "OK");
        const Reply sha = redis_->command({"SCRIPT", "LOAD", kLiveScript});
        ASSERT_EQ(sha.str, live_script_sha1()) << sha.str;
    }

    // Encodes one event; `props` as name=value pairs.
    std::string event(EventType type, std::string_view vid, int64_t ts_ms,
                      std::vector<EventProperty> props = {}, uint64_t seq = 0,
                      std::string_view previous = {}) {
        Event e(*EventId::generate(ts_ms));
        e.type = type;
        e.vid = vid;
        e.ts_ms = ts_ms;
        e.path = "/p";
        e.attribution = &attribution_;
        e.device = DeviceClass::kDesktop;
        e.properties = props.data();
        e.property_count = props.size();
        e.producer = seq != 0 ? std::string_view("w0-test") : std::string_view();
        e.seq = seq;
        e.previous_vid = previous;
        std::string blob;
        EXPECT_EQ(encode_event(e, &blob).status, EncodeStatus::kOk);
        return blob;
    }

    std::vector<long long> run(const std::vector<std::string>& blobs,
                               const LiveConfig& config = LiveConfig()) {
        LiveBatch batch;
        batch.reset(config);
        for (const std::string& b : blobs) {
            EXPECT_TRUE(batch.add(b));
        }
        EXPECT_TRUE(batch.finish());
        const Reply r = redis_->command_argv(batch.argc(), batch.argv(), batch.argvlen());
        EXPECT_EQ(r.kind, '$') << r.str;
        std::vector<long long> out;
        for (char c : r.str) {
            out.push_back(static_cast<long long>(live_result_of(c)));
        }
        return out;
    }

    std::string live_of(std::string_view vid) {
        return redis_->command({"GET", live_key(vid)}).str;
    }

    static inline RedisServer server_;
    std::unique_ptr<Resp> redis_;
    Attribution attribution_ =
        attribution_from_request("utm_source=newsletter&utm_medium=email", "", "shop.example");
};

constexpr std::string_view kVid = "q3Zf0x8W2mYbT1kL9cVn_A";
constexpr std::string_view kKnown = "cust_0000012345678";
constexpr int64_t kT0 = 1718000000000;  // ms

TEST_F(EventLive, AppendsToTheStreamWithPlainTypeAndVidFields) {
    const std::string viewed =
        event(EventType::kProductViewed, kVid, kT0,
              {{"product_id", "SKU-1"}, {"price", "19.99", PropertyKind::kNumber}});
    const std::string page = event(EventType::kPageViewed, kVid, kT0 + 1000);
    EXPECT_EQ(run({viewed, page}), (std::vector<long long>{1, 1}));
    const Reply range = redis_->command({"XRANGE", "tailor:events", "-", "+"});
    ASSERT_EQ(range.elements.size(), 2u);
    const Reply& fields = range.elements[0].elements[1];
    ASSERT_EQ(fields.elements.size(), 6u);
    EXPECT_EQ(fields.elements[0].str, "type");
    EXPECT_EQ(fields.elements[1].str, "Product Viewed");
    EXPECT_EQ(fields.elements[3].str, kVid);
    EXPECT_EQ(fields.elements[5].str, viewed);
    EXPECT_TRUE(decode_event(fields.elements[5].str).has_value());
}

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

TEST_F(EventLive, AReplayedBatchIsNeitherAppendedNorAppliedTwice) {
    const std::vector<std::string> batch = {
        event(EventType::kProductAdded, kVid, kT0, {{"product_id", "A"}}, 1),
        event(EventType::kProductAdded, kVid, kT0 + 1, {{"product_id", "A"}}, 2)};
    EXPECT_EQ(run(batch), (std::vector<long long>{1, 1}));
    EXPECT_EQ(run(batch), (std::vector<long long>{0, 0}));
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 2);
    const std::string live = live_of(kVid);
    const auto r = decode_profile({}, live);
    EXPECT_EQ(r.profile->cart[0].qty, 2);
    // A later seq from the same producer still goes through.
    EXPECT_EQ(run({event(EventType::kPageViewed, kVid, kT0 + 2, {}, 3)}),
              (std::vector<long long>{1}));
}

TEST_F(EventLive, ANewVisitorsFirstPageViewWritesItsEntryAndLiveMapOnly) {
    EXPECT_EQ(run({event(EventType::kPageViewed, kVid, kT0, {}, 1)}), (std::vector<long long>{1}));
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 1);
    EXPECT_EQ(redis_->command({"EXISTS", live_key(kVid)}).integer, 1);
    EXPECT_EQ(redis_->command({"EXISTS", live_ev_key(kVid)}).integer, 0);
    // the producer's watermark, one key per producer (not per visitor)
    EXPECT_EQ(redis_->command({"GET", "tailor:events:seq:w0-test"}).str, "1");
    EXPECT_EQ(redis_->command({"DBSIZE"}).integer, 3);
}

TEST_F(EventLive, AReplayIsSkippedWhicheverVisitorItIsFor) {
    const std::vector<std::string> first = {event(EventType::kPageViewed, kVid, kT0, {}, 1),
                                            event(EventType::kPageViewed, kKnown, kT0, {}, 2)};
    EXPECT_EQ(run(first), (std::vector<long long>{1, 1}));
    // the same two again, then a new one: a lost reply's batch resent with more behind it
    std::vector<std::string> again = first;
    again.push_back(event(EventType::kPageViewed, kKnown, kT0 + 1000, {}, 3));
    EXPECT_EQ(run(again), (std::vector<long long>{0, 0, 1}));
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 3);
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
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    auto str = [&pk](std::string_view v) { msgpack_pack_str_with_body(&pk, v.data(), v.size()); };
    msgpack_pack_map(&pk, 4);
    str("type");
    str("Order Completed");
    str("vid");
    str(kVid);
    str("ts");
    msgpack_pack_int64(&pk, kT0);
    str("props");
    msgpack_pack_map(&pk, 2);
    str("order_id");
    str("o-2");
    str("products");
    msgpack_pack_array(&pk, 4);
    for (auto [k, v] : {std::pair<std::string_view, std::string_view>{"product_id", "P1"},
                        {"sku", "P2"},
                        {"ProductID", "P3"},
                        {"product_id", "P1"}}) {
        msgpack_pack_map(&pk, 2);
        str(k);
        str(v);
        str("quantity");
        msgpack_pack_int64(&pk, 2);
    }
    const std::string blob(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
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
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    auto str = [&pk](std::string_view v) { msgpack_pack_str_with_body(&pk, v.data(), v.size()); };
    msgpack_pack_map(&pk, 4);
    str("v");
    msgpack_pack_int64(&pk, 1);
    str("orders_count");
    msgpack_pack_int64(&pk, 3);
    str("last_order_at");
    msgpack_pack_int64(&pk, kT0 / 1000 - 86400);
    str("purchases");
    msgpack_pack_array(&pk, kMaxPurchases);
    for (size_t i = 0; i < kMaxPurchases; ++i) {
        msgpack_pack_map(&pk, 1);
        str("sku");
        str("SHOP-" + std::to_string(i));
    }
    const std::string shop(sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
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

TEST_F(EventLive, AnInvalidEventIsReportedAndTheRestApplied) {
    // Routes (type and vid present) but has no timestamp.
    std::string bad = "\x82\xa4type\xabPage Viewed\xa3vid\xb6";
    bad += kVid;
    LiveBatch batch;
    batch.reset(LiveConfig());
    ASSERT_TRUE(batch.add(bad));
    const std::string good = event(EventType::kPageViewed, kVid, kT0);
    ASSERT_TRUE(batch.add(good));
    ASSERT_FALSE(batch.add("not msgpack"));
    ASSERT_TRUE(batch.finish());
    const Reply r = redis_->command_argv(batch.argc(), batch.argv(), batch.argvlen());
    EXPECT_EQ(r.str, "-1");  // one byte per event: invalid, applied
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 1);
}

TEST_F(EventLive, ClusterModeUpdatesLiveWithoutTouchingTheStream) {
    LiveConfig config;
    config.append_to_stream = false;
    EXPECT_EQ(run({event(EventType::kPageViewed, kVid, kT0)}, config), (std::vector<long long>{1}));
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 0);
    EXPECT_FALSE(live_of(kVid).empty());
}

TEST_F(EventLive, FallsBackToEvalAfterTheScriptCacheIsFlushed) {
    ASSERT_EQ(redis_->command({"SCRIPT", "FLUSH"}).str, "OK");
    const std::string blob = event(EventType::kPageViewed, kVid, kT0);
    LiveBatch batch;
    batch.reset(LiveConfig());
    ASSERT_TRUE(batch.add(blob));
    ASSERT_TRUE(batch.finish());
    const Reply missing = redis_->command_argv(batch.argc(), batch.argv(), batch.argvlen());
    ASSERT_EQ(missing.kind, '-');
    EXPECT_EQ(missing.str.substr(0, 8), "NOSCRIPT");
    batch.use_eval();
    const Reply r = redis_->command_argv(batch.argc(), batch.argv(), batch.argvlen());
    ASSERT_EQ(r.kind, '$') << r.str;
    EXPECT_EQ(r.str, "1");
}

TEST_F(EventLive, AnOlderArgumentFormatGetsAClearError) {
    const std::string blob = event(EventType::kPageViewed, kVid, kT0);
    // format 3's layout: key index, previous, blob, type, time, src, seq and 4 product facts
    const Reply r = redis_->command({"EVALSHA",
                                     std::string(live_script_sha1()),
                                     "3",
                                     "tailor:events",
                                     live_key(kVid),
                                     live_ev_key(kVid),
                                     "3",
                                     "s",
                                     "0",
                                     "7776000",
                                     "20",
                                     "50",
                                     "1800",
                                     "2",
                                     "0",
                                     blob,
                                     "Page Viewed",
                                     std::to_string(kT0 / 1000),
                                     "",
                                     "",
                                     "",
                                     "",
                                     "",
                                     ""});
    ASSERT_EQ(r.kind, '-');
    EXPECT_NE(r.str.find("unsupported argument format"), std::string::npos) << r.str;
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 0);
    EXPECT_EQ(redis_->command({"EXISTS", live_key(kVid)}).integer, 0);
}

// Two producers, one replaying: its events' seqs decide one by one, the other's all go.
TEST_F(EventLive, AReplayingProducerIsCheckedEventByEventBesideANewOne) {
    EXPECT_EQ(run({event(EventType::kPageViewed, kVid, kT0, {}, 5)}), (std::vector<long long>{1}));
    Event e(*EventId::generate(kT0));
    e.vid = kKnown;
    e.ts_ms = kT0 + 2000;
    e.producer = "w1-test";
    e.seq = 1;
    std::string other;
    ASSERT_EQ(encode_event(e, &other).status, EncodeStatus::kOk);
    EXPECT_EQ(run({event(EventType::kPageViewed, kVid, kT0 + 1000, {}, 4), other,
                   event(EventType::kPageViewed, kVid, kT0 + 1000, {}, 5),
                   event(EventType::kPageViewed, kVid, kT0 + 1000, {}, 6)}),
              (std::vector<long long>{0, 1, 0, 1}));
    EXPECT_EQ(redis_->command({"GET", "tailor:events:seq:w0-test"}).str, "6");
    EXPECT_EQ(redis_->command({"GET", "tailor:events:seq:w1-test"}).str, "1");
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 3);
}

TEST_F(EventLive, StreamIsCappedApproximately) {
    LiveConfig config;
    config.stream.maxlen = 100;
    std::vector<std::string> blobs;
    for (int i = 0; i < 500; ++i) {
        blobs.push_back(event(EventType::kPageViewed, kVid, kT0 + i));
    }
    (void)run(blobs, config);
    const long long len = redis_->command({"XLEN", "tailor:events"}).integer;
    EXPECT_GE(len, 100);
    EXPECT_LT(len, 500);
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
