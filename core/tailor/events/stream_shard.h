// StreamShards: the event stream's layout over several keys (Redis Cluster), and which shard a
// visitor's events go to.
//
// One stream key is one node's bottleneck in a cluster, and a script may touch one slot only.
// With `tailor_events_stream_shards N` the stream is N keys `<stream>:{0}` ... `<stream>:{N-1}`:
// the hash tag is the shard number, so each shard is its own slot (on whatever node serves it),
// and its dedup watermarks `<stream>:{i}:seq:<producer>` share that slot. A visitor's events all
// go to one shard (its slot mod N), so a consumer reading a shard sees each of its visitors'
// events in the order they were delivered. The count is published at `<stream>:shards` for
// consumers (tailorctl finds the shards there). docs/redis.md: "The event stream in a cluster".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tailor {

// kMaxStreamShards: the directive's upper bound (a consumer reads each shard with its own
// command).
inline constexpr uint32_t kMaxStreamShards = 1024;

// stream_shard_key
//
// Example:
//   stream_shard_key("tailor:events", 3) == "tailor:events:{3}"
[[nodiscard]] std::string stream_shard_key(std::string_view stream, uint32_t shard);

// stream_shards_key
//
// Where the shard count is published.
//
// Example:
//   stream_shards_key("tailor:events") == "tailor:events:shards"
[[nodiscard]] std::string stream_shards_key(std::string_view stream);

// stream_shard_of
//
// The shard of a visitor's events: the Redis Cluster slot of its keys (the vid is their hash
// tag), mod `shards`; 0 when shards is 0 or 1.
//
// Example:
//   stream_shard_of("abc", 1) == 0
[[nodiscard]] uint32_t stream_shard_of(std::string_view vid, uint32_t shards) noexcept;

// stream_shard_maxlen
//
// Each shard's `MAXLEN ~`, so that all of them together hold about `maxlen` entries (0: none).
//
// Example:
//   stream_shard_maxlen(1000000, 8) == 125000
[[nodiscard]] uint64_t stream_shard_maxlen(uint64_t maxlen, uint32_t shards) noexcept;

}  // namespace tailor
