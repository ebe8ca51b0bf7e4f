// WatchedBatch on a real redis-server: a batch whose every visitor carries nginx's edit is
// committed with WATCH, MGET and MULTI/EXEC, storing what the live script would have stored
// (the edit, or the stored map edited again), and goes by the script when the script would
// decide otherwise (an erased visitor, a replay) or when a watched key changed before EXEC.
#include "tailor/events/watched_batch.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "live_edit_fixture.h"
#include "tailor/events/live.h"
#include "tailor/store/keys.h"

namespace tailor {
namespace {

constexpr std::string_view kOther = "Zq3f0x8W2mYbT1kL9cVn_B";

WatchedReply element_of(const Reply& r) {
    WatchedReply e;
    if (r.nil) {
        e.kind = WatchedReply::Kind::kNil;
    } else if (r.kind == '$' || r.kind == '+') {
        e.kind = WatchedReply::Kind::kBytes;
        e.bytes = r.str;
    } else if (r.kind == ':') {
        e.kind = WatchedReply::Kind::kInteger;
        e.integer = r.integer;
    } else if (r.kind == '-') {
        e.kind = WatchedReply::Kind::kError;
        e.bytes = r.str;
    } else {
        e.kind = WatchedReply::Kind::kOther;
    }
    return e;
}

std::vector<WatchedReply> elements_of(const Reply& r) {
    std::vector<WatchedReply> out;
    for (const Reply& e : r.elements) {
        out.push_back(element_of(e));
    }
    return out;
}

class WatchedBatchTest : public LiveMapEditTest {
  protected:
    // The batch of `blobs`, each with `read` as the map its request read. The blobs are kept
    // for the test's length: the batch's commands view them.
    void fill(LiveBatch* batch, std::vector<std::string> blobs, std::string_view read,
              const LiveConfig& config = LiveConfig()) {
        batch->reset(config);
        kept_.push_back(std::move(blobs));
        for (const std::string& b : kept_.back()) {
            EXPECT_TRUE(batch->add(b, nullptr, read));
        }
        ASSERT_TRUE(batch->finish());
    }

    // The check on this test's connection: whether decide() commits.
    bool check(WatchedBatch* w) {
        const std::vector<Reply> r = redis_->pipeline(w->check(), w->check_lengths().size());
        EXPECT_EQ(r.size(), WatchedBatch::kCheckCommands);
        EXPECT_EQ(r[0].str, "OK") << "MULTI";
        EXPECT_EQ(r[1].kind, '*') << "EXEC, of nothing";
        EXPECT_EQ(r[2].str, "OK") << "WATCH";
        EXPECT_EQ(r[3].kind, ':') << "XLEN";
        EXPECT_EQ(r.back().kind, '*') << "MGET";
        const std::vector<WatchedReply> e = elements_of(r.back());
        return w->decide(e.data(), e.size());
    }

    // open()'s MULTI then the commit (the glue sends MULTI with the check, and the commit at
    // its +OK; here the reads between check and commit share the connection).
    WatchedBatch::Outcome commit(const WatchedBatch& w) {
        const std::string open_and_commit = std::string(WatchedBatch::open()) += w.commit();
        const std::vector<Reply> r =
            redis_->pipeline(open_and_commit, w.commit_lengths().size() + 1);
        EXPECT_EQ(r.front().str, "OK") << "MULTI";
        for (size_t i = 1; i + 1 < r.size(); ++i) {
            EXPECT_EQ(r[i].str, "QUEUED");
        }
        const std::vector<WatchedReply> e = elements_of(r.back());
        return w.committed(r.back().nil, e.data(), e.size(), &results_);
    }

    // A batch of one product view from `read`, planned and checked: ready to commit.
    void checked_view(LiveBatch* batch, WatchedBatch* w, std::string_view read) {
        fill(batch, {view("NEW-1", kT0 + 30000)}, read);
        ASSERT_TRUE(w->plan(*batch, 4096));
        ASSERT_TRUE(check(w));
    }

