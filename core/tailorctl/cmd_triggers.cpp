// tailorctl triggers run: the reference email trigger evaluator (docs/triggers.md).
//
//   tailorctl triggers run --redis HOST:PORT [--group G] [--consumer C] [--config FILE]
//                          [--stream KEY] [--shards N] [--now-ms MS] [--once]
//
// Reads the event stream with a consumer group (a sharded stream, Redis Cluster: the group on
// each shard, each read and acknowledged on its own; stream_keys.h), folds each event into the
// visitor's trigger state (tailor/triggers/apply.h), and at each visitor's
// check time decides its triggers (tailor/triggers/fire.h), appending the
// ones that fire to `tailor:triggers`. This file only does I/O: every
// decision is in core.
//
// Delivery: an event's state is written, together with its id in the
// visitor's dedup set, by one script on the visitor's slot, and only then
// acknowledged (XACK). A crash before the write redelivers the event; a crash
// after it redelivers an event the dedup set then skips. A record is appended
// before its "decided" marker is written, so a crash between the two sends
// it again with the same deterministic `id` (the connector's idempotency
// key): at least once, never lost.
//
// The clock: --now-ms, else TAILOR_NOW_MS, else the system clock.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cmd_triggers.h"
#include "stream_keys.h"
#include "stream_options.h"
#include "tailor/events/event.h"
#include "tailor/store/keys.h"
#include "tailor/triggers/apply.h"

