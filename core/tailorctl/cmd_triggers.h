// TriggerEvaluator: `tailorctl triggers run`'s I/O over Redis (cmd_triggers.cpp has the command).
//
// cmd_triggers.cpp reads the stream and applies events, cmd_triggers_store.cpp
// reads and writes a visitor's trigger state and schedule,
// cmd_triggers_check.cpp checks visitors whose time has come and appends
// their records. Every decision is core's (tailor/triggers/).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "commands.h"
#include "redis_client.h"
#include "tailor/events/decode.h"
#include "tailor/store/script.h"
#include "tailor/triggers/config.h"
#include "tailor/triggers/fire.h"
#include "tailor/triggers/state.h"

namespace tailorctl {

using TriggerFields = std::vector<std::pair<std::string, std::string>>;

// trigger_state_script
//
// The script that writes a visitor's state, dedup set and schedule
// (cmd_triggers_store.cpp says what it takes).
const char* trigger_state_script() noexcept;

struct TriggerOptions {
    RedisOptions redis;
    std::string group = "tailor-triggers";
    std::string consumer = "evaluator-1";
    std::string stream = "tailor:events";
    long long shards = 0;  // --shards N; 0: as <stream>:shards says (stream_keys.h)
    std::string config_file;
    std::optional<int64_t> now_ms;
    bool once = false;
};

struct TriggerCounts {
    long long events = 0;
    long long duplicates = 0;
    long long invalid = 0;
    long long erased = 0;
    std::map<std::string, long long> fired;
    std::map<std::string, long long> suppressed;
};

class TriggerEvaluator {
  public:
    TriggerEvaluator(RedisClient* conn, const TriggerOptions& opts,
                     const tailor::TriggerConfig& config)
        : conn_(conn), opts_(opts), config_(config) {
        if (const char* n = std::getenv("TAILOR_TRIGGERS_EXIT_BEFORE_ACK")) {
            exit_before_ack_ = std::strtoll(n, nullptr, 10);
        }
    }

    // The group on every key of the stream (each shard of a sharded one; stream_keys.h).
    bool ensure_group();

    // Reads one batch from each key: `from` "0" re-reads this consumer's pending entries
    // (after a restart), ">" new ones. Blocks (about a second) only on a single key; with
    // shards, a round that found nothing pauses briefly instead. Returns the number of
    // entries, -1 on error.
    long long read_batch(const std::string& from, bool block);

    // Checks every visitor whose check time has come.
    bool fire_due(int64_t now);

    const TriggerCounts& counts() const { return counts_; }

  private:
    bool ok(const std::optional<Reply>& r, Reply::Type type);

    // The states this process wrote last, so applying an event costs no
    // HGETALL: this process is the only writer of a visitor's full state
    // (one consumer per group, docs/triggers.md); every write it cannot
    // predict (a link, a cap list, a duplicate, an erase) drops the entry.
    std::optional<tailor::TriggerState> cached(const std::string& vid);

    void remember(const std::string& vid, const tailor::TriggerState& st);

    std::optional<tailor::TriggerState> load_state(const std::string& vid);

    std::optional<TriggerFields> read_state(const std::string& vid);

    // Writes the state and its next check time: 1 written, 0 a duplicate, 2 an
    // erased visitor, -1 an error. On a cluster the schedule
    // is written first, on its own: a crash between the two re-applies the
    // event on redelivery, while the other order could lose the schedule.
    int write_state(const std::string& vid, const tailor::TriggerState& st,
                    const std::string& event_id, std::optional<int64_t> next);

    // write_state in two halves, so a batch can send many before reading any reply:
    // the command, then what its reply means (NOSCRIPT answered with the source).
    std::vector<std::string> state_write(const std::string& vid, const tailor::TriggerState& st,
                                         const std::string& event_id,
                                         std::optional<int64_t> next) const;
    int state_written(const std::string& vid, const tailor::TriggerState& st,
                      std::vector<std::string>& argv, std::optional<Reply> r);
    bool schedule(const std::string& vid, std::optional<int64_t> next);

    static const std::string* field(const Reply& kv, std::string_view name);

    long long read_key(const std::string& key, const std::string& from, bool block);

    bool process_entry(const std::string& /*entry*/, const Reply& kv);
    bool process_event(const tailor::DecodedEvent& e);
    // Applies a batch's events on a single Redis in waves (cmd_triggers_wave.cpp): each
    // wave takes the next event of every visitor, loads the states it lacks in one round
    // trip and writes them in another. A visitor's events keep their order, and a write
    // that did not happen (a duplicate, an erased visitor) is known before its next one.
    bool apply_in_waves(std::vector<tailor::DecodedEvent> events);
    bool apply_wave(const std::vector<tailor::DecodedEvent>& events,
                    const std::vector<size_t>& wave);
    void counted(int written);

    bool add_profile(const std::string& vid, tailor::FireContext* ctx);

    bool check_visitor(const std::string& vid, int64_t now);

    bool append_record(const tailor::TriggerRecord& rec);

    RedisClient* conn_;
    const TriggerOptions& opts_;
    const tailor::TriggerConfig& config_;
    TriggerCounts counts_;
    std::vector<std::string> keys_;  // the stream's keys, set by ensure_group()
    long long exit_before_ack_ = 0;
    static constexpr size_t kMaxCachedStates = 100000;
    std::unordered_map<std::string, tailor::TriggerState> cache_;
    const std::string script_sha_ = tailor::redis_script_sha1(trigger_state_script());
};

}  // namespace tailorctl
