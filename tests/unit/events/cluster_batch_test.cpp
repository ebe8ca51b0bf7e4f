// ClusterBatch and StreamAppend: a batch split by visitor slot (live) and stream shard, run
// against a real redis-server (one server holds every slot, so the split's commands run as a
// cluster's nodes would run them, each on its own slot's keys).
#include "tailor/events/cluster_batch.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "live_fixture.h"
#include "tailor/events/encode.h"
#include "tailor/events/event.h"
#include "tailor/events/stream_append.h"
#include "tailor/events/stream_shard.h"
#include "tailor/store/cluster_slots.h"
#include "tailor/store/keys.h"

namespace tailor {
namespace {

TEST(StreamShard, KeysCarryTheShardAsTheirHashTag) {
    EXPECT_EQ(stream_shard_key("tailor:events", 0), "tailor:events:{0}");
    EXPECT_EQ(stream_shard_key("tailor:events", 15), "tailor:events:{15}");
    EXPECT_EQ(stream_shards_key("tailor:events"), "tailor:events:shards");
    // a shard's watermark shares its slot
    EXPECT_EQ(cluster_key_slot(stream_shard_key("s", 3) + ":seq:host:1:ab"),
              cluster_key_slot(stream_shard_key("s", 3)));
    std::set<uint16_t> slots;
    for (uint32_t i = 0; i < 8; ++i) {
        slots.insert(cluster_key_slot(stream_shard_key("tailor:events", i)));
    }
    EXPECT_EQ(slots.size(), 8u) << "eight shards, eight slots";
}

TEST(StreamShard, AVisitorAlwaysGoesToTheShardOfItsSlot) {
    EXPECT_EQ(stream_shard_of("q3Zf0x8W2mYbT1kL9cVn_A", 1), 0u);
    EXPECT_EQ(stream_shard_of("q3Zf0x8W2mYbT1kL9cVn_A", 0), 0u);
    for (std::string_view vid : {"a", "q3Zf0x8W2mYbT1kL9cVn_A", "cust_0000012345678"}) {
        EXPECT_EQ(stream_shard_of(vid, 8), cluster_key_slot(vid) % 8u);
        EXPECT_EQ(stream_shard_of(vid, 8),
                  stream_shard_of(vid, 8));  // deterministic: a replay lands where it did
    }
    std::set<uint32_t> seen;
    for (int i = 0; i < 200; ++i) {
        seen.insert(stream_shard_of("visitor-" + std::to_string(i), 8));
    }
    EXPECT_EQ(seen.size(), 8u) << "visitors spread over every shard";
}

TEST(StreamShard, MaxlenIsSharedOutOverTheShards) {
    EXPECT_EQ(stream_shard_maxlen(1000000, 8), 125000u);
    EXPECT_EQ(stream_shard_maxlen(10, 3), 4u);
    EXPECT_EQ(stream_shard_maxlen(0, 8), 0u);
    EXPECT_EQ(stream_shard_maxlen(100, 1), 100u);
}

class EventClusterBatch : public LiveScriptTest {
  protected:
    void SetUp() override {
        LiveScriptTest::SetUp();
        if (set_up_stopped()) {
            return;
        }
        ASSERT_EQ(redis_->command({"SCRIPT", "LOAD", kStreamScript}).str, stream_script_sha1());
        config_.append_to_stream = false;
    }

    std::string event(std::string_view vid, uint64_t seq, std::string_view producer = "w0-test") {
        Event e(*EventId::generate(kT0 + static_cast<int64_t>(seq)));
        e.type = EventType::kPageViewed;
        e.vid = vid;
        e.ts_ms = kT0 + static_cast<int64_t>(seq) * 1000;
        e.path = "/p";
        e.attribution = &attribution_;
        e.device = DeviceClass::kDesktop;
        e.producer = producer;
        e.seq = seq;
        return encoded(e);
    }

    // Lays `blobs` out as one batch and splits it by visitor slot. The batch
    // views the blobs, so the fixture keeps them until the next split.
    void split(std::vector<std::string> blobs) {
        blobs_ = std::move(blobs);
        batch_.reset(config_);
        for (const std::string& b : blobs_) {
            ASSERT_TRUE(batch_.add(b));
        }
        ASSERT_TRUE(batch_.finish());
        ASSERT_TRUE(split_.build(batch_, config_, kShards));
    }

