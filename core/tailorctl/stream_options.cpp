// stream_options: the command line of a command over the event stream.
#include "stream_options.h"

#include "stream_keys.h"

namespace tailorctl {

bool parse_stream_options(const Args& args, RedisOptions* redis, long long* shards,
                          const StreamOptionValue& take_value,
                          const StreamOptionSwitch& take_switch) {
    for (size_t i = 1; i < args.size(); i++) {
        std::string_view flag = args[i];
        bool bad = false;
        if (parse_redis_option(args, &i, redis, &bad) ||
            parse_shards_option(args, &i, shards, &bad)) {
            if (bad) {
                return false;
            }
            continue;
        }
        if (take_switch && take_switch(flag)) {
            continue;
        }
        if (i + 1 >= args.size()) {
            return false;
        }
        if (!take_value(flag, std::string(args[++i]))) {
            return false;
        }
    }
    return true;
}

}  // namespace tailorctl
