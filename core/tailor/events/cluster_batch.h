// ClusterBatch: one delivered batch split for a Redis Cluster, where a script may touch the
// keys of one slot only.
//
// A batch (LiveBatch, built by Delivery) holds many visitors' events. It goes in two phases:
//   1. live: one live-script call per visitor slot (append_to_stream off): each visitor's live
//      map is updated in its own slot, replays skipped per visitor, and the reply says per event
//      '1' new, '0' a replay, 'x' an erased visitor's, '-' invalid;
//   2. stream: every event that is not invalid or erased goes to its shard (stream_shard.h), one
//      StreamAppend per shard, which skips what that shard has from the producer already.
// A replay ('0' in phase 1) still goes to its shard: the batch that applied it may have failed
// before its stream phase, and the shard's watermark decides. So a batch that fails anywhere
// (a lost node, a MOVED not followed, a failover) is sent again whole, and each part of it is
// idempotent: nothing is applied or appended twice, nothing is lost.
//
// The glue sends each part routed by its route key (the cluster client follows MOVED/ASK) and
// reports each reply; any part without a usable reply fails the whole batch (Delivery::failed).
//
// Example:
//   ClusterBatch split;
//   split.build(delivery.batch(), config, shards);
//   for each i < split.live_parts(): send split.live(i) routed by split.live_route(i)
//   ... each reply: split.live_answered(i, bytes)
//   split.build_streams();
//   for each i < split.stream_parts(): send split.stream(i) routed by split.stream(i).key()
//   ... each reply: split.stream_answered(i, bytes)
//   delivery.answered(split.results().data(), split.results().size());
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/live.h"
#include "tailor/events/stream_append.h"

namespace tailor {

class ClusterBatch {
  public:
    // ClusterBatch::build
    //
    // Phase 1 from a finished batch (whose blobs must stay alive until the last reply):
    // `config` is the live config (its stream key is the shards' base), `shards` >= 1. False
    // when memory ran out (send nothing; the batch is not sent).
    [[nodiscard]] bool build(const LiveBatch& batch, const LiveConfig& config,
                             uint32_t shards) noexcept;

    [[nodiscard]] size_t live_parts() const noexcept { return live_used_; }
    [[nodiscard]] LiveBatch& live(size_t i) noexcept { return live_[i]->batch; }
    // a key in the part's slot (its first visitor's live key), to route by
    [[nodiscard]] std::string_view live_route(size_t i) const noexcept { return live_[i]->route; }

    // ClusterBatch::live_answered
    //
    // Part i's reply, one byte per event of the part; false when its length is wrong (then
    // the batch failed).
    [[nodiscard]] bool live_answered(size_t i, std::string_view reply) noexcept;

    // ClusterBatch::build_streams
    //
    // Phase 2, once every live part answered. False when memory ran out. stream_parts() may
    // be 0 (nothing to append): the batch is done.
    [[nodiscard]] bool build_streams() noexcept;

    [[nodiscard]] size_t stream_parts() const noexcept { return streams_used_; }
    [[nodiscard]] StreamAppend& stream(size_t i) noexcept { return streams_[i]->append; }

    // ClusterBatch::stream_answered
    //
    // Shard part i's reply, one byte per event of the part; false when its length is wrong.
    [[nodiscard]] bool stream_answered(size_t i, std::string_view reply) noexcept;

    // The batch's per-event results, in its order: the shard's verdict for what was sent to
    // one, else the live script's (an erased visitor's event is a duplicate: not applied).
    [[nodiscard]] const std::vector<LiveResult>& results() const noexcept { return results_; }

  private:
    struct Part {
        LiveBatch batch;
        std::vector<size_t> events;  // indexes into the batch
        std::string route;
    };
    struct Shard {
        StreamAppend append;
        std::vector<size_t> events;
    };

    const LiveBatch* batch_ = nullptr;
    LiveConfig config_;
    uint32_t shards_ = 1;

    std::vector<std::unique_ptr<Part>> live_;  // [0, live_used_) in use; the rest reused
    size_t live_used_ = 0;
    std::vector<int32_t> slot_part_;  // by slot: index into live_, -1: none yet
    std::vector<uint16_t> slots_used_;
    std::vector<char> live_bytes_;  // per event: the live script's byte

    std::vector<std::unique_ptr<Shard>> streams_;  // by shard number, [0, shards_)
    std::vector<int32_t> shard_part_;              // by shard: index into streams_, -1: none
    size_t streams_used_ = 0;

    std::vector<LiveResult> results_;
};

}  // namespace tailor