    // Runs the live phase (and the stream phase unless `stop_after_live`) as the glue does.
    std::vector<LiveResult> deliver(const std::vector<std::string>& blobs,
                                    bool stop_after_live = false) {
        split(blobs);
        for (size_t i = 0; i < split_.live_parts(); ++i) {
            LiveBatch& part = split_.live(i);
            const Reply r = redis_->send(part);
            EXPECT_EQ(r.kind, '$') << r.str;
            EXPECT_TRUE(split_.live_answered(i, r.str));
        }
        if (stop_after_live) {
            return {};
        }
        EXPECT_TRUE(split_.build_streams());
        for (size_t i = 0; i < split_.stream_parts(); ++i) {
            StreamAppend& part = split_.stream(i);
            const Reply r = redis_->send(part);
            EXPECT_EQ(r.kind, '$') << r.str;
            EXPECT_TRUE(split_.stream_answered(i, r.str));
        }
        return split_.results();
    }

    // vid -> the seqs of its entries, over every shard; and which shard held each vid
    std::map<std::string, std::vector<std::string>> entries(std::map<std::string, uint32_t>* at) {
        std::map<std::string, std::vector<std::string>> out;
        for (uint32_t s = 0; s < kShards; ++s) {
            const Reply range =
                redis_->command({"XRANGE", stream_shard_key("tailor:events", s), "-", "+"});
            for (const Reply& e : range.elements) {
                const std::string vid = e.elements[1].elements[3].str;
                out[vid].push_back(e.elements[0].str);
                (*at)[vid] = s;
            }
        }
        return out;
    }

