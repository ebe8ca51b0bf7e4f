// EventDelivery: the fixture of the Delivery suites (delivery_test.cpp, and
// delivery_visitor_cap_test.cpp): a Delivery's batches run by the live script on a real
// redis-server, a spool directory per test, and the events of one producer in seq order.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "live_fixture.h"
#include "temp_dir.h"
#include "tailor/events/delivery.h"
#include "tailor/events/event.h"

namespace tailor {

constexpr std::string_view kVid = "q3Zf0x8W2mYbT1kL9cVn_A";
constexpr std::string_view kProducer = "w0-test";
constexpr int64_t kT0 = 1718000000000;  // ms

inline std::unique_ptr<Spool> open_spool(const std::string& dir) {
    SpoolOptions o;
    o.dir = dir;
    o.sync = SpoolSync::kNone;
    SpoolError err = SpoolError::kIo;
    auto spool = Spool::open(o, &err);
    EXPECT_EQ(err, SpoolError::kOk) << spool_error_name(err);
    return spool;
}

class EventDelivery : public LiveScriptTest {
  protected:
    EventDelivery() {
        options_.live.stream.key = "tailor:events";
        options_.live.stream.maxlen = 0;
    }

    // The event with seq `seq` of this test's producer (a page view by kVid).
    std::string event(uint64_t seq, std::string_view producer = kProducer) {
        Event e = event_at(EventType::kPageViewed, kVid, kT0 + static_cast<int64_t>(seq));
        e.producer = producer;
        e.seq = seq;
        return encoded(e);
    }

    // The event with seq `seq` of this test's producer, a page view by visitor `v` of many.
    std::string event_of(char v, uint64_t seq) {
        const std::string vid(22, v);  // e views it
        Event e = event_at(EventType::kPageViewed, vid, kT0 + static_cast<int64_t>(seq));
        e.producer = kProducer;
        e.seq = seq;
        return encoded(e);
    }

    void enqueue(Delivery& d, uint64_t first, uint64_t last) {
        for (uint64_t s = first; s <= last; s++) {
            (void)d.enqueue(event(s));
        }
    }

    // Runs the batch next() built on Redis and reports the reply; false when the reply was not
    // the script's string.
    bool run_batch(Delivery& d) {
        const Reply r = redis_->send(d.batch());
        if (r.kind != '$') {
            d.failed();
            return false;
        }
        const std::vector<LiveResult> results = results_of(r.str);
        d.answered(results.data(), results.size());
        return true;
    }

    // Redis is up: deliver until nothing is left to send; returns the batches sent.
    int deliver(Delivery& d) {
        int batches = 0;
        for (int guard = 0; guard < 10000; guard++) {
            DeliveryStep step = d.next(true);
            if (step == DeliveryStep::kSend) {
                EXPECT_TRUE(run_batch(d));
                batches++;
            } else if (step != DeliveryStep::kRetry) {
                break;
            }
        }
        return batches;
    }

    long long stream_length() { return redis_->command({"XLEN", "tailor:events"}).integer; }
    std::string recorded_seq(std::string_view producer = kProducer) {
        // the producer's watermark (live.h)
        return redis_->command({"GET", "tailor:events:seq:" + std::string(producer)}).str;
    }

    // The spool `name` (one per worker) in this test's directory.
    std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
    std::unique_ptr<Spool> spool(const std::string& name = "w0") { return open_spool(path(name)); }

    // A worker gone before replaying its spool `name`: events 1..5 of producer "gone" left there.
    void leave_spool(const std::string& name) {
        auto gone = spool(name);
        for (uint64_t s = 1; s <= 5; s++) {
            ASSERT_EQ(gone->append(event(s, "gone")).status, AppendStatus::kOk);
        }
    }

    // With a spool and a queue of 4 (options_.queue): 1 and 2 in flight while 3..9 come.
    void spill_with_batch_in_flight(Delivery& d) {
        d.set_spool(spool());
        enqueue(d, 1, 2);
        ASSERT_EQ(d.next(true), DeliveryStep::kSend);  // 1, 2 in flight
        enqueue(d, 3, 9);                              // the queue fills while it is out
    }

    // Redis applies the batch in flight, but the connection drops before the reply comes back.
    void apply_and_lose_reply(Delivery& d) {
        ASSERT_EQ(redis_->send(d.batch()).kind, '$');
        d.failed();
    }

    DeliveryOptions options_;
    TempDir dir_{"tailor-delivery"};
};

}  // namespace tailor
