// Delivery: the worker's exactly-once state machine, its batches run by the live script on a
// real redis-server (redis_server.h): outage to the spool, replay in order, lost replies
// as duplicates, drop-oldest when the queue is full, adopted spools, exit.
//
// In order and exactly once is checked the way the script sees it: every event of one producer
// carries the next seq, so one delivered out of order or twice is counted a duplicate and not
// applied; "all N flushed, none duplicate, the visitor's recorded seq is N and the stream holds
// N" means each arrived once, in order.
#include "tailor/events/delivery.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "delivery_fixture.h"

namespace tailor {
namespace {

namespace fs = std::filesystem;

TEST_F(EventDelivery, DeliversInBatchesInOrder) {
    options_.batch_events = 4;
    Delivery d(options_);
    EXPECT_FALSE(d.enqueue(event(1)));
    enqueue(d, 2, 10);
    EXPECT_EQ(deliver(d), 3);  // 4 + 4 + 2
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.emitted, 10u);
    EXPECT_EQ(c.flushed, 10u);
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(c.batches, 3u);
    EXPECT_EQ(c.batch_events, 10u);
    EXPECT_EQ(d.queued(), 0u);
    EXPECT_FALSE(d.backlog());
    EXPECT_EQ(recorded_seq(), "10");
    EXPECT_EQ(stream_length(), 10);
    EXPECT_EQ(d.take_counts().emitted, 0u);  // taken once
}

TEST_F(EventDelivery, EnqueueAsksForAFlushWhenAFullBatchWaits) {
    options_.batch_events = 3;
    Delivery d(options_);
    EXPECT_FALSE(d.enqueue(event(1)));
    EXPECT_FALSE(d.enqueue(event(2)));
    EXPECT_TRUE(d.enqueue(event(3)));
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    EXPECT_EQ(d.next(true), DeliveryStep::kBusy);  // one batch in flight
    EXPECT_FALSE(d.enqueue(event(4)));             // in flight: its reply flushes
    EXPECT_FALSE(d.enqueue(event(5)));
    EXPECT_FALSE(d.enqueue(event(6)));
    ASSERT_TRUE(run_batch(d));
    EXPECT_TRUE(d.flush_again());
}

TEST_F(EventDelivery, RedisOutageSpoolsTheQueueAndReplaysItInOrderAfterRecovery) {
    options_.batch_events = 4;
    Delivery d(options_);
    d.set_spool(spool());

    enqueue(d, 1, 10);
    EXPECT_EQ(d.next(false), DeliveryStep::kIdle);  // Redis is down
    EXPECT_EQ(d.queued(), 0u);
    EXPECT_EQ(d.spooled(), 10u);
    enqueue(d, 11, 13);
    EXPECT_EQ(d.next(false), DeliveryStep::kIdle);
    EXPECT_EQ(d.spooled(), 13u);
    EXPECT_EQ(stream_length(), 0);

    // back: new events wait behind the spool
    enqueue(d, 14, 15);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    EXPECT_EQ(d.queued(), 0u);  // moved behind the spool, not sent around it
    ASSERT_TRUE(run_batch(d));
    deliver(d);

    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.spooled, 15u);
    EXPECT_EQ(c.replayed, 15u);
    EXPECT_EQ(c.flushed, 15u);
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(c.dropped, 0u);
    EXPECT_EQ(d.spooled(), 0u);
    EXPECT_EQ(recorded_seq(), "15");
    EXPECT_EQ(stream_length(), 15);
}

TEST_F(EventDelivery, ABatchWhoseReplyWasLostGoesAgainFirstAndCountsAsDuplicates) {
    options_.batch_events = 4;
    Delivery d(options_);
    enqueue(d, 1, 6);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    ASSERT_NO_FATAL_FAILURE(apply_and_lose_reply(d));
    EXPECT_EQ(d.queued(), 6u);

    enqueue(d, 7, 8);
    deliver(d);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.failed_batches, 1u);
    EXPECT_EQ(c.duplicates, 4u);  // the replayed batch: skipped by the script
    EXPECT_EQ(c.flushed, 4u);     // 5..8
    EXPECT_EQ(recorded_seq(), "8");
    EXPECT_EQ(stream_length(), 8);  // each once
}