    static std::string edited(std::string_view read, const std::vector<std::string>& blobs) {
        LiveMapEdit e;
        EXPECT_TRUE(edit(&e, read, blobs));
        return std::string(e.bytes());
    }

    long long xlen() { return redis_->command({"XLEN", "tailor:events"}).integer; }

    std::deque<std::vector<std::string>> kept_;
    std::vector<LiveResult> results_;
};

TEST_F(WatchedBatchTest, ACommitStoresTheEditAppendsTheEventsAndMovesTheWatermark) {
    seq_ = 100;
    seed();
    const std::string read = live_of(kVid);
    const std::vector<std::string> blobs = {view("NEW-1", kT0 + 30000), page(kT0 + 31000)};
    LiveBatch batch;
    fill(&batch, blobs, read);
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    const long long before = xlen();
    ASSERT_TRUE(check(&w));
    EXPECT_EQ(w.reedited(), 0u);
    EXPECT_EQ(commit(w), WatchedBatch::Outcome::kCommitted);

    EXPECT_EQ(hex(live_of(kVid)), hex(edited(read, blobs))) << "the script's bytes";
    EXPECT_GT(redis_->command({"TTL", live_key(kVid)}).integer, 89 * 86400);
    EXPECT_EQ(xlen(), before + 2);
    const Reply last = redis_->command({"XREVRANGE", "tailor:events", "+", "-", "COUNT", "2"});
    ASSERT_EQ(last.elements.size(), 2u);
    const Reply& fields = last.elements[1].elements[1];  // the older of the two: the view
    ASSERT_EQ(fields.elements.size(), 6u);
    EXPECT_EQ(fields.elements[0].str, "type");
    EXPECT_EQ(fields.elements[1].str, "Product Viewed");
    EXPECT_EQ(fields.elements[3].str, kVid);
    EXPECT_EQ(fields.elements[5].str, blobs[0]);
    EXPECT_EQ(redis_->command({"GET", "tailor:events:seq:w0-test"}).str, std::to_string(seq_ - 1));

    // the script takes what comes after it as its own: the same revision rule
    const std::string now = live_of(kVid);
    const std::vector<std::string> more = {view("NEW-2", kT0 + 41000)};
    LiveBatch next;
    fill(&next, more, now);
    ASSERT_EQ(redis_->send(next).str, "c");
    EXPECT_EQ(hex(live_of(kVid)), hex(edited(now, more)));
}

TEST_F(WatchedBatchTest, AStaleReadIsEditedAgainFromTheStoredMap) {
    seed();
    const std::string stale = live_of(kVid);
    (void)run({view("OTHER", kT0 + 25000)});  // another worker's batch came first
    const std::string now = live_of(kVid);
    ASSERT_NE(now, stale);
    const std::vector<std::string> blobs = {view("NEW-1", kT0 + 30000)};
    LiveBatch batch;
    fill(&batch, blobs, stale);
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    ASSERT_TRUE(check(&w));
    EXPECT_EQ(w.reedited(), 1u);
    EXPECT_EQ(w.reedited_events(), 1u);
    EXPECT_EQ(commit(w), WatchedBatch::Outcome::kCommitted);
    EXPECT_EQ(hex(live_of(kVid)), hex(edited(now, blobs))) << "what the script's edit stores";
}

TEST_F(WatchedBatchTest, AWriteBetweenCheckAndExecLeavesEverythingAsItWas) {
    seq_ = 100;
    seed();
    const std::string read = live_of(kVid);
    LiveBatch batch;
    WatchedBatch w;
    ASSERT_NO_FATAL_FAILURE(checked_view(&batch, &w, read));

    Resp other(server_.port());
    ASSERT_TRUE(other.ok());
    vid_ = kVid;
    LiveBatch theirs;
    fill(&theirs, {view("THEIRS", kT0 + 29000)}, read);
    ASSERT_EQ(other.send(theirs).str, "c");  // another worker's batch, between the two
    const std::string stored = live_of(kVid);
    const long long appended = xlen();

    EXPECT_EQ(commit(w), WatchedBatch::Outcome::kConflict);
    EXPECT_EQ(hex(live_of(kVid)), hex(stored));
    EXPECT_EQ(xlen(), appended) << "EXEC ran nothing";
}

TEST_F(WatchedBatchTest, AnEraseBetweenCheckAndExecLeavesNothingOfTheVisitor) {
    seed();
    const std::string read = live_of(kVid);
    LiveBatch batch;
    WatchedBatch w;
    ASSERT_NO_FATAL_FAILURE(checked_view(&batch, &w, read));

    Resp other(server_.port());  // tailorctl profile erase: the tombstone, then the keys
    const std::string tombstone = visitor_key(kVid, VisitorKeyKind::kErased);
    ASSERT_EQ(other.command({"SET", tombstone, "1"}).str, "OK");
    ASSERT_EQ(other.command({"DEL", live_key(kVid)}).integer, 1);
    const long long appended = xlen();

    EXPECT_EQ(commit(w), WatchedBatch::Outcome::kConflict);
    EXPECT_EQ(redis_->command({"EXISTS", live_key(kVid)}).integer, 0);
    EXPECT_EQ(xlen(), appended);
}

// tailorctl profile erase sets the tombstone in one command and deletes the keys in another.
// A commit between the two ran before the erase: the DEL takes its map, and its event comes
// before the erase's own on the stream. Nothing of the visitor is left.
TEST_F(WatchedBatchTest, ACommitBetweenAnErasesTombstoneAndItsDelIsErasedWithTheRest) {
    seed();
    const std::string read = live_of(kVid);
    LiveBatch batch;
    WatchedBatch w;
    ASSERT_NO_FATAL_FAILURE(checked_view(&batch, &w, read));
    Resp other(server_.port());
    ASSERT_EQ(other.command({"SET", visitor_key(kVid, VisitorKeyKind::kErased), "1"}).str, "OK");
    EXPECT_EQ(commit(w), WatchedBatch::Outcome::kCommitted);
    ASSERT_EQ(other.command({"DEL", live_key(kVid)}).integer, 1);
    const Reply erased = other.command({"XADD", "tailor:events", "*", "type", "Profile Erased"});
    EXPECT_EQ(redis_->command({"EXISTS", live_key(kVid)}).integer, 0);
    const Reply last = redis_->command({"XREVRANGE", "tailor:events", "+", "-", "COUNT", "2"});
    ASSERT_EQ(last.elements.size(), 2u);
    EXPECT_EQ(last.elements[0].elements[0].str, erased.str) << "the erase's event last";
    EXPECT_EQ(last.elements[1].elements[1].elements[3].str, kVid) << "the commit's before it";
}

// An ACL that refuses MULTI would let the commit's writes run one by one, unguarded: the
// check's MULTI is refused first, and its EXEC with it.
TEST_F(WatchedBatchTest, ARefusedMultiFailsTheCheck) {
    seed();
    LiveBatch batch;
    fill(&batch, {view("NEW-1", kT0 + 30000)}, live_of(kVid));
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    ASSERT_EQ(redis_->command({"ACL", "SETUSER", "default", "-multi"}).str, "OK");
    const std::vector<Reply> r = redis_->pipeline(w.check(), w.check_lengths().size());
    ASSERT_EQ(redis_->command({"ACL", "SETUSER", "default", "+multi"}).str, "OK");
    EXPECT_EQ(r[0].kind, '-') << "MULTI";
    EXPECT_EQ(r[1].kind, '-') << "EXEC without MULTI";
    ASSERT_EQ(redis_->command({"UNWATCH"}).str, "OK");
}

// A stream key of another type would fail every XADD inside EXEC after the maps were stored.
TEST_F(WatchedBatchTest, AStreamKeyOfAnotherTypeFailsTheCheck) {
    seed();
    LiveBatch batch;
    LiveConfig config;
    config.stream.key = "not-a-stream";
    ASSERT_EQ(redis_->command({"SET", "not-a-stream", "x"}).str, "OK");
    fill(&batch, {view("NEW-1", kT0 + 30000)}, live_of(kVid), config);
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    const std::vector<Reply> r = redis_->pipeline(w.check(), w.check_lengths().size());
    EXPECT_EQ(r[3].kind, '-') << "XLEN: WRONGTYPE";
    ASSERT_EQ(redis_->command({"UNWATCH"}).str, "OK");
}

// A watermark this code cannot read as a number is left to the script, which reads it its way.
TEST_F(WatchedBatchTest, AWatermarkNotANumberGoesByTheScript) {
    seq_ = 100;
    seed();
    ASSERT_EQ(redis_->command({"SET", "tailor:events:seq:w0-test", "119 "}).str, "OK");
    LiveBatch batch;
    fill(&batch, {view("NEW-1", kT0 + 30000)}, live_of(kVid));
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    EXPECT_FALSE(check(&w));
    ASSERT_EQ(redis_->command({"UNWATCH"}).str, "OK");
}

TEST_F(WatchedBatchTest, ABatchOfMoreVisitorsThanWatchCanAffordIsNotPlanned) {
    seed();
    const std::string read = live_of(kVid);
    std::vector<std::string> blobs;
    for (size_t v = 0; v <= WatchedBatch::kMaxVisitors; ++v) {
        std::string vid(22, 'a');
        vid.replace(0, std::to_string(v).size(), std::to_string(v));
        blobs.push_back(event(EventType::kPageViewed, vid, kT0 + 19000));
    }
    LiveBatch batch;
    fill(&batch, blobs, read);
    ASSERT_EQ(batch.visitor_count(), WatchedBatch::kMaxVisitors + 1);
    WatchedBatch w;
    EXPECT_FALSE(w.plan(batch, 4096));
    blobs.pop_back();
    fill(&batch, blobs, read);
    EXPECT_TRUE(w.plan(batch, 4096));
}

TEST_F(WatchedBatchTest, ABatchOverTheCommandBoundIsNotPlanned) {
    seed();
    LiveBatch batch;
    fill(&batch, {view("NEW-1", kT0 + 30000), page(kT0 + 31000)}, live_of(kVid));
    WatchedBatch w;
    EXPECT_FALSE(w.plan(batch, 5)) << "MULTI, 2 XADD, a SET, XTRIM, EXEC: 6";
    EXPECT_TRUE(w.plan(batch, 6));
}

TEST_F(WatchedBatchTest, AnErasedVisitorGoesByTheScript) {
    seed();
    const std::string read = live_of(kVid);
    ASSERT_EQ(redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kErased), "1"}).str, "OK");
    LiveBatch batch;
    fill(&batch, {view("NEW-1", kT0 + 30000)}, read);
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    EXPECT_FALSE(check(&w));
    ASSERT_EQ(redis_->command({"UNWATCH"}).str, "OK");
}

