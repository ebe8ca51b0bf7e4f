// Spool directory names, and removing an orphan once it is replayed (but never one in use).
#include "tailor/events/spool_dir.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "temp_dir.h"

namespace tailor {
namespace {

namespace fs = std::filesystem;

std::unique_ptr<Spool> open_spool(const std::string& dir, SpoolError* err = nullptr) {
    SpoolOptions o;
    o.dir = dir;
    o.max_record_bytes = 1024;
    o.segment_bytes = 4096;
    o.max_bytes = 16384;
    return Spool::open(o, err);
}

void drain(Spool& spool) {
    SpoolBatch batch;
    while (spool.peek(2, 1 << 20, &batch)) {
        ASSERT_TRUE(spool.commit(batch));
    }
}

TEST(SpoolDirName, TakesTheNamesWorkersSpoolUnder) {
    SpoolDirName n;
    ASSERT_TRUE(parse_spool_dir_name("w0", &n));
    EXPECT_EQ(n.slot, 0u);
    EXPECT_EQ(n.generation, 0u);
    ASSERT_TRUE(parse_spool_dir_name("w3-1", &n));
    EXPECT_EQ(n.slot, 3u);
    EXPECT_EQ(n.generation, 1u);
    ASSERT_TRUE(parse_spool_dir_name("w17-8", &n));
    EXPECT_EQ(n.slot, 17u);
    EXPECT_EQ(n.generation, 8u);
}

TEST(SpoolDirName, RefusesEverythingElse) {
    SpoolDirName n;
    for (const char* bad :
         {"",    "w",     "w-1",  "w1-",         "w1-0",         "w01",    "w1-01",
          "w+1", "w1-+1", "W1",   "x1",          "w1x",          "w1-1-1", "w1 ",
          ".",   "..",    "lock", "w2147483648", "w99999999999", "w1.tmp"}) {
        EXPECT_FALSE(parse_spool_dir_name(bad, &n)) << bad;
    }
}

TEST(SpoolHeir, EachDirectoryHasExactlyOneLiveHeir) {
    for (uint32_t workers : {1u, 2u, 3u, 4u}) {
        for (uint32_t slot = 0; slot < 9; slot++) {
            for (uint32_t generation : {0u, 1u, 7u}) {
                int heirs = 0;
                for (uint32_t live = 0; live < workers; live++) {
                    heirs += is_spool_heir({slot, generation}, live, workers) ? 1 : 0;
                }
                EXPECT_EQ(heirs, 1) << "w" << slot << "-" << generation << " of " << workers;
            }
        }
    }
}

TEST(SpoolHeir, ALiveSlotsOwnNamesAreItsOwn) {
    // worker 0 of 2 starting never finds worker 1 holding "w0" or "w0-1"
    EXPECT_TRUE(is_spool_heir({0, 0}, 0, 2));
    EXPECT_FALSE(is_spool_heir({0, 0}, 1, 2));
    EXPECT_FALSE(is_spool_heir({0, 1}, 1, 2));
    // gone after a restart from 4 workers to 2
    EXPECT_TRUE(is_spool_heir({2, 0}, 0, 2));
    EXPECT_TRUE(is_spool_heir({3, 0}, 1, 2));
    EXPECT_FALSE(is_spool_heir({3, 0}, 0, 0));  // no workers: nobody
}

TEST(RemoveEmptySpool, RemovesAReplayedOrphanAndItsDirectory) {
    TempDir root("tailor-spooldir");
    const std::string dir = root.path() + "/w3-1";
    {
        auto s = open_spool(dir);
        ASSERT_TRUE(s);
        for (int i = 0; i < 5; i++) {
            ASSERT_EQ(s->append("event-" + std::to_string(i)).status, AppendStatus::kOk);
        }
    }
    auto s = open_spool(dir);
    ASSERT_TRUE(s);
    drain(*s);
    ASSERT_TRUE(s->empty());
    EXPECT_TRUE(remove_empty_spool(std::move(s)));
    EXPECT_FALSE(fs::exists(dir));
}

TEST(RemoveEmptySpool, KeepsASpoolThatStillHoldsRecords) {
    TempDir root("tailor-spooldir");
    const std::string dir = root.path() + "/w2";
    auto s = open_spool(dir);
    ASSERT_TRUE(s);
    ASSERT_EQ(s->append("event").status, AppendStatus::kOk);
    EXPECT_FALSE(remove_empty_spool(std::move(s)));
    EXPECT_FALSE(remove_empty_spool(nullptr));
    auto again = open_spool(dir);  // closed, so openable, and the record is still there
    ASSERT_TRUE(again);
    EXPECT_EQ(again->stats().pending_records, 1u);
}

TEST(RemoveEmptySpool, KeepsTheDirectoryWhenSomethingElseIsInIt) {
    TempDir root("tailor-spooldir");
    const std::string dir = root.path() + "/w1";
    auto s = open_spool(dir);
    ASSERT_TRUE(s);
    fs::create_directory(dir + "/keep");
    EXPECT_FALSE(remove_empty_spool(std::move(s)));
    EXPECT_TRUE(fs::exists(dir + "/keep"));
}

TEST(RemoveEmptySpool, TheNameCanBeOpenedAgainAfterwards) {
    // a worker that takes the name right after the orphan was removed gets a working spool
    TempDir root("tailor-spooldir");
    const std::string dir = root.path() + "/w1";
    ASSERT_TRUE(remove_empty_spool(open_spool(dir)));
    SpoolError err = SpoolError::kOk;
    auto s = open_spool(dir, &err);
    ASSERT_TRUE(s) << spool_error_name(err);
    EXPECT_EQ(s->append("event").status, AppendStatus::kOk);
}

TEST(RemoveEmptySpool, OnlyOneOpenerHoldsAnOrphan) {
    TempDir root("tailor-spooldir");
    const std::string dir = root.path() + "/w5";
    auto first = open_spool(dir);
    ASSERT_TRUE(first);
    SpoolError err = SpoolError::kOk;
    EXPECT_FALSE(open_spool(dir, &err));
    EXPECT_EQ(err, SpoolError::kLocked);
}

}  // namespace
}  // namespace tailor
