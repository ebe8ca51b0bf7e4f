// StreamShards: shard key names and a visitor's shard.
#include "tailor/events/stream_shard.h"

#include "tailor/store/cluster_slots.h"

namespace tailor {

std::string stream_shard_key(std::string_view stream, uint32_t shard) {
    std::string key;
    key.reserve(stream.size() + 16);
    key.append(stream).append(":{").append(std::to_string(shard)).append("}");
    return key;
}

std::string stream_shards_key(std::string_view stream) {
    std::string key(stream);
    key.append(":shards");
    return key;
}

uint32_t stream_shard_of(std::string_view vid, uint32_t shards) noexcept {
    if (shards <= 1) {
        return 0;
    }
    // the slot of tailor:{<vid>}:live is the slot of <vid> itself
    return cluster_key_slot(vid) % shards;
}

uint64_t stream_shard_maxlen(uint64_t maxlen, uint32_t shards) noexcept {
    if (maxlen == 0 || shards <= 1) {
        return maxlen;
    }
    return (maxlen + shards - 1) / shards;
}

}  // namespace tailor