TEST_F(WatchedBatchTest, AReplayGoesByTheScript) {
    seq_ = 1;
    seed();  // seqs 1 to 20, the watermark 20
    const std::string read = live_of(kVid);
    seq_ = 20;  // applied already, its reply lost
    LiveBatch batch;
    fill(&batch, {page(kT0 + 30000), view("NEW-1", kT0 + 31000)}, read);
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    EXPECT_FALSE(check(&w));
}

TEST_F(WatchedBatchTest, AMapGoneSinceTheReadGoesByTheScript) {
    seed();
    const std::string read = live_of(kVid);
    ASSERT_EQ(redis_->command({"DEL", live_key(kVid)}).integer, 1);  // expired
    LiveBatch batch;
    fill(&batch, {view("NEW-1", kT0 + 30000)}, read);
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    EXPECT_FALSE(check(&w));
}

TEST_F(WatchedBatchTest, TwoVisitorsEachGetTheirOwnMap) {
    seed();
    vid_ = kOther;
    seed();
    const std::string mine = live_of(kVid);
    const std::string theirs = live_of(kOther);
    vid_ = kVid;
    const std::string a = view("MINE", kT0 + 30000);
    vid_ = kOther;
    const std::string b = view("THEIRS", kT0 + 30000);
    LiveBatch batch;
    batch.reset(LiveConfig());
    ASSERT_TRUE(batch.add(a, nullptr, mine));
    ASSERT_TRUE(batch.add(b, nullptr, theirs));
    ASSERT_TRUE(batch.finish());
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    ASSERT_TRUE(check(&w));
    EXPECT_EQ(commit(w), WatchedBatch::Outcome::kCommitted);
    EXPECT_EQ(hex(live_of(kVid)), hex(edited(mine, {a})));
    EXPECT_EQ(hex(live_of(kOther)), hex(edited(theirs, {b})));
}