// The whole queue in flight leaves the ring empty, and the next event starts again at its
// first slot (delivery.cpp, enqueue): a batch that fails then still goes back in front of it.
TEST_F(EventDelivery, ABatchThatEmptiedTheQueueAndFailedGoesBeforeWhatCameAfter) {
    for (size_t queue : {size_t{4}, size_t{32768}}) {
        SCOPED_TRACE(queue);
        redis_->command({"FLUSHALL"});
        options_.queue = queue;
        options_.batch_events = 2;
        Delivery d(options_);
        enqueue(d, 1, 2);
        ASSERT_EQ(d.next(true), DeliveryStep::kSend);  // 1, 2 in flight, nothing waits
        enqueue(d, 3, 4);
        d.failed();  // not applied
        EXPECT_EQ(d.queued(), 4u);
        deliver(d);
        DeliveryCounts c = d.take_counts();
        EXPECT_EQ(c.flushed, 4u);     // 1, 2 before 3, 4: after them they would be
        EXPECT_EQ(c.duplicates, 0u);  // duplicates (seq below the producer's watermark)
        EXPECT_EQ(c.dropped, 0u);
        EXPECT_EQ(recorded_seq(), "4");
        EXPECT_EQ(stream_length(), 4);
    }
}

TEST_F(EventDelivery, AFailedBatchWithASpoolGoesToItsHeadNotBehindIt) {
    options_.batch_events = 2;
    Delivery d(options_);
    d.set_spool(spool());
    enqueue(d, 1, 3);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);  // 1, 2 in flight
    enqueue(d, 4, 5);
    d.failed();  // the queue, 1 first, goes to the spool
    EXPECT_EQ(d.spooled(), 5u);
    deliver(d);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.flushed, 5u);
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(recorded_seq(), "5");
}

TEST_F(EventDelivery, AnErrorOrOtherReplyIsAFailedBatch) {
    Delivery d(options_);
    enqueue(d, 1, 3);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    LiveResult two[] = {LiveResult::kApplied, LiveResult::kApplied};
    d.answered(two, 2);  // three were sent
    EXPECT_EQ(d.take_counts().failed_batches, 1u);
    EXPECT_EQ(d.queued(), 3u);
    EXPECT_FALSE(d.in_flight());
    deliver(d);
    EXPECT_EQ(d.take_counts().flushed, 3u);
}

TEST_F(EventDelivery, AFullQueueDropsTheOldestAndCountsIt) {
    options_.queue = 4;
    Delivery d(options_);  // no spool
    enqueue(d, 1, 6);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.emitted, 6u);
    EXPECT_EQ(c.dropped, 2u);
    EXPECT_EQ(c.queue_full_dropped, 2u);
    EXPECT_EQ(d.queued(), 4u);
    deliver(d);
    c = d.take_counts();
    EXPECT_EQ(c.flushed, 4u);  // 3..6: the newest survive
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(recorded_seq(), "6");
    EXPECT_EQ(stream_length(), 4);
}

TEST_F(EventDelivery, AFullQueueNeverDropsTheBatchInFlight) {
    options_.queue = 4;
    options_.batch_events = 2;
    Delivery d(options_);
    enqueue(d, 1, 2);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);  // 1, 2 in flight
    enqueue(d, 3, 6);                              // 3 and 4 go
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.queue_full_dropped, 2u);
    EXPECT_EQ(d.queued(), 4u);
    // the batch still views what it was built from
    redis_->command({"SCRIPT", "FLUSH"});
    LiveBatch& b = d.batch();
    Reply r = redis_->send(b);
    ASSERT_EQ(r.kind, '-');
    EXPECT_EQ(r.str.rfind("NOSCRIPT", 0), 0u) << r.str;
    b.use_eval();
    ASSERT_TRUE(run_batch(d));
    deliver(d);
    c = d.take_counts();
    EXPECT_EQ(c.flushed, 4u);  // 1, 2, 5, 6
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(recorded_seq(), "6");
}

