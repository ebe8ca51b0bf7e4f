// stream_options: the one walk over the command line of a command that reads or writes the
// event stream (events tail, events emit, experiments report, triggers run).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "commands.h"
#include "redis_client.h"

namespace tailorctl {

// A command's own "--flag value" pair; false refuses it (an unknown flag, a bad value).
using StreamOptionValue = std::function<bool(std::string_view flag, const std::string& value)>;

// A command's own flag that stands alone (`--once`): true when `flag` is one, and taken.
using StreamOptionSwitch = std::function<bool(std::string_view flag)>;

// parse_stream_options
//
// Walks the arguments after the subcommand (args[0]). The Redis options go to *redis
// (parse_redis_option) and --shards to *shards (parse_shards_option); a flag `take_switch`
// takes stands alone; any other flag takes the next argument as its value and is handed to
// `take_value`. False, for the caller to print its usage, when a flag lacks its value,
// --shards is bad, or `take_value` refuses a pair. Call redis_options_from_env() first.
//
// Example:
//   {"tail", "--redis", "127.0.0.1:6379", "--count", "2"}: true, redis->address is
//   "127.0.0.1:6379" and take_value("--count", "2") was called (and returned true)
//   {"tail", "--count"}: false, take_value is never called
[[nodiscard]] bool parse_stream_options(const Args& args, RedisOptions* redis, long long* shards,
                                        const StreamOptionValue& take_value,
                                        const StreamOptionSwitch& take_switch = nullptr);

}  // namespace tailorctl
