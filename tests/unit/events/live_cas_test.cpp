// EventLive and nginx's edits (format 6): the script stores the map LiveBatch edited when the
// stored map is still the one the request read, and edits the stored map itself otherwise (a
// stale read, a replay in the batch); it never writes an erased visitor's. To see which map the
// script stored, some tests replace the edit with a marker: a map no event here would make.
#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "live_edit_fixture.h"
#include "tailor/events/live.h"

namespace tailor {
namespace {

constexpr std::string_view kOther = "Zq3f0x8W2mYbT1kL9cVn_B";

class EventLiveCas : public LiveMapEditTest {
  protected:
    // Sends `blobs` as one batch, each with `read` as the map its request read, checks that it
    // carries `edits` edits, and returns the script's reply. `marker` replaces the map edited
    // of the batch's one edit.
    std::string send(const std::vector<std::string>& blobs, std::string_view read, size_t edits,
                     std::optional<std::string_view> marker = std::nullopt) {
        LiveBatch batch;
        batch.reset(LiveConfig());
        for (const std::string& b : blobs) {
            EXPECT_TRUE(batch.add(b, nullptr, read));
        }
        EXPECT_TRUE(batch.finish());
        EXPECT_EQ(batch.edits(), edits);
        std::vector<std::string> args;
        for (int i = 0; i < batch.argc(); ++i) {
            args.emplace_back(batch.argv()[i], batch.argvlen()[i]);
        }
        if (marker) {
            const size_t keys = std::stoul(args[2]);
            const size_t producers = std::stoul(args[3 + keys + 7]);
            const size_t at = 3 + keys + LiveBatch::kFixedArgs + 4 * producers;
            EXPECT_EQ(args[at], "1");
            args[at + 3] = std::string(*marker);
        }
        return redis_->command(std::vector<std::string_view>(args.begin(), args.end())).str;
    }

    // The stored map `read` with `blobs` applied by LiveMapEdit, which must apply.
    static std::string edited(std::string_view read, const std::vector<std::string>& blobs) {
        LiveMapEdit e;
        EXPECT_TRUE(edit(&e, read, blobs));
        return std::string(e.bytes());
    }

