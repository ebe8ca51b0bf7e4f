// Delivery: one worker's exactly-once event delivery, decided without I/O to Redis: the bounded
// queue, the spool while Redis is away, which batch goes next, what a batch's outcome means, and
// the counts. The glue (ngx_module/events) owns the timers and the connection, sends the batch
// this class builds and reports how it went.
//
// Order is what makes delivery exactly-once: the live script applies each (producer, seq) at most
// once per visitor, so a producer must deliver in seq order. Hence one batch in flight at a time
// (a failed batch goes again before anything behind it), and while the spool holds records
// everything new goes behind them. A spool left by a worker that is gone ("adopted") is replayed
// once this worker has nothing of its own to send: its producer ids are not ours, so its order
// relative to ours does not matter.
//
// One state machine that reads best whole (see docs/events.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/live.h"
#include "tailor/events/live_facts.h"
#include "tailor/events/spool.h"
#include "tailor/events/spool_dir.h"

namespace tailor {

// DeliveryOptions
struct DeliveryOptions {
    size_t queue = 32768;              // events held in memory, the batch in flight included
    size_t batch_events = 256;         // events per batch
    size_t batch_bytes = 1024 * 1024;  // payload per batch (a batch has at least one event)
    LiveConfig live;
};

// DeliveryCounts
//
// What happened since the last take_counts(); the glue adds them to its metrics and logs the
// notes (rate-limited).
struct DeliveryCounts {
    uint64_t emitted = 0;         // events queued
    uint64_t flushed = 0;         // applied by the script
    uint64_t duplicates = 0;      // already applied (replays)
    uint64_t invalid = 0;         // refused by the script, or not an event the script takes
    uint64_t batches = 0;         // batches answered
    uint64_t batch_events = 0;    // events in those batches
    uint64_t spooled = 0;         // events written to the spool
    uint64_t replayed = 0;        // spooled events delivered
    uint64_t dropped = 0;         // events lost, for any reason below or at exit
    uint64_t failed_batches = 0;  // batches with no usable reply
    uint64_t edit_events = 0;     // events answered whose batch carried their visitor's edit

    // notes for log lines
    uint64_t queue_full_dropped = 0;  // oldest queued events dropped to make room
    uint64_t spool_full_dropped = 0;  // oldest spooled events dropped to make room
    bool spool_write_failed = false;  // the spool refused a write: events stay in memory
    uint64_t orphans_removed = 0;     // adopted spools replayed to the end, directory removed
};

// DeliveryStep
//
// What next() decided.
enum class DeliveryStep : unsigned char {
    kIdle,   // nothing to send now (or Redis not ready: the queue went to the spool)
    kBusy,   // a batch is in flight: its outcome decides
    kSend,   // batch() holds a finished command: send it, then report sent()/not_sent()
    kRetry,  // nothing sent, but events wait: try again after the flush interval
};

// Delivery
//
// Example (the glue's flush; `send` is the transport):
//   Delivery d(options);
//   d.set_spool(std::move(spool));
//   if (d.enqueue(blob)) flush();                 // a full batch is waiting
//   ...
//   if (d.next(redis_ready) == DeliveryStep::kSend) {
//       if (!send(d.batch())) d.not_sent();
//   }
//   ... later, from the reply:
//   d.answered(results.data(), results.size());  // or d.failed()
class Delivery {
  public:
    // Throws std::bad_alloc (the queue is allocated here).
    explicit Delivery(const DeliveryOptions& options);

    Delivery(const Delivery&) = delete;
    Delivery& operator=(const Delivery&) = delete;

    // Delivery::set_spool
    //
    // This worker's own spool (null: none; events are dropped while Redis is away and the
    // queue is full).
    void set_spool(std::unique_ptr<Spool> spool) noexcept;

    // Delivery::adopt
    //
    // A spool another worker left behind, replayed after ours; once replayed to the end its
    // directory is removed (remove_empty_spool). False (and `spool` is released) when one is
    // adopted already, or it is empty.
    bool adopt(std::unique_ptr<Spool> spool) noexcept;
    [[nodiscard]] bool adopting() const noexcept { return adopted_ != nullptr; }

    // Delivery::enqueue
    //
    // Copies one encoded event to the tail. When the queue is full, it moves to the spool
    // first (with a copy of the batch in flight, if any, ahead of it, so order holds whatever
    // that batch's outcome); only without a spool (or when it fails) is the oldest waiting
    // event dropped (counted). True when a full batch waits and nothing is in flight: flush
    // now.
    //
    // `facts`: the blob's live facts from encode_event (views into `blob`), kept beside the
    // copy so the batch need not read the blob again; null: it is read when sent.
    //
    // `live_read`: the visitor's live map as the event's request read it, for the batch's
    // edit of it (LiveBatch::add). A copy is kept while fewer than twice a batch of events
    // hold one (a bounded pool); past that, or when requeued, the event goes without.
    [[nodiscard]] bool enqueue(std::string_view blob, const LiveFacts* facts = nullptr,
                               std::string_view live_read = {}) noexcept;