    static constexpr uint32_t kShards = 8;
    static constexpr int64_t kT0 = 1718000000000;
    LiveConfig config_;
    std::vector<std::string> blobs_;
    LiveBatch batch_;
    ClusterBatch split_;
    Attribution attribution_ = attribution_from_request("", "", "shop.example");
};

const std::vector<std::string> kVids = {"q3Zf0x8W2mYbT1kL9cVn_A", "cust_0000012345678",
                                        "Zz9_vv8Hq1LmN0pQrStUvW", "aB3dE5fG7hI9jK1lM3nO5p"};

TEST_F(EventClusterBatch, EachScriptTouchesOneSlotAndEveryEventLandsInItsVisitorsShard) {
    std::vector<std::string> blobs;
    uint64_t seq = 0;
    for (int round = 0; round < 3; ++round) {
        for (const std::string& vid : kVids) {
            blobs.push_back(event(vid, ++seq));
        }
    }
    ASSERT_NO_FATAL_FAILURE(split(blobs));
    std::set<uint16_t> slots;
    for (const std::string& vid : kVids) {
        slots.insert(cluster_key_slot(vid));
    }
    EXPECT_EQ(split_.live_parts(), slots.size()) << "one live call per visitor slot";
    for (size_t i = 0; i < split_.live_parts(); ++i) {
        // every key of a live call is in the slot of its route
        LiveBatch& part = split_.live(i);
        const uint16_t slot = cluster_key_slot(split_.live_route(i));
        const int numkeys = std::stoi(std::string(part.argv()[2], part.argvlen()[2]));
        for (int k = 0; k < numkeys; ++k) {
            EXPECT_EQ(cluster_key_slot(std::string_view(part.argv()[3 + k], part.argvlen()[3 + k])),
                      slot);
        }
    }

    const std::vector<LiveResult> results = deliver(blobs);
    EXPECT_EQ(results, std::vector<LiveResult>(blobs.size(), LiveResult::kApplied));
    for (size_t i = 0; i < split_.stream_parts(); ++i) {
        StreamAppend& part = split_.stream(i);
        const int numkeys = std::stoi(std::string(part.argv()[2], part.argvlen()[2]));
        for (int k = 0; k < numkeys; ++k) {
            EXPECT_EQ(cluster_key_slot(std::string_view(part.argv()[3 + k], part.argvlen()[3 + k])),
                      cluster_key_slot(part.key()));
        }
    }
    std::map<std::string, uint32_t> at;
    const auto got = entries(&at);
    for (const std::string& vid : kVids) {
        ASSERT_EQ(got.count(vid), 1u) << vid;
        EXPECT_EQ(got.at(vid).size(), 3u) << vid;
        EXPECT_EQ(at.at(vid), stream_shard_of(vid, kShards)) << vid;
        EXPECT_FALSE(redis_->command({"GET", visitor_key(vid, VisitorKeyKind::kLive)}).str.empty());
    }
    EXPECT_EQ(redis_->command({"XLEN", "tailor:events"}).integer, 0) << "the plain key is unused";
}

TEST_F(EventClusterBatch, ABatchThatFailedBeforeItsStreamPhaseIsAppendedOnceWhenSentAgain) {
    std::vector<std::string> blobs;
    uint64_t seq = 0;
    for (const std::string& vid : kVids) {
        blobs.push_back(event(vid, ++seq));
    }
    (void)deliver(blobs, true);  // live applied, then the batch failed
    std::map<std::string, uint32_t> at;
    EXPECT_TRUE(entries(&at).empty());

    // sent again whole: live says replay, the shards append them, once
    EXPECT_EQ(deliver(blobs), std::vector<LiveResult>(blobs.size(), LiveResult::kApplied));
    EXPECT_EQ(entries(&at).size(), kVids.size());

    // and once more (a reply lost after both phases ran): nothing anywhere
    EXPECT_EQ(deliver(blobs), std::vector<LiveResult>(blobs.size(), LiveResult::kDuplicate));
    size_t total = 0;
    for (const auto& [vid, ids] : entries(&at)) {
        EXPECT_EQ(ids.size(), 1u) << vid;
        total += ids.size();
    }
    EXPECT_EQ(total, kVids.size());
}

TEST_F(EventClusterBatch, AReplayMixedWithNewEventsAppendsOnlyTheNewOnes) {
    std::vector<std::string> first = {event(kVids[0], 1), event(kVids[1], 2)};
    EXPECT_EQ(deliver(first), std::vector<LiveResult>(2, LiveResult::kApplied));
    std::vector<std::string> again = first;
    again.push_back(event(kVids[0], 3));
    again.push_back(event(kVids[2], 4));
    EXPECT_EQ(deliver(again),
              (std::vector<LiveResult>{LiveResult::kDuplicate, LiveResult::kDuplicate,
                                       LiveResult::kApplied, LiveResult::kApplied}));
    std::map<std::string, uint32_t> at;
    const auto got = entries(&at);
    EXPECT_EQ(got.at(kVids[0]).size(), 2u);
    EXPECT_EQ(got.at(kVids[1]).size(), 1u);
    EXPECT_EQ(got.at(kVids[2]).size(), 1u);
}

TEST_F(EventClusterBatch, AnErasedVisitorsEventsGoNowhere) {
    redis_->command({"SET", visitor_key(kVids[0], VisitorKeyKind::kErased), "1", "EX", "60"});
    EXPECT_EQ(deliver({event(kVids[0], 1), event(kVids[1], 2)}),
              (std::vector<LiveResult>{LiveResult::kDuplicate, LiveResult::kApplied}));
    std::map<std::string, uint32_t> at;
    const auto got = entries(&at);
    EXPECT_EQ(got.count(kVids[0]), 0u) << "nothing of the erased visitor in any shard";
    EXPECT_EQ(got.count(kVids[1]), 1u);
    EXPECT_EQ(redis_->command({"EXISTS", visitor_key(kVids[0], VisitorKeyKind::kLive)}).integer, 0);
}

TEST_F(EventClusterBatch, AReplyOfTheWrongLengthFailsThePart) {
    ASSERT_NO_FATAL_FAILURE(split({event(kVids[0], 1)}));
    ASSERT_EQ(split_.live_parts(), 1u);
    EXPECT_FALSE(split_.live_answered(0, "11"));
    EXPECT_TRUE(split_.live_answered(0, "1"));
    ASSERT_TRUE(split_.build_streams());
    ASSERT_EQ(split_.stream_parts(), 1u);
    EXPECT_FALSE(split_.stream_answered(0, ""));
}

TEST_F(EventClusterBatch, TheShardScriptSkipsEachProducersReplaysAndKeepsTheRest) {
    StreamAppend a;
    const std::string key = stream_shard_key("tailor:events", 2);
    auto run = [&](const std::vector<std::pair<std::string, std::string>>& events) {
        a.reset(key, 0, 60);
        for (const auto& e : events) {
            EXPECT_TRUE(a.add("Page Viewed", "v", e.first, e.second, "blob"));
        }
        EXPECT_TRUE(a.finish());
        return redis_->send(a).str;
    };
    EXPECT_EQ(run({{"p1", "1"}, {"p1", "2"}, {"p2", "7"}, {"", ""}}), "1111");
    EXPECT_EQ(run({{"p1", "2"}, {"p1", "3"}, {"p2", "7"}, {"", ""}}), "0101");
    EXPECT_EQ(redis_->command({"XLEN", key}).integer, 6);
    EXPECT_EQ(redis_->command({"GET", key + ":seq:p1"}).str, "3");
    EXPECT_GT(redis_->command({"TTL", key + ":seq:p2"}).integer, 0);
}

TEST_F(EventClusterBatch, TheShardScriptRunsAsEvalWhenItsCacheWasFlushed) {
    ASSERT_EQ(redis_->command({"SCRIPT", "FLUSH"}).str, "OK");
    StreamAppend a;
    a.reset(stream_shard_key("tailor:events", 1), 100, 60);
    ASSERT_TRUE(a.add("Page Viewed", "v", "p", "1", "blob"));
    ASSERT_TRUE(a.finish());
    const Reply missing = redis_->send(a);
    EXPECT_EQ(missing.str.substr(0, 8), "NOSCRIPT");
    a.use_eval();
    EXPECT_EQ(redis_->send(a).str, "1");
}

}  // namespace
}  // namespace tailor