namespace tailorctl {

namespace {

using nlohmann::ordered_json;

int usage_triggers() {
    std::fprintf(
        stderr,
        "usage: tailorctl triggers run %s [--group G] [--consumer C] [--config FILE]\n"
        "                              [--stream KEY] [--shards N] [--now-ms MS] [--once]\n",
        kRedisUsage);
    return kExitUsage;
}

int64_t clock_now(const TriggerOptions& opts) {
    if (opts.now_ms) {
        return *opts.now_ms;
    }
    if (const char* env = std::getenv("TAILOR_NOW_MS")) {
        return std::strtoll(env, nullptr, 10);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

void print_counts(const TriggerCounts& c) {
    ordered_json j;
    j["events"] = c.events;
    j["duplicates"] = c.duplicates;
    j["invalid"] = c.invalid;
    j["erased"] = c.erased;
    j["fired"] = c.fired;
    j["suppressed"] = c.suppressed;
    std::printf("%s\n", j.dump().c_str());
    std::fflush(stdout);
}

}  // namespace

bool TriggerEvaluator::ensure_group() {
    std::optional<std::vector<std::string>> keys = stream_keys(*conn_, opts_.stream, opts_.shards);
    if (!keys) {
        return false;
    }
    keys_ = std::move(*keys);
    for (const std::string& key : keys_) {
        auto r = conn_->command({"XGROUP", "CREATE", key, opts_.group, "0", "MKSTREAM"});
        if (!r) {
            return false;
        }
        if (r->type == Reply::Type::kError && r->str.rfind("BUSYGROUP", 0) != 0) {
            std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
            return false;
        }
    }
    return true;
}

long long TriggerEvaluator::read_batch(const std::string& from, bool block) {
    long long total = 0;
    for (const std::string& key : keys_) {
        long long n = read_key(key, from, block && keys_.size() == 1);
        if (n < 0) {
            return -1;
        }
        total += n;
    }
    if (total == 0 && block && keys_.size() > 1) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return total;
}

// One key's batch (a visitor's events are all in one shard, so its state sees them in order).
long long TriggerEvaluator::read_key(const std::string& key, const std::string& from, bool block) {
    std::vector<std::string> argv = {"XREADGROUP",   "GROUP", opts_.group,
                                     opts_.consumer, "COUNT", "200"};
    if (block) {
        argv.insert(argv.end(), {"BLOCK", "1000"});
    }
    argv.insert(argv.end(), {"STREAMS", key, from});
    auto r = conn_->command(argv);
    if (!r) {
        return -1;
    }
    if (r->type == Reply::Type::kError) {
        std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
        return -1;
    }
    if (r->type != Reply::Type::kArray || r->elements.empty() ||
        r->elements[0].elements.size() != 2) {
        return 0;
    }
    const Reply& entries = r->elements[0].elements[1];
    // one XACK for the batch, after every entry's state is written: a
    // crash before it redelivers the batch, which the dedup sets absorb
    std::vector<std::string> ack = {"XACK", key, opts_.group};
    std::vector<tailor::DecodedEvent> events;  // for waves, on a single Redis
    for (const Reply& entry : entries.elements) {
        if (entry.elements.size() != 2) {
            continue;
        }
        ack.push_back(entry.elements[0].str);
        if (!conn_->cluster()) {
            const std::string* blob = field(entry.elements[1], "e");
            std::optional<tailor::DecodedEvent> e;
            if (blob != nullptr) {
                e = tailor::decode_event(*blob);
            }
            if (e) {
                events.push_back(std::move(*e));
            } else {
                counts_.invalid++;  // not an event (or trimmed away): nothing to apply
            }
            continue;
        }
        if (!process_entry(entry.elements[0].str, entry.elements[1])) {
            return -1;
        }
    }
    if (!events.empty() && !apply_in_waves(std::move(events))) {
        return -1;
    }
    if (ack.size() > 3 && !ok(conn_->command(ack), Reply::Type::kInteger)) {
        return -1;
    }
    return static_cast<long long>(entries.elements.size());
}

const std::string* TriggerEvaluator::field(const Reply& kv, std::string_view name) {
    for (size_t i = 0; i + 1 < kv.elements.size(); i += 2) {
        if (kv.elements[i].str == name) {
            return &kv.elements[i + 1].str;
        }
    }
    return nullptr;
}

bool TriggerEvaluator::process_entry(const std::string& /*entry*/, const Reply& kv) {
    const std::string* blob = field(kv, "e");
    std::optional<tailor::DecodedEvent> e;
    if (blob != nullptr) {
        e = tailor::decode_event(*blob);
    }
    if (!e) {
        counts_.invalid++;  // not an event (or trimmed away): nothing to apply
        return true;
    }
    return process_event(*e);
}

bool TriggerEvaluator::process_event(const tailor::DecodedEvent& e) {
    std::optional<tailor::TriggerState> loaded = load_state(e.vid);
    if (!loaded) {
        return false;
    }
    tailor::TriggerState st = std::move(*loaded);
    tailor::ApplyOutcome out = tailor::apply_trigger_event(e, &st);
    if (!out.link_prev.empty()) {
        cache_.erase(out.link_prev);
        // idempotent: a redelivered Identify writes the same link
        auto r = conn_->command(
            {"HSET", tailor::visitor_key(out.link_prev, tailor::VisitorKeyKind::kTriggers), "into",
             e.vid});
        if (!ok(r, Reply::Type::kInteger)) {
            return false;
        }
    }
    int w = write_state(e.vid, st, e.id, tailor::next_trigger_check_ms(st, config_, e.ts_ms));
    if (w < 0) {
        return false;
    }
    counted(w);
    return true;
}

void TriggerEvaluator::counted(int written) {
    counts_.events++;
    if (written == 0) {
        counts_.duplicates++;
    } else if (written == 2) {
        counts_.erased++;
    }
    if (exit_before_ack_ > 0 && counts_.events >= exit_before_ack_) {
        std::fflush(stdout);
        _exit(3);  // tests: a crash between the state write and the ack
    }
}

int run_triggers(const Args& args) {
    if (args.empty() || args[0] != "run") {
        return usage_triggers();
    }
    TriggerOptions opts;
    opts.redis = redis_options_from_env();
    auto take_switch = [&opts](std::string_view a) {
        if (a != "--once") {
            return false;
        }
        opts.once = true;
        return true;
    };
    auto take_value = [&opts](std::string_view a, const std::string& v) {
        if (a == "--group") {
            opts.group = v;
        } else if (a == "--consumer") {
            opts.consumer = v;
        } else if (a == "--stream") {
            opts.stream = v;
        } else if (a == "--config") {
            opts.config_file = v;
        } else if (a == "--now-ms") {
            char* end = nullptr;
            long long n = std::strtoll(v.c_str(), &end, 10);
            if (v.empty() || *end != '\0' || n <= 0) {
                return false;
            }
            opts.now_ms = n;
        } else {
            return false;
        }
        return true;
    };
    if (!parse_stream_options(args, &opts.redis, &opts.shards, take_value, take_switch) ||
        opts.redis.address.empty()) {
        return usage_triggers();
    }
    tailor::TriggerConfig config;
    if (!opts.config_file.empty()) {
        std::ifstream in(opts.config_file);
        if (!in) {
            std::fprintf(stderr, "tailorctl: cannot read %s\n", opts.config_file.c_str());
            return kExitFailure;
        }
        std::stringstream text;
        text << in.rdbuf();
        std::string error;
        if (!tailor::parse_trigger_config(text.str(), &config, &error)) {
            std::fprintf(stderr, "tailorctl: %s: %s\n", opts.config_file.c_str(), error.c_str());
            return kExitFailure;
        }
    }

    RedisClient conn;
    if (!conn.connect(opts.redis)) {
        return kExitFailure;
    }
    TriggerEvaluator ev(&conn, opts, config);
    if (!ev.ensure_group()) {
        return kExitFailure;
    }
    // this consumer's entries delivered before a restart and never acknowledged
    for (;;) {
        long long n = ev.read_batch("0", false);
        if (n < 0) {
            return kExitFailure;
        }
        if (n == 0) {
            break;
        }
    }
    for (;;) {
        long long n = ev.read_batch(">", !opts.once);
        if (n < 0) {
            return kExitFailure;
        }
        if (n > 0 && opts.once) {
            continue;  // drain what is pending before checking what is due
        }
        if (!ev.fire_due(clock_now(opts))) {
            return kExitFailure;
        }
        if (opts.once) {
            break;
        }
    }
    print_counts(ev.counts());
    return kExitOk;
}

}  // namespace tailorctl
