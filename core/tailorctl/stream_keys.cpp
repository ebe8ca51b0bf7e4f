// stream_keys: the event stream's keys, sharded or not.
#include "stream_keys.h"

#include <cstdio>
#include <cstdlib>

#include "tailor/events/stream_shard.h"

namespace tailorctl {

std::optional<std::vector<std::string>> stream_keys(RedisClient& conn, const std::string& stream,
                                                    long long shards) {
    if (shards <= 0) {
        std::optional<Reply> r = conn.command({"GET", tailor::stream_shards_key(stream)});
        if (!r) {
            return std::nullopt;
        }
        if (r->type == Reply::Type::kError) {
            std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
            return std::nullopt;
        }
        if (r->type == Reply::Type::kBulk) {
            shards = std::strtoll(r->str.c_str(), nullptr, 10);
        }
    }
    std::vector<std::string> keys;
    if (shards <= 0 || shards > static_cast<long long>(tailor::kMaxStreamShards)) {
        keys.push_back(stream);
        return keys;
    }
    for (long long i = 0; i < shards; i++) {
        keys.push_back(tailor::stream_shard_key(stream, static_cast<uint32_t>(i)));
    }
    return keys;
}

bool parse_shards_option(const Args& args, size_t* i, long long* shards, bool* bad) {
    if (args[*i] != "--shards") {
        return false;
    }
    if (*i + 1 >= args.size()) {
        *bad = true;
        return true;
    }
    std::string v(args[++*i]);
    char* end = nullptr;
    *shards = std::strtoll(v.c_str(), &end, 10);
    *bad = v.empty() || *end != '\0' || *shards < 1 ||
           *shards > static_cast<long long>(tailor::kMaxStreamShards);
    return true;
}

bool entry_id_less(const std::string& a, const std::string& b) {
    auto parts = [](const std::string& id) {
        char* end = nullptr;
        unsigned long long ms = std::strtoull(id.c_str(), &end, 10);
        unsigned long long seq =
            (end != nullptr && *end == '-') ? std::strtoull(end + 1, nullptr, 10) : 0;
        return std::make_pair(ms, seq);
    };
    return parts(a) < parts(b);
}

}  // namespace tailorctl
