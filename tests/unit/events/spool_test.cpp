// Spool: order, replay after reopen, torn tails, corruption, drop-oldest bounds, locking.
#include "tailor/events/spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace tailor {
namespace {

namespace fs = std::filesystem;

// A worker's spool directory (not created: the spool makes it) in a fresh temporary one.
class SpoolDir : public TempDir {
  public:
    SpoolDir() : TempDir("tailor-spool") {}
    [[nodiscard]] std::string spool() const { return path() + "/w0"; }
};

SpoolOptions small_options(const std::string& dir) {
    SpoolOptions o;
    o.dir = dir;
    o.max_record_bytes = 1024;
    o.segment_bytes = 4096;
    o.max_bytes = 16384;
    return o;
}

std::string record(int i) {
    return "event-" + std::to_string(i) + std::string(static_cast<size_t>(i % 7) * 10, '.');
}

std::vector<std::string> drain(Spool& spool, size_t per_batch = 3) {
    std::vector<std::string> out;
    SpoolBatch batch;
    while (spool.peek(per_batch, 1 << 20, &batch)) {
        for (std::string_view r : batch.records()) {
            out.emplace_back(r);
        }
        EXPECT_TRUE(spool.commit(batch));
    }
    return out;
}

std::vector<fs::path> segments(const std::string& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) {
        if (e.path().extension() == ".tspool") {
            out.push_back(e.path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::unique_ptr<Spool> open_ok(const SpoolOptions& o) {
    SpoolError err = SpoolError::kIo;
    auto spool = Spool::open(o, &err);
    EXPECT_EQ(err, SpoolError::kOk) << spool_error_name(err);
    return spool;
}

TEST(SpoolCrc32c, MatchesTheStandardCheckValue) {
    EXPECT_EQ(crc32c(0, "123456789", 9), 0xE3069283u);
    EXPECT_EQ(crc32c(0, "", 0), 0u);
    // Incremental equals one-shot, across the 8-byte fast path.
    const std::string s = "The quick brown fox jumps over the lazy dog";
    EXPECT_EQ(crc32c(crc32c(0, s.data(), 13), s.data() + 13, s.size() - 13),
              crc32c(0, s.data(), s.size()));
}

TEST(Spool, ReplaysInOrderAndRemovesFilesWhenDrained) {
    SpoolDir tmp;
    auto spool = open_ok(small_options(tmp.spool()));
    ASSERT_TRUE(spool);
    EXPECT_TRUE(spool->empty());
    for (int i = 0; i < 100; ++i) {
        ASSERT_EQ(spool->append(record(i)).status, AppendStatus::kOk);
    }
    EXPECT_EQ(spool->stats().spooled, 100u);
    EXPECT_EQ(spool->stats().pending_records, 100u);
    EXPECT_GT(spool->stats().segments, 1u);  // rotated
    const auto got = drain(*spool);
    ASSERT_EQ(got.size(), 100u);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(got[static_cast<size_t>(i)], record(i));
    }
    EXPECT_TRUE(spool->empty());
    EXPECT_EQ(spool->stats().replayed, 100u);
    EXPECT_EQ(spool->stats().disk_bytes, 0u);
    EXPECT_TRUE(segments(tmp.spool()).empty());
    // And it keeps working after a full drain.
    ASSERT_EQ(spool->append("again").status, AppendStatus::kOk);
    EXPECT_EQ(drain(*spool), std::vector<std::string>{"again"});
}

TEST(Spool, PeekWithoutCommitReturnsTheSameRecords) {
    SpoolDir tmp;
    auto spool = open_ok(small_options(tmp.spool()));
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(spool->append(record(i)).status, AppendStatus::kOk);
    }
    SpoolBatch a;
    SpoolBatch b;
    ASSERT_TRUE(spool->peek(2, 1 << 20, &a));
    ASSERT_TRUE(spool->peek(2, 1 << 20, &b));
    EXPECT_EQ(a.records(), b.records());
    EXPECT_EQ(a.records().size(), 2u);
    EXPECT_EQ(std::string(a.records()[0]), record(0));
}

TEST(Spool, PeekHonoursTheByteBudgetButReturnsAtLeastOne) {
    SpoolDir tmp;
    auto spool = open_ok(small_options(tmp.spool()));
    ASSERT_EQ(spool->append(std::string(500, 'a')).status, AppendStatus::kOk);
    ASSERT_EQ(spool->append(std::string(500, 'b')).status, AppendStatus::kOk);
    SpoolBatch batch;
    ASSERT_TRUE(spool->peek(10, 100, &batch));
    EXPECT_EQ(batch.records().size(), 1u);
    ASSERT_TRUE(spool->peek(10, 1000, &batch));
    EXPECT_EQ(batch.records().size(), 2u);
}

TEST(Spool, ReopenResumesAtTheCommittedCursor) {
    SpoolDir tmp;
    {
        auto spool = open_ok(small_options(tmp.spool()));
        for (int i = 0; i < 40; ++i) {
            ASSERT_EQ(spool->append(record(i)).status, AppendStatus::kOk);
        }
        SpoolBatch batch;
        for (int k = 0; k < 4; ++k) {  // replay 4 x 3 = 12
            ASSERT_TRUE(spool->peek(3, 1 << 20, &batch));
            ASSERT_TRUE(spool->commit(batch));
        }
        ASSERT_TRUE(spool->peek(3, 1 << 20, &batch));  // in flight, never committed
    }
    auto spool = open_ok(small_options(tmp.spool()));
    EXPECT_EQ(spool->stats().recovered, 28u);
    const auto got = drain(*spool);
    ASSERT_EQ(got.size(), 28u);
    EXPECT_EQ(got.front(), record(12));
    EXPECT_EQ(got.back(), record(39));
}

TEST(Spool, TornTailIsDroppedOnRecoveryAndAppendsContinue) {
    SpoolDir tmp;
    {
        auto spool = open_ok(small_options(tmp.spool()));
        for (int i = 0; i < 3; ++i) {
            ASSERT_EQ(spool->append(record(i)).status, AppendStatus::kOk);
        }
    }
    const auto segs = segments(tmp.spool());
    ASSERT_EQ(segs.size(), 1u);
    fs::resize_file(segs[0], fs::file_size(segs[0]) - 3);  // cut into record 2
    auto spool = open_ok(small_options(tmp.spool()));
    EXPECT_EQ(spool->stats().recovered, 2u);
    EXPECT_GT(spool->stats().corrupt_bytes, 0u);
    ASSERT_EQ(spool->append("after").status, AppendStatus::kOk);
    EXPECT_EQ(drain(*spool), (std::vector<std::string>{record(0), record(1), "after"}));
}

TEST(Spool, ZeroFilledAndGarbageTailsAreNeverRecords) {
    for (const std::string& tail :
         {std::string(64, '\0'), std::string("\x05\x00\x00\x00\xde\xad\xbe\xefhello", 13),
          std::string(3, '\xff')}) {
        SpoolDir tmp;
        {
            auto spool = open_ok(small_options(tmp.spool()));
            ASSERT_EQ(spool->append("one").status, AppendStatus::kOk);
        }
        const auto segs = segments(tmp.spool());
        std::ofstream(segs[0], std::ios::binary | std::ios::app) << tail;
        auto spool = open_ok(small_options(tmp.spool()));
        EXPECT_EQ(spool->stats().corrupt_bytes, tail.size());
        EXPECT_EQ(drain(*spool), std::vector<std::string>{"one"});
    }
}

TEST(Spool, CorruptionInAnOlderSegmentCutsOnlyThatSegment) {
    SpoolDir tmp;
    {
        auto spool = open_ok(small_options(tmp.spool()));
        for (int i = 0; i < 200; ++i) {
            ASSERT_EQ(spool->append(record(i)).status, AppendStatus::kOk);
        }
    }
    const auto segs = segments(tmp.spool());
    ASSERT_GE(segs.size(), 2u);
    {
        std::fstream f(segs[0], std::ios::binary | std::ios::in | std::ios::out);
        f.seekp(kSpoolSegmentHeaderBytes + kSpoolFrameHeaderBytes + 2);  // inside record 0
        f.put('X');
    }
    auto spool = open_ok(small_options(tmp.spool()));
    const auto got = drain(*spool);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), record(199));
    for (const std::string& r : got) {
        EXPECT_NE(r, record(0));
    }
}

