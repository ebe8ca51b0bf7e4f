// tailorctl triggers run: the reference email trigger evaluator (docs/triggers.md).
//
//   tailorctl triggers run --redis HOST:PORT [--group G] [--consumer C] [--config FILE]
//                          [--stream KEY] [--now-ms MS] [--once]
//
// Reads the event stream with a consumer group, folds each event into the
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
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <string>
#include <string_view>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "redis_client.h"
#include "tailor/events/event.h"
#include "tailor/profile/decode.h"
#include "tailor/store/keys.h"
#include "tailor/store/script.h"
#include "tailor/triggers/apply.h"
#include "tailor/triggers/config.h"
#include "tailor/triggers/fire.h"

namespace tailorctl {

namespace {

using nlohmann::ordered_json;
using Fields = std::vector<std::pair<std::string, std::string>>;

// KEYS: state, dedup set, tombstone, and on a single Redis (not a cluster,
// where it lives in another slot) the schedule. ARGV: event id ("" at a
// check: no dedup), dedup ttl ms, state ttl ms, the visitor id, its next
// check time ("" for none), then the state's field/value pairs. Returns 1
// written, 0 a duplicate, 2 an erased visitor (nothing written). One script,
// so the schedule of a single Redis costs no round trip of its own.
constexpr const char* kWriteStateScript = R"lua(
if redis.call('EXISTS', KEYS[3]) == 1 then return 2 end
if ARGV[1] ~= '' and redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 0 end
redis.call('DEL', KEYS[1])
if #ARGV > 5 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 6))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if #KEYS == 4 then
  if ARGV[5] == '' then redis.call('ZREM', KEYS[4], ARGV[4])
  else redis.call('ZADD', KEYS[4], ARGV[5], ARGV[4]) end
end
if ARGV[1] ~= '' then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
)lua";

struct Options {
    RedisOptions redis;
    std::string group = "tailor-triggers";
    std::string consumer = "evaluator-1";
    std::string stream = "tailor:events";
    std::string config_file;
    std::optional<int64_t> now_ms;
    bool once = false;
};

struct Counts {
    long long events = 0;
    long long duplicates = 0;
    long long invalid = 0;
    long long erased = 0;
    std::map<std::string, long long> fired;
    std::map<std::string, long long> suppressed;
};

int usage_triggers() {
    std::fprintf(stderr,
                 "usage: tailorctl triggers run %s [--group G] [--consumer C] [--config FILE]\n"
                 "                              [--stream KEY] [--now-ms MS] [--once]\n",
                 kRedisUsage);
    return kExitUsage;
}

class Evaluator {
  public:
    Evaluator(RedisClient* conn, const Options& opts, const tailor::TriggerConfig& config)
        : conn_(conn), opts_(opts), config_(config) {
        if (const char* n = std::getenv("TAILOR_TRIGGERS_EXIT_BEFORE_ACK")) {
            exit_before_ack_ = std::strtoll(n, nullptr, 10);
        }
    }

    bool ensure_group() {
        auto r = conn_->command({"XGROUP", "CREATE", opts_.stream, opts_.group, "0", "MKSTREAM"});
        if (!r) {
            return false;
        }
        if (r->type == Reply::Type::kError && r->str.rfind("BUSYGROUP", 0) != 0) {
            std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
            return false;
        }
        return true;
    }

    // Reads one batch: `from` "0" re-reads this consumer's pending entries
    // (after a restart), ">" new ones. Returns the number of entries, -1 on error.
    long long read_batch(const std::string& from, bool block) {
        std::vector<std::string> argv = {"XREADGROUP",   "GROUP", opts_.group,
                                         opts_.consumer, "COUNT", "200"};
        if (block) {
            argv.insert(argv.end(), {"BLOCK", "1000"});
        }
        argv.insert(argv.end(), {"STREAMS", opts_.stream, from});
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
        std::vector<std::string> ack = {"XACK", opts_.stream, opts_.group};
        for (const Reply& entry : entries.elements) {
            if (entry.elements.size() != 2) {
                continue;
            }
            if (!process_entry(entry.elements[0].str, entry.elements[1])) {
                return -1;
            }
            ack.push_back(entry.elements[0].str);
        }
        if (ack.size() > 3 && !ok(conn_->command(ack), Reply::Type::kInteger)) {
            return -1;
        }
        return static_cast<long long>(entries.elements.size());
    }

