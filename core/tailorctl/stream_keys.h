// stream_keys: the keys a consumer of the event stream reads. A Redis Cluster's stream is
// sharded (`<stream>:{0}` .. `<stream>:{N-1}`, tailor/events/stream_shard.h); the module
// publishes N at `<stream>:shards`. Every stream-reading command reads each shard with its own
// command (a cluster refuses one XREAD over keys of several slots).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "redis_client.h"

namespace tailorctl {

// stream_keys
//
// `shards` > 0 (--shards N): the N shard keys. 0: as `<stream>:shards` says, or the stream key
// itself when it says nothing. nullopt (and a message on stderr) when Redis did not answer.
//
// Example:
//   stream_keys(conn, "tailor:events", 2) == {"tailor:events:{0}", "tailor:events:{1}"}
std::optional<std::vector<std::string>> stream_keys(RedisClient& conn, const std::string& stream,
                                                    long long shards);

// parse_shards_option
//
// "--shards N" (1..1024): true when args[*i] is it (then *i is moved past N; a bad N sets *bad).
bool parse_shards_option(const Args& args, size_t* i, long long* shards, bool* bad);

// compare_entry_ids
//
// Orders two stream entry ids ("<ms>-<seq>") by time, for output merged from several shards.
bool entry_id_less(const std::string& a, const std::string& b);

}  // namespace tailorctl
