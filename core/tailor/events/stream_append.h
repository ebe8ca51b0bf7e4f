// StreamAppend: the script that appends a batch's events to one stream shard, each producer's
// events at most once, and its EVALSHA argv.
//
// In a Redis Cluster a batch is split (ClusterBatch): each visitor's live map is updated by the
// live script in the visitor's slot, and the events go to their shards with this script, one
// call per shard, which touches only the shard's slot: the stream key `<stream>:{i}` and the
// watermarks `<stream>:{i}:seq:<producer>` (the highest seq appended to this shard by that
// producer, with the live TTL). An event whose seq is not above its producer's watermark is a
// replay (a batch given up after Redis ran it, a failed batch sent again) and is skipped, as the
// single-Redis script does for its one stream. A producer delivers in seq order, and a shard
// gets a subsequence of that order, so the watermark holds per shard.
//
// KEYS  1 the shard, then one watermark key per producer in the batch
// ARGV  1 format "1", 2 maxlen (0: none), 3 ttl seconds, then per event: watermark key index
//       (0: no producer), seq ("": none), type, vid, blob
// Reply a string, one byte per event: '1' appended, '0' a replay (live_result_of reads it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

extern const std::string_view kStreamScript;

// stream_script_sha1
//
// The SHA-1 of kStreamScript in lower-case hex.
[[nodiscard]] std::string_view stream_script_sha1() noexcept;

// StreamAppend
//
// Example:
//   StreamAppend a;
//   a.reset("tailor:events:{3}", 125000, 7776000);
//   a.add("Page Viewed", vid, "host:12:ab", "42", blob);
//   a.finish();
//   send a.argv() routed by a.key(); reply: one byte per event
class StreamAppend {
  public:
    static constexpr size_t kFixedArgs = 3;
    static constexpr size_t kArgsPerEvent = 5;

    // Starts an empty batch for the shard `key`; keeps allocated capacity.
    void reset(std::string_view key, uint64_t maxlen, uint32_t ttl_seconds) noexcept;

    // Adds one event; the views must outlive the command's send. `src` and `seq` empty: no
    // dedup for it. False when memory ran out.
    [[nodiscard]] bool add(std::string_view type, std::string_view vid, std::string_view src,
                           std::string_view seq, std::string_view blob) noexcept;

    // Lays out the argv; false when memory ran out (then send nothing).
    [[nodiscard]] bool finish() noexcept;

    // After NOSCRIPT: the command becomes EVAL with the source.
    void use_eval() noexcept;

    [[nodiscard]] std::string_view key() const noexcept { return key_; }
    [[nodiscard]] size_t events() const noexcept { return events_.size(); }
    [[nodiscard]] int argc() const noexcept { return static_cast<int>(argv_.size()); }
    [[nodiscard]] const char** argv() noexcept { return argv_.data(); }
    [[nodiscard]] const size_t* argvlen() const noexcept { return argvlen_.data(); }

  private:
    struct Pending {
        std::string_view type, vid, src, seq, blob;
    };

    std::string key_;
    uint64_t maxlen_ = 0;
    uint32_t ttl_ = 0;
    std::vector<Pending> events_;
    std::string strings_;  // watermark keys and numbers
    std::vector<const char*> argv_;
    std::vector<size_t> argvlen_;
};

}  // namespace tailor
