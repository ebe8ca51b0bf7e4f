// tailorctl events emit: appends one event in exactly the module's encoding (tests, backfills).
//
//   tailorctl events emit --type T --vid V [--ts MS] [--prop NAME=VALUE]... [--prev ID]
//                         [--exp RULE:EXPERIMENT:VARIANT]... [--device D] [--stream KEY] [--shards
//                         N]
//                         [--count N] --redis HOST:PORT
//
// --count N appends N such events (benchmarks), each with its own id, one
// millisecond apart, and prints the last id.
//
// The blob comes from core's encode_event and the entry from its XaddCommand, the
// code the module's glue calls, so a consumer tested on these entries reads the
// module's. Property types follow the directive's defaults (price, quantity,
// revenue... are numbers; NAME:number= or NAME:string= forces one). Prints the
// event id.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "redis_client.h"
#include "stream_keys.h"
#include "stream_options.h"
#include "tailor/events/stream_shard.h"
#include "tailor/events/event.h"

namespace tailorctl {

namespace {

int usage_emit() {
    std::fprintf(
        stderr,
        "usage: tailorctl events emit --type T --vid V [--ts MS] [--prop NAME=VALUE]... "
        "[--prev ID] [--exp RULE:EXPERIMENT:VARIANT]... [--device D] [--stream KEY] [--shards N] "
        "%s\n",
        kRedisUsage);
    return kExitUsage;
}

}  // namespace

int run_events_emit(const Args& args) {
    RedisOptions redis = redis_options_from_env();
    tailor::StreamConfig stream;
    std::string type;
    std::string vid;
    std::string prev;
    std::string device = "desktop";
    int64_t ts = 0;
    long long count = 1;
    long long shards = 0;  // 0: as <stream>:shards says
    std::vector<std::pair<std::string, std::string>> raw_props;
    std::vector<std::string> raw_exposures;
    auto take_value = [&](std::string_view a, const std::string& v) {
        if (a == "--type") {
            type = v;
        } else if (a == "--vid") {
            vid = v;
        } else if (a == "--prev") {
            prev = v;
        } else if (a == "--device") {
            device = v;
        } else if (a == "--stream") {
            stream.key = v;
        } else if (a == "--ts") {
            ts = std::strtoll(v.c_str(), nullptr, 10);
        } else if (a == "--count") {
            count = std::strtoll(v.c_str(), nullptr, 10);
            return count > 0;
        } else if (a == "--exp") {
            raw_exposures.push_back(v);
        } else if (a == "--prop") {
            size_t eq = v.find('=');
            if (eq == std::string::npos || eq == 0) {
                return false;
            }
            raw_props.emplace_back(v.substr(0, eq), v.substr(eq + 1));
        } else {
            return false;
        }
        return true;
    };
    if (!parse_stream_options(args, &redis, &shards, take_value) || redis.address.empty() ||
        type.empty() || vid.empty()) {
        return usage_emit();
    }
    if (ts <= 0) {
        ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    }
    std::optional<tailor::EventId> id = tailor::EventId::generate(ts);
    if (!id) {
        std::fprintf(stderr, "tailorctl: no random bytes for an event id\n");
        return kExitFailure;
    }
    tailor::Event e(*id);
    std::optional<tailor::EventType> known = tailor::parse_event_type(type);
    e.type = known ? *known : tailor::EventType::kCustom;
    e.name = type;
    e.vid = vid;
    e.ts_ms = ts;
    e.path = "/";
    e.previous_vid = prev;
    e.device = tailor::parse_device_class(device);
    std::vector<std::string> names;
    names.reserve(raw_props.size());
    std::vector<tailor::EventProperty> props;
    for (const auto& [name, value] : raw_props) {
        std::string n = name;
        tailor::PropertyKind kind;
        if (size_t colon = n.find(':'); colon != std::string::npos) {
            std::string forced = n.substr(colon + 1);
            n.resize(colon);
            kind =
                forced == "number" ? tailor::PropertyKind::kNumber : tailor::PropertyKind::kString;
        } else {
            kind = tailor::default_property_kind(n);
        }
        names.push_back(n);
        props.push_back({{}, value, kind});
    }
    for (size_t i = 0; i < props.size(); i++) {
        props[i].name = names[i];
    }
    std::vector<tailor::EventExposure> exposures;
    for (const std::string& x : raw_exposures) {
        size_t a = x.find(':');
        size_t b = a == std::string::npos ? a : x.find(':', a + 1);
        if (b == std::string::npos) {
            return usage_emit();
        }
        std::string_view view = x;
        exposures.push_back({view.substr(0, a), view.substr(a + 1, b - a - 1), view.substr(b + 1)});
    }
    e.exposures = exposures.data();
    e.exposure_count = exposures.size();
    e.properties = props.data();
    e.property_count = props.size();
    RedisClient conn;
    if (!conn.connect(redis)) {
        return kExitFailure;
    }
    // a sharded stream: the visitor's shard, as the module picks it
    std::optional<std::vector<std::string>> keys = stream_keys(conn, stream.key, shards);
    if (!keys) {
        return kExitFailure;
    }
    if (keys->size() > 1) {
        const auto n = static_cast<uint32_t>(keys->size());
        stream.key = (*keys)[tailor::stream_shard_of(vid, n)];
        stream.maxlen = tailor::stream_shard_maxlen(stream.maxlen, n);
    }
    std::string blob;
    for (long long n = 0; n < count; n++) {
        if (n > 0) {
            e.ts_ms = ts + n;
            id = tailor::EventId::generate(e.ts_ms);
            if (!id) {
                std::fprintf(stderr, "tailorctl: no random bytes for an event id\n");
                return kExitFailure;
            }
            e.id = *id;
        }
        blob.clear();
        if (tailor::encode_event(e, &blob).status != tailor::EncodeStatus::kOk) {
            std::fprintf(stderr, "tailorctl: the event does not encode (type, vid, ts?)\n");
            return kExitFailure;
        }
        tailor::XaddCommand cmd;
        cmd.build(stream,
                  tailor::event_type_name(e.type).empty() ? type : tailor::event_type_name(e.type),
                  vid, blob);
        std::vector<std::string> argv;
        for (int i = 0; i < cmd.argc(); i++) {
            argv.emplace_back(cmd.argv()[i], cmd.argvlen()[i]);
        }
        std::optional<Reply> r = conn.command(argv);
        if (!r || r->type != Reply::Type::kBulk) {
            std::fprintf(stderr, "tailorctl: XADD failed: %s\n", r ? r->str.c_str() : "no reply");
            return kExitFailure;
        }
    }
    std::printf("%s\n", std::string(id->text()).c_str());
    return kExitOk;
}

}  // namespace tailorctl