    // Delivery::next
    //
    // Decides the next batch. `redis_ready`: the connection would take a command now.
    [[nodiscard]] DeliveryStep next(bool redis_ready) noexcept;

    // The command next() returned kSend for. After a NOSCRIPT reply the glue may call
    // batch().use_eval() and send it again: it stays valid until answered() or failed().
    [[nodiscard]] LiveBatch& batch() noexcept { return batch_; }

    // Delivery::not_sent
    //
    // The connection refused the batch next() built: nothing was sent, nothing is counted
    // failed; its events stay first in line (the queue moves to the spool, if one is open).
    void not_sent() noexcept;

    // Delivery::answered
    //
    // The batch in flight got its reply: one LiveResult per event, in order. Any other
    // count is a failed batch.
    void answered(const LiveResult* results, size_t n) noexcept;

    // Delivery::failed
    //
    // The batch in flight got no usable reply (connection lost, error, another type). Its
    // events go again, first: a replay the script already applied is counted a duplicate.
    void failed() noexcept;

    // Delivery::retry_delay_ms
    //
    // How long to wait before sending again after failed batches: 0 after a success, then
    // base_ms, doubling with each consecutive failure, at most cap_ms. A Redis that refuses
    // every batch (maxmemory, a read-only replica) is asked a few times a second at most,
    // not once per flush interval.
    //
    // Example:
    //   after 3 failures in a row: retry_delay_ms(10, 1000) == 40
    [[nodiscard]] uint64_t retry_delay_ms(uint64_t base_ms, uint64_t cap_ms) const noexcept;
    [[nodiscard]] uint32_t failures() const noexcept { return failures_; }

    // Delivery::drain_at_exit
    //
    // The worker exits: the batch in flight (maybe applied, maybe not) and the queue go to
    // the spool; what cannot is dropped and counted. Returns the number dropped.
    uint64_t drain_at_exit() noexcept;

    // Delivery::take_counts
    //
    // The counts since the last call, and zeroes them.
    [[nodiscard]] DeliveryCounts take_counts() noexcept;

    [[nodiscard]] bool in_flight() const noexcept { return state_ != Flight::kNone; }
    // events in memory, the batch in flight included
    [[nodiscard]] size_t queued() const noexcept { return count_ + sending_count_; }
    // events waiting in the spools (ours and adopted)
    [[nodiscard]] uint64_t spooled() const noexcept;
    // anything waiting: the queue, a spool to replay
    [[nodiscard]] bool backlog() const noexcept;
    // after an answer: more is ready to go at once (the spool, an adopted spool, a full batch,
    // or what the visitor cap left of the queue)
    [[nodiscard]] bool flush_again() const noexcept;

  private:
    enum class Flight : unsigned char { kNone, kQueue, kSpool, kAdopted };

    std::string& at(size_t i) noexcept { return ring_[(head_ + i) % ring_.size()]; }
    void pop_front() noexcept;
    void keep_read(size_t slot, std::string_view live_read) noexcept;
    std::string_view read_at(size_t slot) const noexcept;
    void requeue_sending() noexcept;
    void spool_queue() noexcept;
    bool spool_one(std::string_view record, bool copy) noexcept;
    void skip_flight_copies() noexcept;
    bool spool_pending() const noexcept { return spool_ && !spool_->empty(); }
    bool replay(Spool* spool, Flight flight) noexcept;
    DeliveryStep send_queue() noexcept;
    void release_adopted() noexcept;

    DeliveryOptions options_;
    // options_.live without the visitor cap, for spool replays: a spool batch is committed
    // whole, so it must carry every record it peeked
    LiveConfig replay_live_;
    bool cut_ = false;               // the queue batch in flight left events for the next
    std::vector<std::string> ring_;  // waiting events: [head_, head_ + count_)
    // per ring slot: its event's facts, where carried_ says so (enqueue()'s, until requeued);
    // not initialized, so only the slots a queue ever reaches take memory
    std::unique_ptr<PackedLiveFacts[]> facts_;
    std::vector<unsigned char> carried_;
    std::vector<std::string> spares_;  // popped slots' strings, their memory for enqueue()
    // the live maps the events' requests read: a pool of 2 * batch_events strings, and per
    // ring slot the one its event holds (index + 1; 0: none)
    std::vector<std::string> reads_;
    std::vector<uint32_t> free_reads_;
    std::vector<uint32_t> read_of_;
    size_t head_ = 0;
    size_t count_ = 0;

    Flight state_ = Flight::kNone;
    std::vector<std::string> sending_;  // the queue batch in flight, moved out of the ring
    size_t sending_count_ = 0;
    size_t flight_spooled_ = 0;  // of sending_, copied to the head of the spool (spool_queue)
    uint32_t failures_ = 0;      // consecutive failed batches
    LiveBatch batch_;
    SpoolBatch spool_batch_;

    std::unique_ptr<Spool> spool_;
    std::unique_ptr<Spool> adopted_;
    DeliveryCounts counts_;
};

}  // namespace tailor