TEST(Spool, WhenFullDropsTheOldestAndCountsThem) {
    SpoolDir tmp;
    SpoolOptions o = small_options(tmp.spool());
    auto spool = open_ok(o);
    uint64_t dropped = 0;
    for (int i = 0; i < 1000; ++i) {
        const AppendResult r = spool->append(record(i));
        ASSERT_TRUE(r.status == AppendStatus::kOk || r.status == AppendStatus::kDroppedOldest);
        dropped += r.dropped;
        ASSERT_LE(spool->stats().disk_bytes, o.max_bytes);
    }
    EXPECT_GT(dropped, 0u);
    EXPECT_EQ(spool->stats().dropped, dropped);
    const auto got = drain(*spool, 50);
    EXPECT_EQ(got.size() + dropped, 1000u);
    EXPECT_EQ(got.back(), record(999));
    // What survives is a contiguous run of the newest records, in order.
    const size_t first = 1000 - got.size();
    for (size_t k = 0; k < got.size(); ++k) {
        EXPECT_EQ(got[k], record(static_cast<int>(first + k)));
    }
}

TEST(Spool, CommitOfABatchWhoseRecordsWereDroppedIsRefused) {
    SpoolDir tmp;
    auto spool = open_ok(small_options(tmp.spool()));
    ASSERT_EQ(spool->append(record(0)).status, AppendStatus::kOk);
    SpoolBatch batch;
    ASSERT_TRUE(spool->peek(1, 1 << 20, &batch));
    for (int i = 1; i < 1000; ++i) {
        (void)spool->append(record(i));
    }
    EXPECT_GT(spool->stats().dropped, 0u);
    EXPECT_FALSE(spool->commit(batch));
    EXPECT_EQ(spool->stats().replayed, 0u);
}