    // Checks every visitor whose check time has come.
    bool fire_due(int64_t now) {
        for (int round = 0; round < 100000; round++) {
            auto r = conn_->command({"ZRANGEBYSCORE", std::string(tailor::kTriggerScheduleKey),
                                     "-inf", std::to_string(now), "LIMIT", "0", "200"});
            if (!ok(r, Reply::Type::kArray)) {
                return false;
            }
            if (r->elements.empty()) {
                return true;
            }
            for (const Reply& member : r->elements) {
                if (!check_visitor(member.str, now)) {
                    return false;
                }
            }
        }
        return true;
    }

    const Counts& counts() const { return counts_; }

  private:
    bool ok(const std::optional<Reply>& r, Reply::Type type) {
        if (!r) {
            return false;
        }
        if (r->type == Reply::Type::kError) {
            std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
            return false;
        }
        return r->type == type || (type == Reply::Type::kArray && r->type == Reply::Type::kNil);
    }

    // The states this process wrote last, so applying an event costs no
    // HGETALL: this process is the only writer of a visitor's full state
    // (one consumer per group, docs/triggers.md); every write it cannot
    // predict (a link, a cap list, a duplicate, an erase) drops the entry.
    std::optional<tailor::TriggerState> cached(const std::string& vid) {
        auto it = cache_.find(vid);
        if (it == cache_.end()) {
            return std::nullopt;
        }
        return it->second;
    }

    void remember(const std::string& vid, const tailor::TriggerState& st) {
        if (cache_.size() >= kMaxCachedStates) {
            cache_.clear();
        }
        cache_[vid] = st;
    }

    std::optional<tailor::TriggerState> load_state(const std::string& vid) {
        if (auto c = cached(vid)) {
            return c;
        }
        auto f = read_state(vid);
        if (!f) {
            return std::nullopt;
        }
        return tailor::trigger_state_from_fields(*f);
    }

    std::optional<Fields> read_state(const std::string& vid) {
        auto r = conn_->command(
            {"HGETALL", tailor::visitor_key(vid, tailor::VisitorKeyKind::kTriggers)});
        if (!ok(r, Reply::Type::kArray)) {
            return std::nullopt;
        }
        Fields f;
        for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
            f.emplace_back(r->elements[i].str, r->elements[i + 1].str);
        }
        return f;
    }

    // 1 written, 0 duplicate, 2 erased, -1 error.
    // Writes the state and its next check time. On a cluster the schedule
    // is written first, on its own: a crash between the two re-applies the
    // event on redelivery, while the other order could lose the schedule.
    int write_state(const std::string& vid, const tailor::TriggerState& st,
                    const std::string& event_id, std::optional<int64_t> next) {
        const bool cluster = conn_->cluster();
        if (cluster && !schedule(vid, next)) {
            return -1;
        }
        std::vector<std::string> argv = {
            "EVALSHA",
            script_sha_,
            cluster ? "3" : "4",
            tailor::visitor_key(vid, tailor::VisitorKeyKind::kTriggers),
            tailor::visitor_key(vid, tailor::VisitorKeyKind::kTriggerSeen),
            tailor::visitor_key(vid, tailor::VisitorKeyKind::kErased)};
        if (!cluster) {
            argv.emplace_back(tailor::kTriggerScheduleKey);
        }
        argv.insert(argv.end(), {event_id, std::to_string(config_.dedup_ttl_ms),
                                 std::to_string(config_.state_ttl_ms), vid,
                                 next ? std::to_string(*next) : std::string()});
        for (auto& [name, value] : st.to_fields()) {
            argv.push_back(name);
            argv.push_back(value);
        }
        auto r = conn_->command(argv);
        if (r && r->type == Reply::Type::kError && r->str.rfind("NOSCRIPT", 0) == 0) {
            // not in this node's script cache yet (a restart, a failover): send the source once
            argv[0] = "EVAL";
            argv[1] = kWriteStateScript;
            r = conn_->command(argv);
        }
        if (!ok(r, Reply::Type::kInteger)) {
            cache_.erase(vid);
            return -1;
        }
        if (r->integer == 1) {
            remember(vid, st);
        } else {
            cache_.erase(vid);
        }
        return static_cast<int>(r->integer);
    }

    bool schedule(const std::string& vid, std::optional<int64_t> next) {
        const std::string key(tailor::kTriggerScheduleKey);
        auto r = next ? conn_->command({"ZADD", key, std::to_string(*next), vid})
                      : conn_->command({"ZREM", key, vid});
        return ok(r, Reply::Type::kInteger);
    }