TEST_F(EventDelivery, AFullQueueGoesToTheSpoolBeforeAnythingIsDropped) {
    options_.queue = 4;
    Delivery d(options_);
    d.set_spool(spool());
    enqueue(d, 1, 9);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.dropped, 0u);
    EXPECT_EQ(c.spooled, 8u);
    EXPECT_EQ(d.queued(), 1u);
    deliver(d);
    EXPECT_EQ(d.take_counts().flushed, 9u);
    EXPECT_EQ(recorded_seq(), "9");
}

TEST_F(EventDelivery, AFullQueueWithABatchInFlightGoesToTheSpoolBehindACopyOfIt) {
    options_.queue = 4;
    options_.batch_events = 2;
    Delivery d(options_);
    ASSERT_NO_FATAL_FAILURE(spill_with_batch_in_flight(d));
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.dropped, 0u);
    EXPECT_GT(c.spooled, 0u);
    ASSERT_TRUE(run_batch(d));  // succeeds: its copies in the spool are skipped, unsent
    deliver(d);
    c = d.take_counts();
    EXPECT_EQ(c.flushed, 9u);
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(c.dropped, 0u);
    EXPECT_EQ(stream_length(), 9);
    EXPECT_EQ(recorded_seq(), "9");
    EXPECT_EQ(d.spooled(), 0u);
}

TEST_F(EventDelivery, ABatchInFlightThatFailsAfterTheQueueSpilledGoesFirst) {
    options_.queue = 4;
    options_.batch_events = 2;
    Delivery d(options_);
    ASSERT_NO_FATAL_FAILURE(spill_with_batch_in_flight(d));
    d.failed();  // connection lost before Redis ran it
    deliver(d);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.flushed, 9u);
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(c.dropped, 0u);
    EXPECT_EQ(c.spooled, 9u);  // the batch's copies count once it failed
    EXPECT_EQ(recorded_seq(), "9");
}

TEST_F(EventDelivery, ABatchInFlightWhoseReplyWasLostAfterTheQueueSpilledIsADuplicate) {
    options_.queue = 4;
    options_.batch_events = 2;
    Delivery d(options_);
    ASSERT_NO_FATAL_FAILURE(spill_with_batch_in_flight(d));
    ASSERT_NO_FATAL_FAILURE(apply_and_lose_reply(d));
    deliver(d);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.flushed, 7u);
    EXPECT_EQ(c.duplicates, 2u);
    EXPECT_EQ(stream_length(), 9);
}

TEST_F(EventDelivery, RetryDelayDoublesWithEachFailureAndIsCapped) {
    Delivery d(options_);
    EXPECT_EQ(d.retry_delay_ms(10, 1000), 0u);
    enqueue(d, 1, 1);
    std::vector<uint64_t> delays;
    for (int i = 0; i < 9; i++) {
        ASSERT_EQ(d.next(true), DeliveryStep::kSend);
        d.failed();  // e.g. OOM at maxmemory
        delays.push_back(d.retry_delay_ms(10, 1000));
    }
    EXPECT_EQ(delays, (std::vector<uint64_t>{10, 20, 40, 80, 160, 320, 640, 1000, 1000}));
    EXPECT_EQ(d.take_counts().failed_batches, 9u);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    ASSERT_TRUE(run_batch(d));
    EXPECT_EQ(d.retry_delay_ms(10, 1000), 0u);  // a success resets it
}

TEST_F(EventDelivery, ANotSentBatchStaysFirst) {
    Delivery d(options_);
    enqueue(d, 1, 3);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    d.not_sent();
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.failed_batches, 0u);
    EXPECT_EQ(d.queued(), 3u);
    deliver(d);
    EXPECT_EQ(recorded_seq(), "3");
}

