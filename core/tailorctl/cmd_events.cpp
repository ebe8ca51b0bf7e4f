// tailorctl events tail: the operator's view of the event stream.
//
//   tailorctl events tail [--type T] [--vid V] [--from ID] [--count N] [--stream KEY] [--shards N]
//                         [--format json|klaviyo|segment]
//                         --redis HOST:PORT [--redis-user U] [--redis-password P]
//
// tail prints one JSON object per event (decoded with decode_event, plus the
// stream entry id as "entry"; with --format klaviyo the Events API body, with
// --format segment the Segment message, both from tailor/triggers/forward.h), following new entries
// with XREAD BLOCK until interrupted, or until --count events were printed. --from 0 starts at the
// oldest entry (default: only new ones). --type and --vid filter on the plain
// fields beside the blob, so nothing is decoded for entries that do not match.
//
// Redis is spoken to with hiredis (redis_client.h), a cluster included: XREAD goes to the
// stream's node. A sharded stream (Redis Cluster: `<stream>:{i}`, the count at
// `<stream>:shards`, or --shards N) is read shard by shard, each round's entries merged by id.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "redis_client.h"
#include "stream_keys.h"
#include "stream_options.h"
#include "tailor/events/event.h"
#include "tailor/triggers/forward.h"

namespace tailorctl {

namespace {

using nlohmann::ordered_json;

// --- events tail -----------------------------------------------------------------

ordered_json event_json(const std::string& entry, const tailor::DecodedEvent& e) {
    ordered_json j;
    j["entry"] = entry;
    j["id"] = e.id;
    j["type"] = e.name;
    j["vid"] = e.vid;
    j["ts"] = e.ts_ms;
    j["path"] = e.path;
    if (!e.utm_source.empty())
        j["utm_source"] = e.utm_source;
    if (!e.utm_medium.empty())
        j["utm_medium"] = e.utm_medium;
    if (!e.utm_campaign.empty())
        j["utm_campaign"] = e.utm_campaign;
    j["ref"] = e.referrer_class;
    if (!e.referrer_host.empty())
        j["ref_host"] = e.referrer_host;
    j["device"] = e.device;
    if (!e.exposures.empty()) {
        ordered_json x = ordered_json::array();
        for (const auto& ex : e.exposures) {
            x.push_back({ex.rule, ex.experiment, ex.variant});
        }
        j["exp"] = x;
    }
    auto put = [](ordered_json* o, const tailor::DecodedProperty& prop) {
        if (!prop.is_number) {
            (*o)[prop.name] = prop.text;
        } else if (prop.is_integer) {
            (*o)[prop.name] = prop.integer;
        } else {
            (*o)[prop.name] = prop.number;
        }
    };
    if (!e.properties.empty() || !e.products.empty()) {
        ordered_json p = ordered_json::object();
        for (const auto& prop : e.properties) {
            put(&p, prop);
        }
        if (!e.products.empty()) {
            // the upstream event header's products[] lines
            ordered_json lines = ordered_json::array();
            for (const auto& line : e.products) {
                ordered_json l = ordered_json::object();
                for (const auto& prop : line) {
                    put(&l, prop);
                }
                lines.push_back(l);
            }
            p["products"] = lines;
        }
        j["props"] = p;
    }
    if (!e.producer.empty()) {
        j["src"] = e.producer;
        j["seq"] = e.seq;
    }
    if (!e.previous_vid.empty())
        j["prev"] = e.previous_vid;
    return j;
}

const std::string* field(const Reply& kv, std::string_view name) {
    for (size_t i = 0; i + 1 < kv.elements.size(); i += 2) {
        if (kv.elements[i].str == name) {
            return &kv.elements[i + 1].str;
        }
    }
    return nullptr;
}

int usage_events() {
    std::fprintf(stderr,
                 "usage: tailorctl events tail [--type T] [--vid V] [--from ID] [--count N] "
                 "[--stream KEY] [--shards N] [--format json|klaviyo|segment] %s\n",
                 kRedisUsage);
    return kExitUsage;
}

}  // namespace

int run_events(const Args& args) {
    if (!args.empty() && args[0] == "emit") {
        return run_events_emit(args);
    }
    if (args.empty() || args[0] != "tail") {
        return usage_events();
    }
    RedisOptions redis = redis_options_from_env();
    std::string stream = "tailor:events";
    std::string from = "$";
    std::string type;
    std::string vid;
    long long count = -1;
    long long shards = 0;  // 0: as <stream>:shards says
    std::string format = "json";
    auto take_value = [&](std::string_view a, const std::string& v) {
        if (a == "--stream") {
            stream = v;
        } else if (a == "--from") {
            from = v;
        } else if (a == "--type") {
            type = v;
        } else if (a == "--format") {
            if (v != "json" && v != "klaviyo" && v != "segment") {
                return false;
            }
            format = v;
        } else if (a == "--vid") {
            vid = v;
        } else if (a == "--count") {
            count = std::strtoll(v.c_str(), nullptr, 10);
            return count > 0;
        } else {
            return false;
        }
        return true;
    };
    if (!parse_stream_options(args, &redis, &shards, take_value) || redis.address.empty()) {
        return usage_events();
    }

    RedisClient conn;
    if (!conn.connect(redis)) {
        return kExitFailure;
    }
    std::optional<std::vector<std::string>> keys = stream_keys(conn, stream, shards);
    if (!keys) {
        return kExitFailure;
    }
    // per key, the last entry read; with several shards "$" is resolved once, here (a
    // non-blocking XREAD of "$" never returns anything)
    std::vector<std::string> last(keys->size(), from);
    for (size_t k = 0; k < keys->size() && keys->size() > 1 && from == "$"; k++) {
        std::optional<Reply> r = conn.command({"XREVRANGE", (*keys)[k], "+", "-", "COUNT", "1"});
        if (!r) {
            return kExitFailure;
        }
        last[k] = r->type == Reply::Type::kArray && !r->elements.empty() &&
                          !r->elements[0].elements.empty()
                      ? r->elements[0].elements[0].str
                      : "0-0";
    }

    long long printed = 0;
    while (count < 0 || printed < count) {
        // one XREAD per key (a cluster refuses one over several slots); blocking only on a
        // single stream, else a short pause when every shard was empty
        std::vector<std::pair<std::string, Reply>> batch;
        for (size_t k = 0; k < keys->size(); k++) {
            std::vector<std::string> argv = {"XREAD", "COUNT", "500"};
            if (keys->size() == 1) {
                argv.insert(argv.end(), {"BLOCK", "1000"});
            }
            argv.insert(argv.end(), {"STREAMS", (*keys)[k], last[k]});
            std::optional<Reply> r = conn.command(argv);
            if (!r) {
                return kExitFailure;
            }
            if (r->type == Reply::Type::kError) {
                std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
                return kExitFailure;
            }
            if (r->type != Reply::Type::kArray || r->elements.empty() ||
                r->elements[0].elements.size() != 2) {
                continue;  // nothing new (or timed out): poll again
            }
            Reply& entries = r->elements[0].elements[1];  // [[stream, entries]]
            for (Reply& entry : entries.elements) {
                if (entry.elements.size() != 2) {
                    continue;
                }
                last[k] = entry.elements[0].str;
                batch.emplace_back(last[k], std::move(entry.elements[1]));
            }
        }
        if (batch.empty()) {
            if (keys->size() > 1) {
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
            continue;
        }
        if (keys->size() > 1) {
            std::stable_sort(batch.begin(), batch.end(), [](const auto& a, const auto& b) {
                return entry_id_less(a.first, b.first);
            });
        }
        for (const auto& item : batch) {
            const std::string& id = item.first;
            const Reply& kv = item.second;
            const std::string* t = field(kv, "type");
            const std::string* v = field(kv, "vid");
            if ((!type.empty() && (t == nullptr || *t != type)) ||
                (!vid.empty() && (v == nullptr || *v != vid))) {
                continue;
            }
            const std::string* blob = field(kv, "e");
            std::optional<tailor::DecodedEvent> e;
            if (blob != nullptr) {
                e = tailor::decode_event(*blob);
            }
            if (!e) {
                std::fprintf(stderr, "tailorctl: entry %s: not an event, skipped\n", id.c_str());
                continue;
            }
            if (format == "klaviyo") {
                std::printf("%s\n", tailor::klaviyo_event_json(*e).c_str());
            } else if (format == "segment") {
                std::printf("%s\n", tailor::segment_event_json(*e).c_str());
            } else {
                std::printf("%s\n", event_json(id, *e).dump().c_str());
            }
            std::fflush(stdout);
            if (count > 0 && ++printed >= count) {
                break;
            }
        }
    }
    return kExitOk;
}

}  // namespace tailorctl