    static const std::string* field(const Reply& kv, std::string_view name) {
        for (size_t i = 0; i + 1 < kv.elements.size(); i += 2) {
            if (kv.elements[i].str == name) {
                return &kv.elements[i + 1].str;
            }
        }
        return nullptr;
    }

    bool process_entry(const std::string& /*entry*/, const Reply& kv) {
        const std::string* blob = field(kv, "e");
        std::optional<tailor::DecodedEvent> e;
        if (blob != nullptr) {
            e = tailor::decode_event(*blob);
        }
        if (!e) {
            counts_.invalid++;  // not an event (or trimmed away): nothing to apply
            return true;
        }
        std::optional<tailor::TriggerState> loaded = load_state(e->vid);
        if (!loaded) {
            return false;
        }
        tailor::TriggerState st = std::move(*loaded);
        tailor::ApplyOutcome out = tailor::apply_trigger_event(*e, &st);
        if (!out.link_prev.empty()) {
            cache_.erase(out.link_prev);
            // idempotent: a redelivered Identify writes the same link
            auto r = conn_->command(
                {"HSET", tailor::visitor_key(out.link_prev, tailor::VisitorKeyKind::kTriggers),
                 "into", e->vid});
            if (!ok(r, Reply::Type::kInteger)) {
                return false;
            }
        }
        int w =
            write_state(e->vid, st, e->id, tailor::next_trigger_check_ms(st, config_, e->ts_ms));
        if (w < 0) {
            return false;
        }
        counts_.events++;
        if (w == 0) {
            counts_.duplicates++;
        } else if (w == 2) {
            counts_.erased++;
        }
        if (exit_before_ack_ > 0 && counts_.events >= exit_before_ack_) {
            std::fflush(stdout);
            _exit(3);  // tests: a crash between the state write and the ack
        }
        return true;
    }

    bool add_profile(const std::string& vid, tailor::FireContext* ctx) {
        auto r =
            conn_->command({"GET", tailor::visitor_key(vid, tailor::VisitorKeyKind::kProfile)});
        if (!r) {
            return false;
        }
        if (r->type != Reply::Type::kBulk || r->str.empty()) {
            return true;
        }
        tailor::ProfileDecodeResult p = tailor::decode_profile(r->str);
        if (p.profile) {
            tailor::add_profile_facts(*p.profile, ctx);
        }
        return true;
    }

    bool check_visitor(const std::string& vid, int64_t now) {
        auto erased =
            conn_->command({"EXISTS", tailor::visitor_key(vid, tailor::VisitorKeyKind::kErased)});
        if (!ok(erased, Reply::Type::kInteger)) {
            return false;
        }
        if (erased->integer == 1) {
            return schedule(vid, std::nullopt);
        }
        std::optional<tailor::TriggerState> loaded = load_state(vid);
        if (!loaded) {
            return false;
        }
        tailor::TriggerState st = std::move(*loaded);
        const std::string root = st.into.empty() ? vid : st.into;

        tailor::FireContext ctx;
        ctx.vid = vid;
        ctx.customer_id = !st.into.empty() ? st.into : (!st.from.empty() ? vid : std::string());
        ctx.linked_order_at = st.order_at;
        tailor::TriggerState root_state;
        if (root != vid) {
            auto rf = read_state(root);
            if (!rf) {
                return false;
            }
            root_state = tailor::trigger_state_from_fields(*rf);
        }
        const tailor::TriggerState& person = root != vid ? root_state : st;
        std::vector<std::string> linked = person.from;
        if (root != vid) {
            linked.push_back(root);
        }
        for (const std::string& id : linked) {
            if (id == vid) {
                continue;
            }
            tailor::TriggerState other;
            if (id == root) {
                other = root_state;
            } else {
                auto of = read_state(id);
                if (!of) {
                    return false;
                }
                other = tailor::trigger_state_from_fields(*of);
            }
            ctx.linked_order_at = std::max(ctx.linked_order_at, other.order_at);
            ctx.linked_bot = ctx.linked_bot || other.bot;
        }
        if (!add_profile(vid, &ctx) || (root != vid && !add_profile(root, &ctx))) {
            return false;
        }
        if (!st.watches.empty()) {
            std::vector<std::string> argv = {"HMGET", std::string(tailor::kCatalogPricesKey)};
            for (const auto& w : st.watches) {
                argv.push_back(w.first);
            }
            auto r = conn_->command(argv);
            if (!ok(r, Reply::Type::kArray)) {
                return false;
            }
            size_t i = 0;
            for (const auto& w : st.watches) {
                if (i < r->elements.size() && r->elements[i].type == Reply::Type::kBulk) {
                    char* end = nullptr;
                    double price = std::strtod(r->elements[i].str.c_str(), &end);
                    if (end != r->elements[i].str.c_str()) {
                        ctx.catalog_prices[w.first] = price;
                    }
                }
                i++;
            }
        }

        std::vector<int64_t> root_sent = person.sent;
        std::vector<int64_t>* sent = root != vid ? &root_sent : &st.sent;
        tailor::FireDecision d = tailor::decide_triggers(&st, sent, ctx, config_, now);

        for (const tailor::TriggerRecord& rec : d.records) {
            if (!append_record(rec)) {
                return false;
            }
            counts_.fired[std::string(tailor::trigger_kind_name(rec.kind))]++;
        }
        for (const auto& s : d.suppressed) {
            counts_.suppressed[s.reason]++;
            std::fprintf(stderr, "tailorctl: %s for %s suppressed: %s\n",
                         std::string(tailor::trigger_kind_name(s.kind)).c_str(), vid.c_str(),
                         s.reason.c_str());
        }
        if (root != vid && !d.records.empty()) {
            cache_.erase(root);
            tailor::TriggerState caps;
            caps.sent = root_sent;
            for (auto& [name, value] : caps.to_fields()) {
                auto r = conn_->command(
                    {"HSET", tailor::visitor_key(root, tailor::VisitorKeyKind::kTriggers), name,
                     value});
                if (!ok(r, Reply::Type::kInteger)) {
                    return false;
                }
            }
        }
        int w = write_state(vid, st, "",
                            tailor::next_trigger_check_ms(st, config_, now, ctx.linked_order_at));
        if (w == 2) {
            return schedule(vid, std::nullopt);  // erased meanwhile
        }
        return w >= 0;
    }