TEST_F(EventDelivery, AnEventTheScriptCannotTakeIsDroppedAsInvalid) {
    Delivery d(options_);
    (void)d.enqueue("not an event");
    enqueue(d, 1, 2);
    EXPECT_EQ(d.next(true), DeliveryStep::kRetry);
    deliver(d);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.invalid, 1u);
    EXPECT_EQ(c.flushed, 2u);
}

TEST_F(EventDelivery, AnAdoptedSpoolIsReplayedAfterOurOwnEvents) {
    ASSERT_NO_FATAL_FAILURE(leave_spool("w0-1"));
    Delivery d(options_);
    EXPECT_FALSE(d.adopt(nullptr));
    ASSERT_TRUE(d.adopt(spool("w0-1")));
    EXPECT_TRUE(d.adopting());
    EXPECT_EQ(d.spooled(), 5u);
    enqueue(d, 1, 2);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    EXPECT_EQ(d.batch().events(), 2u);  // ours first
    ASSERT_TRUE(run_batch(d));
    EXPECT_TRUE(d.flush_again());
    deliver(d);
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.flushed, 7u);
    EXPECT_EQ(c.replayed, 5u);
    EXPECT_FALSE(d.adopting());  // emptied: released
    EXPECT_EQ(c.orphans_removed, 1u);
    EXPECT_FALSE(fs::exists(path("w0-1")));  // and its directory removed
    EXPECT_EQ(recorded_seq("gone"), "5");
    EXPECT_EQ(recorded_seq(), "2");
}

TEST_F(EventDelivery, AnAdoptedSpoolIsKeptOnDiskUntilItIsReplayedToTheEnd) {
    options_.batch_events = 2;
    ASSERT_NO_FATAL_FAILURE(leave_spool("w3"));
    {
        Delivery d(options_);
        ASSERT_TRUE(d.adopt(spool("w3")));
        ASSERT_EQ(d.next(true), DeliveryStep::kSend);
        ASSERT_TRUE(run_batch(d));  // 2 of 5, then this worker exits
        EXPECT_TRUE(d.adopting());
        EXPECT_EQ(d.take_counts().orphans_removed, 0u);
    }
    EXPECT_TRUE(fs::exists(path("w3")));
    Delivery d(options_);
    ASSERT_TRUE(d.adopt(spool("w3")));
    EXPECT_EQ(d.spooled(), 3u);  // the rest, in order
    deliver(d);
    EXPECT_EQ(d.take_counts().replayed, 3u);
    EXPECT_FALSE(fs::exists(path("w3")));
    EXPECT_EQ(recorded_seq("gone"), "5");
}

TEST_F(EventDelivery, AtExitTheBatchInFlightAndTheQueueGoToTheSpool) {
    options_.batch_events = 2;
    {
        Delivery d(options_);
        d.set_spool(spool());
        enqueue(d, 1, 5);
        ASSERT_EQ(d.next(true), DeliveryStep::kSend);
        EXPECT_EQ(d.drain_at_exit(), 0u);
        DeliveryCounts c = d.take_counts();
        EXPECT_EQ(c.spooled, 5u);
        EXPECT_EQ(c.dropped, 0u);
    }
    Delivery next(options_);  // the next worker opens the same spool
    next.set_spool(spool());
    EXPECT_EQ(next.spooled(), 5u);
    deliver(next);
    EXPECT_EQ(next.take_counts().flushed, 5u);
    EXPECT_EQ(recorded_seq(), "5");
}

TEST_F(EventDelivery, AtExitWithoutASpoolTheQueueIsDroppedAndCounted) {
    Delivery d(options_);
    enqueue(d, 1, 3);
    EXPECT_EQ(d.drain_at_exit(), 3u);
    EXPECT_EQ(d.take_counts().dropped, 3u);
    EXPECT_EQ(d.queued(), 0u);
}

}  // namespace
}  // namespace tailor
