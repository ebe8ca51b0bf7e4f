// Delivery under the visitor cap (LiveConfig::max_visitors, tailor_events_batch_visitors): a
// queue batch stops at the cap and what it leaves goes at once; a spool replay is not cut.
#include "tailor/events/delivery.h"

#include <gtest/gtest.h>

#include <string>

#include "delivery_fixture.h"

namespace tailor {
namespace {

// The visitor cap cuts a queue batch; what it leaves goes right after the answer
// (flush_again), in order, and none of it is refused as invalid.
TEST_F(EventDelivery, AVisitorCapCutsBatchesAndTheRestGoesRightAfter) {
    options_.live.max_visitors = 2;
    Delivery d(options_);
    const std::string visitors = "abcdeab";  // 5 visitors, 7 events
    for (size_t i = 0; i < visitors.size(); i++) {
        (void)d.enqueue(event_of(visitors[i], i + 1));
    }
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    EXPECT_EQ(d.batch().events(), 2u);  // a, b: c would be a third visitor
    ASSERT_TRUE(run_batch(d));
    EXPECT_TRUE(d.flush_again()) << "what the cap left goes at once, not after the interval";
    EXPECT_EQ(deliver(d), 3);  // c d | e a | b
    EXPECT_FALSE(d.flush_again());
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.flushed, 7u);
    EXPECT_EQ(c.invalid, 0u);
    EXPECT_EQ(c.duplicates, 0u);  // in order: one out of order would be a duplicate
    EXPECT_EQ(c.batches, 4u);
    EXPECT_EQ(stream_length(), 7);
    EXPECT_EQ(recorded_seq(), "7");
}

// A spool batch is committed whole, so its replay carries every record it peeked, whatever
// the visitor cap.
TEST_F(EventDelivery, ASpoolReplayIsNotCutByTheVisitorCap) {
    options_.live.max_visitors = 2;
    Delivery d(options_);
    d.set_spool(spool());
    const std::string visitors = "abcde";
    for (size_t i = 0; i < visitors.size(); i++) {
        (void)d.enqueue(event_of(visitors[i], i + 1));
    }
    EXPECT_EQ(d.next(false), DeliveryStep::kIdle);  // Redis down: the queue goes to the spool
    EXPECT_EQ(d.spooled(), 5u);
    ASSERT_EQ(d.next(true), DeliveryStep::kSend);
    EXPECT_EQ(d.batch().events(), 5u);
    ASSERT_TRUE(run_batch(d));
    DeliveryCounts c = d.take_counts();
    EXPECT_EQ(c.replayed, 5u);
    EXPECT_EQ(c.flushed, 5u);
    EXPECT_EQ(c.invalid, 0u);
    EXPECT_EQ(stream_length(), 5);
}

}  // namespace
}  // namespace tailor
