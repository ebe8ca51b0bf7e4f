// EventLive: the live-state script against a real redis-server (event_live.h): the stream it
// appends to, the replays it skips (one watermark per producer), and its protocol: invalid
// events, EVAL after a flushed script cache, an older argument format.
//
// Each test suite run starts its own redis-server (redis_server.h); the
// tests skip when /usr/bin/redis-server is not installed.
#include "tailor/events/live.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event_live.h"
#include "tailor/events/decode.h"
#include "tailor/events/event.h"
#include "tailor/profile/decode.h"

namespace tailor {
namespace {

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
    const Reply r = redis_->send(batch);
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
    const Reply missing = redis_->send(batch);
    ASSERT_EQ(missing.kind, '-');
    EXPECT_EQ(missing.str.substr(0, 8), "NOSCRIPT");
    batch.use_eval();
    const Reply r = redis_->send(batch);
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

// A run (one visitor's events with the same facts, one after another) travels as "=" and a
// blob after its first event; each of them is still appended and applied on its own, and a
// change of facts in the middle of the batch ends the run.
TEST_F(EventLive, EachEventOfARunIsAppendedAndApplied) {
    const std::vector<EventProperty> sku_a = {{"product_id", "A"},
                                              {"price", "2.50", PropertyKind::kNumber}};
    const std::vector<EventProperty> sku_b = {{"product_id", "B"},
                                              {"price", "4.00", PropertyKind::kNumber}};
    std::vector<std::string> batch;
    for (uint64_t seq = 1; seq <= 3; ++seq) {
        batch.push_back(event(EventType::kProductAdded, kVid, kT0 + seq, sku_a, seq));
    }
    batch.push_back(event(EventType::kProductAdded, kVid, kT0 + 4, sku_b, 4));
    batch.push_back(event(EventType::kProductAdded, kVid, kT0 + 5, sku_a, 5));
    batch.push_back(event(EventType::kProductAdded, kVid, kT0 + 6, sku_a, 6));

    LiveBatch args;
    args.reset(LiveConfig());
    for (const std::string& b : batch) {
        ASSERT_TRUE(args.add(b));
    }
    ASSERT_TRUE(args.finish());
    size_t runs = 0;
    for (int i = 0; i < args.argc(); ++i) {
        runs += std::string_view(args.argv()[i], args.argvlen()[i]) == "=" ? 1 : 0;
    }
    EXPECT_EQ(runs, 3u) << "A A A | B | A A: three events repeat the facts before them";

    EXPECT_EQ(run(batch), std::vector<long long>(6, 1));
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 6);
    const std::string live = live_of(kVid);  // the profile's views point into it
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile.has_value());
    ASSERT_EQ(r.profile->cart.size(), 2u);
    int64_t qty_a = 0;
    int64_t qty_b = 0;
    for (const auto& line : r.profile->cart) {
        (line.sku == "A" ? qty_a : qty_b) += line.qty;
    }
    EXPECT_EQ(qty_a, 5) << "each of the five adds of A counted";
    EXPECT_EQ(qty_b, 1);
    // the same batch again: a replay, run or not
    EXPECT_EQ(run(batch), std::vector<long long>(6, 0));
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 6);
}

// "=" where nothing comes before it (not something LiveBatch writes) is an invalid event,
// and the events after it still go through.
TEST_F(EventLive, ARunMarkerWithNothingBeforeItIsInvalid) {
    const std::string page = event(EventType::kPageViewed, kVid, kT0);
    LiveBatch batch;
    batch.reset(LiveConfig());
    ASSERT_TRUE(batch.add(page));
    ASSERT_TRUE(batch.finish());
    std::vector<std::string_view> argv;
    for (int i = 0; i < batch.argc(); ++i) {
        argv.emplace_back(batch.argv()[i], batch.argvlen()[i]);
    }
    // the event's four arguments (key, time, type, blob) after "=" and a blob of its own
    argv.insert(argv.end() - 4, {std::string_view("="), std::string_view(page)});
    const Reply r = redis_->command(argv);
    ASSERT_EQ(r.kind, '$') << r.str;
    EXPECT_EQ(r.str, "-1");
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 1);
}

}  // namespace
}  // namespace tailor
