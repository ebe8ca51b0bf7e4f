// The per-worker event delivery's state, shared by ngx_http_tailor_events_worker.cpp (timer,
// connection, one batch per command), ngx_http_tailor_events_spool.cpp (the spool
// directories) and ngx_http_tailor_events_cluster.cpp (a Redis Cluster's batches, split by
// slot and shard). Internal to ngx_module/events.
#pragma once

#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_redis.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tailor/events/cluster_batch.h"
#include "tailor/events/delivery.h"
#include "tailor/events/live.h"
#include "tailor/events/watched_batch.h"

struct ngx_http_tailor_events_worker_t;

// One command of a split batch (Redis Cluster) in flight.
enum class ngx_http_tailor_events_part_kind_t {
    kBatch,   // the live or stream script of part `index`
    kWait,    // the WAIT after stream part `index`
    kShards,  // the SET publishing the shard count (live phase, until answered OK)
};

struct ngx_http_tailor_events_part_t {
    ngx_http_tailor_events_worker_t* w;
    size_t index;  // the live or stream part of the current phase
    ngx_http_tailor_redis_op_t* op;
    ngx_http_tailor_events_part_kind_t kind;
};

// One worker's delivery state; heap, created in init_process.
struct ngx_http_tailor_events_worker_t {
    ngx_cycle_t* cycle = nullptr;
    ngx_log_t* log = nullptr;
    ngx_http_tailor_events_main_conf_t* emcf = nullptr;
    ngx_http_tailor_redis_t* redis = nullptr;
    ngx_uint_t slot = 0;   // ngx_worker, capped for the shm arrays
    uint32_t workers = 1;  // worker_processes: who adopts which orphan

    std::string producer;
    uint64_t seq = 0;

    std::unique_ptr<tailor::Delivery> delivery;
    ngx_http_tailor_redis_op_t* op = nullptr;  // the batch in flight
    uint64_t script_connects = 0;              // connection the script was loaded on (+1)
    std::vector<tailor::LiveResult> results;   // a reply, translated

    // Redis Cluster (or tailor_events_stream_shards > 1): each batch goes split, in two
    // phases (live per slot, then stream per shard; tailor::ClusterBatch)
    bool split = false;
    uint32_t shards = 1;
    tailor::LiveConfig live;
    tailor::ClusterBatch cluster;
    std::vector<ngx_http_tailor_events_part_t> parts;  // the current phase's commands
    size_t parts_pending = 0;                          // of those, still out
    bool parts_failed = false;                         // one got no usable reply
    bool stream_phase = false;
    uint64_t shards_connects = 0;  // connection count the shard count was published at (+1)
    uint64_t shards_sent_at = 0;   // what shards_connects becomes when the SET in flight is OK
    bool shards_stored = false;    // a SET of the count was answered OK in this worker's life
    std::string replica_wait;      // WAIT's timeout in ms; empty: no WAIT

    std::string spool_dir;
    ngx_msec_t adopt_at = 0;
    ngx_msec_t retry_at = 0;  // after failed batches: nothing is sent before (backoff)

    // One server with the stream: a batch whose every visitor carries nginx's edit goes as
    // WATCH/MGET, then MULTI/EXEC (tailor::WatchedBatch); the script is the fallback
    bool watch = false;  // tailor_events_watch
    tailor::WatchedBatch watched;
    std::vector<tailor::WatchedReply> watched_replies;
    size_t watch_max_commands = 0;  // the connection's max_pending: a commit's bound
    uint32_t watch_failures = 0;    // since a commit: at kMaxWatchFailures, off for the connection
    uint64_t watch_off_at = 0;      // the connection count (+1) the commands were turned off at
    ngx_http_tailor_redis_op_t* watch_open = nullptr;  // MULTI, sent after the check in flight
    bool watch_commit = false;  // the check's verdict, acted on at MULTI's answer

    ngx_event_t timer;
    ngx_http_tailor_log_limit_t log_limit{};
};

// Logs at most a few lines a second, "tailor events: " first.
void ngx_http_tailor_events_log_limited(ngx_http_tailor_events_worker_t* w, ngx_uint_t level,
                                        const char* fmt, ...) noexcept;

// After a batch's outcome (answered or failed): the counts, then a backoff or the next batch.
void ngx_http_tailor_events_done(ngx_http_tailor_events_worker_t* w, bool answered) noexcept;

// ngx_http_tailor_events_spool.cpp: how often an idle worker looks for orphaned spools.
constexpr ngx_msec_t NGX_HTTP_TAILOR_EVENTS_ADOPT_EVERY = 5000;

// ngx_http_tailor_events_spool.cpp: adopts one orphaned spool this worker is heir to, when
// idle and due (every NGX_HTTP_TAILOR_EVENTS_ADOPT_EVERY ms); true when one was adopted.
bool ngx_http_tailor_events_adopt(ngx_http_tailor_events_worker_t* w) noexcept;

// ngx_http_tailor_events_spool.cpp: opens this worker's own spool (null: none, logged).
std::unique_ptr<tailor::Spool> ngx_http_tailor_events_open_spool(ngx_http_tailor_events_worker_t* w,
                                                                 ngx_cycle_t* cycle) noexcept;

// ngx_http_tailor_events_worker.cpp: sends the delivery's batch as the live script (EVALSHA);
// false when Redis would not take it.
bool ngx_http_tailor_events_send_script(ngx_http_tailor_events_worker_t* w) noexcept;

// ngx_http_tailor_events_watched.cpp: sends the delivery's batch as WatchedBatch's check when
// it may go by commands; false when it may not, or was not sent (then send the script).
bool ngx_http_tailor_events_send_watched(ngx_http_tailor_events_worker_t* w) noexcept;

// ngx_http_tailor_events_cluster.cpp: sends the delivery's batch split (phase 1, the live
// parts); false when nothing went.
bool ngx_http_tailor_events_send_split(ngx_http_tailor_events_worker_t* w) noexcept;
