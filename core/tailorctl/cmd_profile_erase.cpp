// tailorctl profile erase: the right to be forgotten.
//
//   tailorctl profile erase VID --redis HOST:PORT [--redis-user U] [--redis-password P]
//
// Deletes every key of the visitor (store/keys.h) and prints how many keys
// existed. Stream entries are not rewritten: they age out under MAXLEN, and
// the bridge forwards the erase to the email platform (docs/events.md).
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "redis_client.h"
#include "tailor/store/keys.h"

namespace tailorctl {

int run_profile_erase(const Args& args) {
    std::string vid;
    RedisOptions redis = redis_options_from_env();
    bool bad = false;
    for (size_t i = 0; i < args.size() && !bad; i++) {
        if (parse_redis_option(args, &i, &redis, &bad)) {
            continue;
        } else if (vid.empty() && !args[i].empty() && args[i][0] != '-') {
            vid = std::string(args[i]);
        } else {
            vid.clear();
            break;
        }
    }
    if (vid.empty() || redis.address.empty() || bad) {
        std::fprintf(stderr, "usage: tailorctl profile erase VID %s\n", kRedisUsage);
        return kExitUsage;
    }

    // one visitor's keys share a slot: one DEL, on the node that holds them
    RedisClient conn;
    if (!conn.connect(redis)) {
        return kExitFailure;
    }
    std::vector<std::string> del = {"DEL"};
    for (tailor::VisitorKeyKind kind : tailor::kVisitorKeyKinds) {
        del.push_back(tailor::visitor_key(vid, kind));
    }
    std::optional<Reply> r = conn.command(del);
    if (!r || r->type != Reply::Type::kInteger) {
        std::fprintf(stderr, "tailorctl: redis: %s\n",
                     r && r->type == Reply::Type::kError ? r->str.c_str() : "no reply");
        return kExitFailure;
    }
    std::printf("erased %lld keys of visitor %s\n", r->integer, vid.c_str());
    return kExitOk;
}

}  // namespace tailorctl