TEST_F(WatchedBatchTest, BatchesOnlyTheScriptCanApplyAreNotPlanned) {
    seed();
    const std::string read = live_of(kVid);
    WatchedBatch w;
    LiveBatch batch;

    fill(&batch, {view("NEW-1", kT0 + 30000)}, "");
    EXPECT_FALSE(w.plan(batch, 4096)) << "no map read: the script makes the first visit's";

    fill(&batch, {event(EventType::kProductAdded, kVid, kT0 + 30000, {{"product_id", "A"}})}, read);
    EXPECT_FALSE(w.plan(batch, 4096)) << "a cart change: LiveMapEdit does not make it";

    fill(&batch, {page(kT0 + 30000), event(EventType::kIdentify, kOther, kT0 + 31000, {}, 0, kVid)},
         read);
    EXPECT_FALSE(w.plan(batch, 4096)) << "an Identify's merge";

    LiveConfig cluster;
    cluster.append_to_stream = false;
    fill(&batch, {view("NEW-1", kT0 + 30000)}, read, cluster);
    EXPECT_FALSE(w.plan(batch, 4096)) << "Redis Cluster: the stream is in another slot";
}

TEST_F(WatchedBatchTest, AnswersOfTheWrongShapeAreNotCommitted) {
    seed();
    LiveBatch batch;
    fill(&batch, {view("NEW-1", kT0 + 30000)}, live_of(kVid));
    WatchedBatch w;
    ASSERT_TRUE(w.plan(batch, 4096));
    std::vector<WatchedReply> e(w.check_elements());
    EXPECT_FALSE(w.decide(e.data(), e.size() - 1)) << "one element short";
    e[0].kind = WatchedReply::Kind::kError;
    EXPECT_FALSE(w.decide(e.data(), e.size())) << "the map read failed";

    ASSERT_TRUE(check(&w));
    std::vector<WatchedReply> exec(w.commit_lengths().size() - 1);  // all but EXEC
    for (WatchedReply& x : exec) {
        x.kind = WatchedReply::Kind::kBytes;
    }
    std::vector<LiveResult> r;
    EXPECT_EQ(w.committed(false, exec.data(), exec.size(), &r), WatchedBatch::Outcome::kCommitted);
    EXPECT_EQ(r, std::vector<LiveResult>{LiveResult::kApplied});
    EXPECT_EQ(w.committed(false, exec.data(), exec.size() - 1, &r), WatchedBatch::Outcome::kFailed);
    exec[0].kind = WatchedReply::Kind::kError;  // the XADD failed inside EXEC
    EXPECT_EQ(w.committed(false, exec.data(), exec.size(), &r), WatchedBatch::Outcome::kPartial);
    EXPECT_EQ(r, std::vector<LiveResult>{LiveResult::kInvalid});
    EXPECT_EQ(w.committed(true, nullptr, 0, &r), WatchedBatch::Outcome::kConflict);
    ASSERT_EQ(redis_->command({"UNWATCH"}).str, "OK");
}

}  // namespace
}  // namespace tailor
