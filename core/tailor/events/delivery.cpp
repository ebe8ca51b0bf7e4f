#include "tailor/events/delivery.h"

#include <algorithm>
#include <new>
#include <utility>

#include "tailor/events/live_edit.h"

namespace tailor {

Delivery::Delivery(const DeliveryOptions& options) : options_(options), replay_live_(options.live) {
    replay_live_.max_visitors = 0;
    options_.queue = std::max<size_t>(options_.queue, 1);
    options_.batch_events = std::max<size_t>(options_.batch_events, 1);
    ring_.resize(options_.queue);
    facts_.reset(new PackedLiveFacts[options_.queue]);
    spares_.reserve(std::min(options_.batch_events, options_.queue));
    carried_.assign(options_.queue, 0);
    reads_.resize(std::min(2 * options_.batch_events, options_.queue));
    for (size_t k = reads_.size(); k > 0; k--) {
        free_reads_.push_back(static_cast<uint32_t>(k - 1));
    }
    read_of_.assign(options_.queue, 0);
    sending_.resize(std::min(options_.batch_events, options_.queue));
}

void Delivery::set_spool(std::unique_ptr<Spool> spool) noexcept {
    spool_ = std::move(spool);
}

bool Delivery::adopt(std::unique_ptr<Spool> spool) noexcept {
    if (adopted_ || !spool || spool->empty()) {
        return false;
    }
    adopted_ = std::move(spool);
    return true;
}

// The string of the slot freed at the head is kept as a spare for enqueue(): a blob's memory
// is reused at once, not only when the ring wraps around to its slot (after 32,768 events by
// default), so enqueue() stops allocating after the first batches.
void Delivery::pop_front() noexcept {
    if (read_of_[head_] != 0) {
        free_reads_.push_back(read_of_[head_] - 1);  // reserved: does not allocate
        read_of_[head_] = 0;
    }
    std::string& freed = ring_[head_];
    if (freed.capacity() > std::string().capacity() && spares_.size() < spares_.capacity()) {
        spares_.push_back(std::move(freed));  // reserved: does not allocate
        freed = std::string();
    }
    head_ = (head_ + 1) % ring_.size();
    count_--;
}

// The batch in flight goes back to the front of the ring, in order, but for its first
// flight_spooled_ events, which are at the head of the spool already (spool_queue). There is
// room: events in memory, in flight or not, never exceed the ring's size.
void Delivery::requeue_sending() noexcept {
    for (size_t k = sending_count_; k > flight_spooled_; k--) {
        head_ = (head_ + ring_.size() - 1) % ring_.size();
        std::swap(ring_[head_], sending_[k - 1]);
        carried_[head_] = 0;  // read again when sent
        read_of_[head_] = 0;  // its live map went back to the pool when it was sent
        count_++;
    }
    sending_count_ = 0;
    counts_.spooled += flight_spooled_;  // the copies are its events' place now
    flight_spooled_ = 0;
}

// Appends one record to the spool and counts it (a copy of an event in flight is counted only
// if that batch fails); false on an I/O error, or a copy the spool refuses.
bool Delivery::spool_one(std::string_view record, bool copy) noexcept {
    AppendResult res = spool_->append(record);
    if (res.status == AppendStatus::kIoError) {
        counts_.spool_write_failed = true;
        return false;
    }
    if (res.status == AppendStatus::kTooLarge) {
        if (copy) {
            return false;
        }
        counts_.dropped++;
    } else if (!copy) {
        counts_.spooled++;
    }
    counts_.dropped += res.dropped;
    counts_.spool_full_dropped += res.dropped;
    // the oldest go first: the copies of the batch in flight, if any
    flight_spooled_ -= std::min<size_t>(flight_spooled_, res.dropped);
    return true;
}

// Moves the waiting queue to the tail of the spool, in order. While a batch from the queue is
// in flight (the spool is empty then: the spool goes first), copies of it go first, so that
// were it to fail, it is still replayed before what is spooled behind it; when it succeeds,
// its copies are skipped unsent (skip_flight_copies).
void Delivery::spool_queue() noexcept {
    if (!spool_) {
        return;
    }
    if (state_ == Flight::kQueue && count_ > 0) {
        if (flight_spooled_ == 0 && !spool_->empty()) {
            return;  // cannot happen (see above); the queue stays in memory
        }
        while (flight_spooled_ < sending_count_) {
            if (!spool_one(sending_[flight_spooled_], true)) {
                return;
            }
            flight_spooled_++;
        }
    }
    while (count_ > 0) {
        if (!spool_one(at(0), false)) {
            return;
        }
        pop_front();
    }
}

// The batch in flight succeeded: its copies at the head of the spool are delivered already.
void Delivery::skip_flight_copies() noexcept {
    size_t left = flight_spooled_;
    flight_spooled_ = 0;
    while (left > 0 && spool_->peek(left, options_.batch_bytes, &spool_batch_)) {
        size_t n = spool_batch_.records().size();
        if (!spool_->commit(spool_batch_)) {
            break;
        }
        left -= std::min(left, n);
    }
    // on an error what is left is replayed: duplicates the script skips and counts
}

void Delivery::keep_read(size_t slot, std::string_view live_read) noexcept {
    read_of_[slot] = 0;
    if (live_read.empty() || live_read.size() > kMaxLiveEditBytes || free_reads_.empty()) {
        return;  // the pool's strings stay under kMaxLiveEditBytes
    }
    const uint32_t k = free_reads_.back();
    try {
        reads_[k].assign(live_read.data(), live_read.size());
    } catch (const std::bad_alloc&) {
        return;  // the event goes without: the script edits the map
    }
    free_reads_.pop_back();
    read_of_[slot] = k + 1;
}

std::string_view Delivery::read_at(size_t slot) const noexcept {
    return read_of_[slot] != 0 ? std::string_view(reads_[read_of_[slot] - 1]) : std::string_view();
}

bool Delivery::enqueue(std::string_view blob, const LiveFacts* facts,
                       std::string_view live_read) noexcept {
    if (queued() == ring_.size()) {
        spool_queue();
    }
    if (queued() == ring_.size()) {
        counts_.dropped++;
        counts_.queue_full_dropped++;
        if (count_ == 0) {
            return false;  // everything in memory is in flight: the new one goes
        }
        pop_front();  // the oldest waiting one goes
    }
    if (count_ == 0) {
        // Nothing waits: start again at the ring's first slots, whose strings and facts are
        // still in the cache; walking on would touch a cold slot per event (1 MB of them at
        // the default queue of 32,768), as every batch leaves the ring empty under load.
        head_ = 0;
    }
    const size_t slot = (head_ + count_) % ring_.size();
    std::string& s = ring_[slot];
    if (s.capacity() < blob.size() && !spares_.empty()) {
        s.swap(spares_.back());
        spares_.pop_back();
    }
    try {
        s.assign(blob.data(), blob.size());
    } catch (const std::bad_alloc&) {
        counts_.dropped++;
        return false;
    }
    carried_[slot] = facts != nullptr && facts_[slot].pack(*facts, blob) ? 1 : 0;
    keep_read(slot, live_read);
    count_++;
    counts_.emitted++;
    return count_ >= options_.batch_events && state_ == Flight::kNone;
}

bool Delivery::replay(Spool* spool, Flight flight) noexcept {
    if (!spool->peek(options_.batch_events, options_.batch_bytes, &spool_batch_)) {
        return false;
    }
    batch_.reset(replay_live_);
    for (std::string_view rec : spool_batch_.records()) {
        if (!batch_.add(rec)) {
            counts_.invalid++;
        }
    }
    if (batch_.events() == 0) {
        (void)spool->commit(spool_batch_);  // nothing deliverable in it: consumed
        return false;
    }
    if (!batch_.finish()) {
        return false;
    }
    state_ = flight;
    return true;
}

// Moves up to a batch of events from the ring into sending_ (so enqueue may drop the oldest
// waiting event without touching what the batch views) and builds the command over them.
DeliveryStep Delivery::send_queue() noexcept {
    size_t bytes = 0;
    batch_.reset(options_.live);
    while (count_ > 0 && sending_count_ < sending_.size() && bytes < options_.batch_bytes) {
        std::string& slot = sending_[sending_count_];
        std::swap(slot, at(0));
        LiveFacts carried;
        if (carried_[head_] != 0) {
            carried = facts_[head_].unpack(slot);
        }
        if (!batch_.add(slot, carried_[head_] != 0 ? &carried : nullptr, read_at(head_))) {
            std::swap(slot, at(0));
            break;
        }
        bytes += slot.size() + read_at(head_).size();  // the edit rides in the batch too
        pop_front();
        sending_count_++;
    }
    if (sending_count_ == 0) {
        // the head is not an event the script takes: drop it, go on
        counts_.invalid++;
        pop_front();
        return DeliveryStep::kRetry;
    }
    if (!batch_.finish()) {
        requeue_sending();
        return DeliveryStep::kRetry;
    }
    state_ = Flight::kQueue;
    cut_ = batch_.full();
    return DeliveryStep::kSend;
}

DeliveryStep Delivery::next(bool redis_ready) noexcept {
    if (state_ != Flight::kNone) {
        return DeliveryStep::kBusy;
    }
    cut_ = false;
    if (!redis_ready) {
        spool_queue();  // down or backed up: keep the order, free the memory
        return DeliveryStep::kIdle;
    }
    if (spool_pending()) {
        spool_queue();
        if (replay(spool_.get(), Flight::kSpool)) {
            return DeliveryStep::kSend;
        }
        if (spool_pending()) {
            return DeliveryStep::kRetry;
        }
    }
    if (count_ > 0) {
        return send_queue();
    }
    if (adopted_) {
        if (replay(adopted_.get(), Flight::kAdopted)) {
            return DeliveryStep::kSend;
        }
        if (adopted_->empty()) {
            release_adopted();
        }
    }
    return DeliveryStep::kIdle;
}

void Delivery::not_sent() noexcept {
    if (state_ == Flight::kQueue) {
        requeue_sending();
    }
    // a peeked spool batch stays peeked: the next peek returns it again
    state_ = Flight::kNone;
    spool_queue();
}

void Delivery::failed() noexcept {
    if (state_ == Flight::kNone) {
        return;
    }
    counts_.failed_batches++;
    failures_++;
    not_sent();
}

uint64_t Delivery::retry_delay_ms(uint64_t base_ms, uint64_t cap_ms) const noexcept {
    if (failures_ == 0) {
        return 0;
    }
    uint64_t delay = std::max<uint64_t>(base_ms, 1);
    for (uint32_t i = 1; i < failures_ && delay < cap_ms; i++) {
        delay *= 2;
    }
    return std::min(delay, cap_ms);
}

void Delivery::answered(const LiveResult* results, size_t n) noexcept {
    if (state_ == Flight::kNone) {
        return;
    }
    size_t sent = batch_.events();
    if (n != sent || (n > 0 && results == nullptr)) {
        failed();
        return;
    }
    for (size_t i = 0; i < n; i++) {
        switch (results[i]) {
            case LiveResult::kApplied:
                counts_.flushed++;
                break;
            case LiveResult::kDuplicate:
                counts_.duplicates++;
                break;
            case LiveResult::kInvalid:
                counts_.invalid++;
                break;
        }
    }
    counts_.batches++;
    counts_.batch_events += sent;
    counts_.edit_events += batch_.edited_events();
    failures_ = 0;

    Spool* replayed = state_ == Flight::kSpool     ? spool_.get()
                      : state_ == Flight::kAdopted ? adopted_.get()
                                                   : nullptr;
    if (state_ == Flight::kQueue && flight_spooled_ > 0) {
        skip_flight_copies();
    }
    state_ = Flight::kNone;
    sending_count_ = 0;
    if (replayed != nullptr && replayed->commit(spool_batch_)) {
        counts_.replayed += spool_batch_.records().size();
    }
    if (adopted_ && adopted_->empty()) {
        release_adopted();
    }
}

// Replayed to the end: an orphan's directory is removed, so no worker opens it again.
void Delivery::release_adopted() noexcept {
    if (remove_empty_spool(std::move(adopted_))) {
        counts_.orphans_removed++;
    }
    adopted_.reset();
}

uint64_t Delivery::drain_at_exit() noexcept {
    // the batch in flight may or may not have been applied: spooled again, a replay is a
    // duplicate the script skips
    if (state_ == Flight::kQueue) {
        requeue_sending();
    }
    state_ = Flight::kNone;
    spool_queue();
    uint64_t dropped = count_;
    counts_.dropped += dropped;
    head_ = 0;
    count_ = 0;
    return dropped;
}

DeliveryCounts Delivery::take_counts() noexcept {
    DeliveryCounts c = counts_;
    counts_ = DeliveryCounts{};
    return c;
}

uint64_t Delivery::spooled() const noexcept {
    uint64_t n = 0;
    if (spool_) {
        n += spool_->stats().pending_records;
    }
    if (adopted_) {
        n += adopted_->stats().pending_records;
    }
    return n;
}

bool Delivery::backlog() const noexcept {
    return queued() > 0 || spool_pending() || adopted_ != nullptr;
}

bool Delivery::flush_again() const noexcept {
    return spool_pending() || adopted_ != nullptr || count_ >= options_.batch_events ||
           (cut_ && count_ > 0);
}

}  // namespace tailor