TEST(Spool, RefusesEmptyAndOversizedRecords) {
    SpoolDir tmp;
    auto spool = open_ok(small_options(tmp.spool()));
    EXPECT_EQ(spool->append("").status, AppendStatus::kTooLarge);
    EXPECT_EQ(spool->append(std::string(1025, 'x')).status, AppendStatus::kTooLarge);
    EXPECT_EQ(spool->append(std::string(1024, 'x')).status, AppendStatus::kOk);
}

TEST(Spool, RefusesBadOptions) {
    SpoolDir tmp;
    SpoolError err = SpoolError::kOk;
    SpoolOptions o = small_options(tmp.spool());
    o.segment_bytes = o.max_bytes;  // must be at most half
    EXPECT_EQ(Spool::open(o, &err), nullptr);
    EXPECT_EQ(err, SpoolError::kBadOptions);
    o = small_options(tmp.spool());
    o.segment_bytes = 512;  // cannot hold one max record
    EXPECT_EQ(Spool::open(o, &err), nullptr);
    o = small_options("");
    EXPECT_EQ(Spool::open(o, &err), nullptr);
}

TEST(Spool, ASecondOpenOfTheSameDirectoryIsLocked) {
    SpoolDir tmp;
    auto first = open_ok(small_options(tmp.spool()));
    SpoolError err = SpoolError::kOk;
    EXPECT_EQ(Spool::open(small_options(tmp.spool()), &err), nullptr);
    EXPECT_EQ(err, SpoolError::kLocked);
    first.reset();
    EXPECT_NE(Spool::open(small_options(tmp.spool()), &err), nullptr);
}

TEST(Spool, ABadCursorReplaysEverythingRatherThanLosing) {
    SpoolDir tmp;
    {
        auto spool = open_ok(small_options(tmp.spool()));
        for (int i = 0; i < 5; ++i) {
            ASSERT_EQ(spool->append(record(i)).status, AppendStatus::kOk);
        }
        SpoolBatch batch;
        ASSERT_TRUE(spool->peek(2, 1 << 20, &batch));
        ASSERT_TRUE(spool->commit(batch));
    }
    std::ofstream(tmp.spool() + "/cursor", std::ios::binary | std::ios::trunc) << "garbage";
    auto spool = open_ok(small_options(tmp.spool()));
    EXPECT_EQ(drain(*spool).size(), 5u);  // duplicates, which consumers dedupe by id
}

TEST(Spool, LoweredMaxBytesDropsOldestAtOpen) {
    SpoolDir tmp;
    {
        auto spool = open_ok(small_options(tmp.spool()));
        for (int i = 0; i < 300; ++i) {
            ASSERT_EQ(spool->append(record(i)).status, AppendStatus::kOk);
        }
    }
    SpoolOptions o = small_options(tmp.spool());
    o.max_bytes = 8192;
    auto spool = open_ok(o);
    EXPECT_LE(spool->stats().disk_bytes, o.max_bytes);
    EXPECT_GT(spool->stats().dropped, 0u);
    EXPECT_EQ(drain(*spool).back(), record(299));
}

}  // namespace
}  // namespace tailor
