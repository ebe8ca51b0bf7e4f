// TriggerEvaluator: a visitor's trigger state and schedule in Redis.
#include <cstdio>

#include "cmd_triggers.h"
#include "tailor/store/keys.h"

namespace tailorctl {

namespace {

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

}  // namespace

const char* trigger_state_script() noexcept {
    return kWriteStateScript;
}

bool TriggerEvaluator::ok(const std::optional<Reply>& r, Reply::Type type) {
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
std::optional<tailor::TriggerState> TriggerEvaluator::cached(const std::string& vid) {
    auto it = cache_.find(vid);
    if (it == cache_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void TriggerEvaluator::remember(const std::string& vid, const tailor::TriggerState& st) {
    if (cache_.size() >= kMaxCachedStates) {
        cache_.clear();
    }
    cache_[vid] = st;
}

std::optional<tailor::TriggerState> TriggerEvaluator::load_state(const std::string& vid) {
    if (auto c = cached(vid)) {
        return c;
    }
    auto f = read_state(vid);
    if (!f) {
        return std::nullopt;
    }
    return tailor::trigger_state_from_fields(*f);
}

std::optional<TriggerFields> TriggerEvaluator::read_state(const std::string& vid) {
    auto r =
        conn_->command({"HGETALL", tailor::visitor_key(vid, tailor::VisitorKeyKind::kTriggers)});
    if (!ok(r, Reply::Type::kArray)) {
        return std::nullopt;
    }
    TriggerFields f;
    for (size_t i = 0; i + 1 < r->elements.size(); i += 2) {
        f.emplace_back(r->elements[i].str, r->elements[i + 1].str);
    }
    return f;
}

// 1 written, 0 duplicate, 2 erased, -1 error.
// Writes the state and its next check time. On a cluster the schedule
// is written first, on its own: a crash between the two re-applies the
// event on redelivery, while the other order could lose the schedule.
int TriggerEvaluator::write_state(const std::string& vid, const tailor::TriggerState& st,
                                  const std::string& event_id, std::optional<int64_t> next) {
    if (conn_->cluster() && !schedule(vid, next)) {
        return -1;
    }
    std::vector<std::string> argv = state_write(vid, st, event_id, next);
    return state_written(vid, st, argv, conn_->command(argv));
}

std::vector<std::string> TriggerEvaluator::state_write(const std::string& vid,
                                                       const tailor::TriggerState& st,
                                                       const std::string& event_id,
                                                       std::optional<int64_t> next) const {
    const bool cluster = conn_->cluster();
    std::vector<std::string> argv = {"EVALSHA",
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
    return argv;
}

int TriggerEvaluator::state_written(const std::string& vid, const tailor::TriggerState& st,
                                    std::vector<std::string>& argv, std::optional<Reply> r) {
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

bool TriggerEvaluator::schedule(const std::string& vid, std::optional<int64_t> next) {
    const std::string key(tailor::kTriggerScheduleKey);
    auto r = next ? conn_->command({"ZADD", key, std::to_string(*next), vid})
                  : conn_->command({"ZREM", key, vid});
    return ok(r, Reply::Type::kInteger);
}

}  // namespace tailorctl
