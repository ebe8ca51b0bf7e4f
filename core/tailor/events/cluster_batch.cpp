// ClusterBatch: a batch split by visitor slot (live) and by stream shard (stream).
#include "tailor/events/cluster_batch.h"

#include "tailor/events/stream_shard.h"
#include "tailor/store/cluster_slots.h"

namespace tailor {

bool ClusterBatch::build(const LiveBatch& batch, const LiveConfig& config,
                         uint32_t shards) noexcept {
    batch_ = &batch;
    shards_ = shards == 0 ? 1 : shards;
    live_used_ = 0;
    streams_used_ = 0;
    try {
        config_ = config;
        config_.append_to_stream = false;
        if (slot_part_.empty()) {
            slot_part_.assign(kClusterSlotCount, -1);
        }
        for (uint16_t s : slots_used_) {
            slot_part_[s] = -1;
        }
        slots_used_.clear();
        const size_t n = batch.events();
        live_bytes_.assign(n, '-');
        results_.assign(n, LiveResult::kInvalid);

        for (size_t i = 0; i < n; ++i) {
            const LiveBatch::EventView e = batch.event(i);
            const uint16_t slot = cluster_key_slot(e.vid);
            int32_t at = slot_part_[slot];
            if (at < 0) {
                if (live_used_ == live_.size()) {
                    live_.push_back(std::make_unique<Part>());
                }
                Part& p = *live_[live_used_];
                p.batch.reset(config_);
                p.events.clear();
                p.route = live_key(e.vid);
                at = static_cast<int32_t>(live_used_++);
                slot_part_[slot] = at;
                slots_used_.push_back(slot);
            }
            Part& p = *live_[static_cast<size_t>(at)];
            if (p.batch.add(e.blob)) {
                p.events.push_back(i);
            }  // else it stays '-': invalid (Delivery's batch took it, so it cannot happen)
        }
        for (size_t k = 0; k < live_used_; ++k) {
            if (!live_[k]->batch.finish()) {
                return false;
            }
        }
        return true;
    } catch (...) {
        return false;
    }
}

bool ClusterBatch::live_answered(size_t i, std::string_view reply) noexcept {
    const Part& p = *live_[i];
    if (reply.size() != p.events.size()) {
        return false;
    }
    for (size_t k = 0; k < reply.size(); ++k) {
        live_bytes_[p.events[k]] = reply[k];
    }
    return true;
}

bool ClusterBatch::build_streams() noexcept {
    try {
        const uint64_t maxlen = stream_shard_maxlen(config_.stream.maxlen, shards_);
        shard_part_.assign(shards_, -1);
        const size_t n = live_bytes_.size();
        for (size_t i = 0; i < n; ++i) {
            const char c = live_bytes_[i];
            results_[i] = c == 'x' ? LiveResult::kDuplicate : live_result_of(c);
            if (c != '1' && c != '0') {
                continue;  // invalid, or an erased visitor's: not appended
            }
            const LiveBatch::EventView e = batch_->event(i);
            const uint32_t shard = stream_shard_of(e.vid, shards_);
            int32_t at = shard_part_[shard];
            if (at < 0) {
                if (streams_used_ == streams_.size()) {
                    streams_.push_back(std::make_unique<Shard>());
                }
                Shard& s = *streams_[streams_used_];
                s.append.reset(stream_shard_key(config_.stream.key, shard), maxlen,
                               config_.ttl_seconds);
                s.events.clear();
                at = static_cast<int32_t>(streams_used_++);
                shard_part_[shard] = at;
            }
            Shard& s = *streams_[static_cast<size_t>(at)];
            if (!s.append.add(e.type, e.vid, e.src, e.seq, e.blob)) {
                return false;
            }
            s.events.push_back(i);
        }
        for (size_t k = 0; k < streams_used_; ++k) {
            if (!streams_[k]->append.finish()) {
                return false;
            }
        }
        return true;
    } catch (...) {
        return false;
    }
}

bool ClusterBatch::stream_answered(size_t i, std::string_view reply) noexcept {
    const Shard& s = *streams_[i];
    if (reply.size() != s.events.size()) {
        return false;
    }
    for (size_t k = 0; k < reply.size(); ++k) {
        results_[s.events[k]] = reply[k] == '1' ? LiveResult::kApplied : LiveResult::kDuplicate;
    }
    return true;
}

}  // namespace tailor