    bool append_record(const tailor::TriggerRecord& rec) {
        ordered_json props = ordered_json::object();
        for (const tailor::RecordProperty& p : rec.properties) {
            switch (p.kind) {
                case tailor::RecordProperty::Kind::kText:
                    props[p.name] = p.text;
                    break;
                case tailor::RecordProperty::Kind::kNumber:
                    props[p.name] = p.number;
                    break;
                case tailor::RecordProperty::Kind::kList:
                    props[p.name] = p.list;
                    break;
            }
        }
        ordered_json products = rec.products;
        auto r =
            conn_->command({"XADD",        std::string(tailor::kTriggerStreamKey),
                            "MAXLEN",      "~",
                            "1000000",     "*",
                            "id",          rec.id,
                            "trigger",     std::string(tailor::trigger_kind_name(rec.kind)),
                            "vid",         rec.vid,
                            "customer_id", rec.customer_id,
                            "metric",      std::string(tailor::trigger_klaviyo_metric(rec.kind)),
                            "products",    products.dump(),
                            "properties",  props.dump(),
                            "anchor_ms",   std::to_string(rec.anchor_ms),
                            "ts",          std::to_string(rec.ts_ms)});
        return ok(r, Reply::Type::kBulk);
    }

    RedisClient* conn_;
    const Options& opts_;
    const tailor::TriggerConfig& config_;
    Counts counts_;
    long long exit_before_ack_ = 0;
    static constexpr size_t kMaxCachedStates = 100000;
    std::unordered_map<std::string, tailor::TriggerState> cache_;
    const std::string script_sha_ = tailor::redis_script_sha1(kWriteStateScript);
};

int64_t clock_now(const Options& opts) {
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

void print_counts(const Counts& c) {
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

int run_triggers(const Args& args) {
    if (args.empty() || args[0] != "run") {
        return usage_triggers();
    }
    Options opts;
    opts.redis = redis_options_from_env();
    for (size_t i = 1; i < args.size(); i++) {
        std::string_view a = args[i];
        bool bad = false;
        if (parse_redis_option(args, &i, &opts.redis, &bad)) {
            if (bad) {
                return usage_triggers();
            }
            continue;
        }
        if (a == "--once") {
            opts.once = true;
            continue;
        }
        if (i + 1 >= args.size()) {
            return usage_triggers();
        }
        std::string v(args[++i]);
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
                return usage_triggers();
            }
            opts.now_ms = n;
        } else {
            return usage_triggers();
        }
    }
    if (opts.redis.address.empty()) {
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
    Evaluator ev(&conn, opts, config);
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