    long long xlen() { return redis_->command({"XLEN", "tailor:events"}).integer; }
};

TEST_F(EventLiveCas, TheScriptStoresTheEditWhenTheStoredMapIsTheOneRead) {
    seed();
    const std::string read = live_of(kVid);
    const std::vector<std::string> blobs = {view("NEW-1", kT0 + 30000), page(kT0 + 31000)};
    const std::string marker = edited(read, {view("MARKER", kT0 + 40000)});
    const long long appended = xlen();
    EXPECT_EQ(send(blobs, read, 1, marker), "cc") << "'c': applied through nginx's edit";
    EXPECT_EQ(hex(live_of(kVid)), hex(marker)) << "the edit nginx sent";
    EXPECT_EQ(xlen(), appended + 2) << "and the events on the stream";
    EXPECT_GT(redis_->command({"TTL", live_key(kVid)}).integer, 89 * 86400);

    const std::string now = live_of(kVid);
    const std::vector<std::string> more = {view("NEW-2", kT0 + 41000)};
    EXPECT_EQ(send(more, now, 1), "c");
    EXPECT_EQ(hex(live_of(kVid)), hex(edited(now, more)));
}

// The revision: +1 per write of the map, whoever makes it (the script or nginx); none when
// nothing changed.
TEST_F(EventLiveCas, EveryWriteMovesTheRevisionOnByOne) {
    seed();
    auto rev = [this] {
        const std::string live = live_of(kVid);
        EXPECT_EQ(live.substr(3, 5), "\xa3rev\xce");
        uint32_t r = 0;
        for (size_t i = 8; i < 12 && i < live.size(); ++i) {
            r = (r << 8) | static_cast<unsigned char>(live[i]);
        }
        return r;
    };
    const uint32_t r = rev();
    (void)run({view("NEW-1", kT0 + 30000), page(kT0 + 31000)});  // the script's edit
    EXPECT_EQ(rev(), r + 1);
    EXPECT_EQ(send({view("NEW-2", kT0 + 32000), view("NEW-3", kT0 + 33000)}, live_of(kVid), 1),
              "cc");  // nginx's
    EXPECT_EQ(rev(), r + 2);
    EXPECT_EQ(send({page(kT0 + 33000)}, live_of(kVid), 1), "c");  // the same second: unchanged
    EXPECT_EQ(rev(), r + 2);
    (void)run({event(EventType::kProductAdded, kVid, kT0 + 34000, {{"product_id", "A"}})});
    EXPECT_EQ(rev(), r + 3) << "the full path's write";
}

TEST_F(EventLiveCas, AnEditThatChangesNothingWritesNothing) {
    seed();
    const std::string read = live_of(kVid);
    ASSERT_EQ(redis_->command({"EXPIRE", live_key(kVid), "100"}).integer, 1);
    EXPECT_EQ(send({page(kT0 + 19000)}, read, 1), "c");  // the second of the last view
    EXPECT_EQ(hex(live_of(kVid)), hex(read));
    EXPECT_LE(redis_->command({"TTL", live_key(kVid)}).integer, 100) << "not written";
}

TEST_F(EventLiveCas, AStaleReadLeavesTheEditToTheScript) {
    seed();
    const std::string stale = live_of(kVid);
    (void)run({view("OTHER", kT0 + 25000)});  // another worker's batch came first
    const std::string now = live_of(kVid);
    ASSERT_NE(now, stale);
    const std::vector<std::string> blobs = {view("NEW-1", kT0 + 30000)};
    const std::string marker = edited(stale, {view("MARKER", kT0 + 40000)});
    EXPECT_EQ(send(blobs, stale, 1, marker), "1") << "not 'c'";
    EXPECT_EQ(hex(live_of(kVid)), hex(edited(now, blobs))) << "the script's own edit";
}

TEST_F(EventLiveCas, AnErasedVisitorTakesNoEdit) {
    seed();
    const std::string read = live_of(kVid);
    ASSERT_EQ(redis_->command({"SET", "tailor:{" + std::string(kVid) + "}:erased", "1"}).str, "OK");
    const long long appended = xlen();
    EXPECT_EQ(send({view("NEW-1", kT0 + 30000)}, read, 1, read + "x"), "0");
    EXPECT_EQ(hex(live_of(kVid)), hex(read));
    EXPECT_EQ(xlen(), appended);
}

TEST_F(EventLiveCas, AReplayInTheBatchLeavesTheEditsToTheScript) {
    seq_ = 1;
    seed();  // seqs 1 to 20
    const std::string read = live_of(kVid);
    seq_ = 7;
    const std::string replay = page(kT0 + 30000);  // applied already, its reply lost
    seq_ = 21;
    const std::vector<std::string> blobs = {replay, view("NEW-1", kT0 + 31000)};
    const std::string marker = edited(read, {view("MARKER", kT0 + 40000)});
    EXPECT_EQ(send(blobs, read, 1, marker), "01");
    EXPECT_EQ(hex(live_of(kVid)), hex(edited(read, {blobs[1]})))
        << "the script's edit, without the replay";
}

TEST_F(EventLiveCas, AnIdentifysPreviousVisitorTakesNoEdit) {
    seed();
    const std::string read = live_of(kVid);
    const std::vector<std::string> blobs = {
        page(kT0 + 30000), event(EventType::kIdentify, kOther, kT0 + 31000, {}, 0, kVid)};
    EXPECT_EQ(send(blobs, read, 0), "11");
    EXPECT_EQ(redis_->command({"HGET", live_ev_key(kVid), "merged_into"}).str, kOther);
}

// Two visitors with the same map and the same random events (see live_edit_test.cpp), one
// through the script's own edits, one through nginx's: their maps stay the same, byte for byte.
TEST_F(EventLiveCas, RandomBatchesThroughEditsLeaveWhatTheScriptLeaves) {
    seed();
    vid_ = kOther;
    seed();
    vid_ = kVid;
    ASSERT_EQ(hex(live_of(kVid)), hex(live_of(kOther)));
    std::mt19937 rng(4122026);
    const std::vector<std::string> categories = {"", "Shirts", std::string(40, 'c')};
    int64_t t = kT0 + 20000;
    int taken = 0;
    for (int round = 0; round < 200 && !HasFailure(); ++round) {
        std::vector<std::pair<int64_t, int>> plan;  // time, product (-1: a page view)
        const int n = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < n; ++k) {
            const unsigned step = rng() % 100;
            t += step < 30 ? 0 : step < 98 ? 1000 * (rng() % 120) : 1000 * 1801;
            const bool page_view = rng() % 3 == 0;
            plan.emplace_back(t, page_view ? -1 : static_cast<int>(rng() % 30));
        }
        const std::string& category = categories[rng() % categories.size()];
        std::vector<std::string> mine;
        std::vector<std::string> theirs;
        for (const auto& [at, product] : plan) {
            for (std::string_view vid : {kVid, kOther}) {
                vid_ = vid;
                std::string blob =
                    product < 0 ? page(at) : view("SKU-" + std::to_string(product), at, category);
                (vid == kVid ? mine : theirs).push_back(std::move(blob));
            }
        }
        vid_ = kVid;
        (void)run(mine);
        const std::string read = live_of(kOther);
        LiveMapEdit probe;
        const bool takes = edit(&probe, read, theirs);
        EXPECT_EQ(send(theirs, read, takes ? 1 : 0), std::string(theirs.size(), takes ? 'c' : '1'));
        taken += takes ? 1 : 0;
        EXPECT_EQ(hex(live_of(kOther)), hex(live_of(kVid))) << "round " << round;
    }
    EXPECT_GT(taken, 150) << "of 200 (194: the draws are fixed)";
}

}  // namespace
}  // namespace tailor
