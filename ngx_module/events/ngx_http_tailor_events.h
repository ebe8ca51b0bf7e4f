// ngx_http_tailor_events_module: browse events at the log phase, a per-worker
// queue, pipelined EVALSHA batches on their own Redis connection, and an
// on-disk spool while Redis is away. docs/events.md has the model; the event
// logic itself (schema, encoding, live script, spool) is in core.
#pragma once

#include "ngx_http_tailor.h"

#include <cstdint>
#include <string_view>

extern "C" ngx_module_t ngx_http_tailor_events_module;

namespace tailor {
class SensitiveQuery;
struct LiveFacts;
struct UpstreamEvent;
}  // namespace tailor

struct ngx_http_tailor_redis_stats_t;

// One declared property: product_id=$sku, price:number=$arg_price.
struct ngx_http_tailor_events_prop_t {
    ngx_str_t name;
    ngx_http_complex_value_t value;
    ngx_uint_t kind;  // tailor::PropertyKind
};

// One "tailor_event" directive.
struct ngx_http_tailor_events_decl_t {
    ngx_str_t name;     // as written: the Segment or custom name
    ngx_uint_t type;    // tailor::EventType
    ngx_array_t props;  // of ngx_http_tailor_events_prop_t
};

struct ngx_http_tailor_events_main_conf_t {
    ngx_str_t stream;               // tailor_events_stream; "tailor:events"
    ngx_uint_t maxlen;              // MAXLEN ~; 0: uncapped
    ngx_uint_t shards;              // tailor_events_stream_shards; 1, 8 with a Redis Cluster
    ngx_msec_t replica_wait;        // tailor_events_replica_wait; 0: off; 50ms with a cluster
    ngx_path_t* spool;              // tailor_events_spool; default <prefix>/tailor-spool
    ngx_flag_t spool_off;           // tailor_events_spool off
    ngx_flag_t spool_default;       // spool is the default: created at init_module, not fatal
    size_t spool_max;               // max_size=; 64m
    size_t spool_segment;           // segment_size=; 4m
    ngx_uint_t spool_sync;          // tailor::SpoolSync
    ngx_uint_t batch;               // tailor_events_batch: events per EVALSHA; 256
    ngx_uint_t batch_visitors;      // tailor_events_batch_visitors: visitors per EVALSHA; 16
    ngx_flag_t watch;               // tailor_events_watch: WatchedBatch's commands; on
    ngx_msec_t interval;            // tailor_events_flush_interval; 10ms
    ngx_uint_t queue;               // tailor_events_queue: per-worker bound; 32768
    time_t live_ttl;                // tailor_events_live ttl=; 90d
    ngx_uint_t viewed_cap;          // viewed=; 20
    ngx_uint_t cart_cap;            // cart=; 50
    ngx_uint_t money_scale;         // money_scale=; 100
    time_t session_gap;             // session_gap=; 30m
    tailor::SensitiveQuery* strip;  // + tailor_event_strip, tailor_event_params; pool cleanup
    ngx_flag_t enabled_somewhere;   // any location has tailor_events on
    ngx_str_t upstream_header;      // tailor_events_upstream_header; X-Tailor-Event
    u_char* upstream_lowcase;       // its name, lower-case
    size_t upstream_max;            // max_size=; 4k; 0: off
    ngx_http_tailor_conf_pos_t upstream_pos;  // where tailor_events_upstream_header is

    // the first "tailor_events on" in effect, for the checks in postconfiguration
    ngx_http_tailor_conf_pos_t enabled_pos;
};

struct ngx_http_tailor_events_loc_conf_t {
    ngx_flag_t enable;    // tailor_events
    ngx_array_t* events;  // of ngx_http_tailor_events_decl_t; null: page views only

    ngx_http_tailor_conf_pos_t enable_pos;  // where tailor_events is written (or inherited)
    ngx_http_tailor_conf_pos_t event_pos;   // the first tailor_event written here
};

enum ngx_http_tailor_events_counter_e : ngx_uint_t {
    NGX_HTTP_TAILOR_EVENTS_EMITTED = 0,
    NGX_HTTP_TAILOR_EVENTS_FLUSHED,
    NGX_HTTP_TAILOR_EVENTS_DUPLICATES,
    NGX_HTTP_TAILOR_EVENTS_INVALID,
    NGX_HTTP_TAILOR_EVENTS_BATCHES,
    NGX_HTTP_TAILOR_EVENTS_BATCH_EVENTS,
    NGX_HTTP_TAILOR_EVENTS_SPOOLED,
    NGX_HTTP_TAILOR_EVENTS_REPLAYED,
    NGX_HTTP_TAILOR_EVENTS_DROPPED,
    NGX_HTTP_TAILOR_EVENTS_FAILED_BATCHES,
    NGX_HTTP_TAILOR_EVENTS_BAD_PROPERTIES,
    NGX_HTTP_TAILOR_EVENTS_STRIPPED,
    NGX_HTTP_TAILOR_EVENTS_IDENTIFY,
    NGX_HTTP_TAILOR_EVENTS_BACKOFF_MS,
    NGX_HTTP_TAILOR_EVENTS_UPSTREAM,
    NGX_HTTP_TAILOR_EVENTS_UPSTREAM_IGNORED,
    NGX_HTTP_TAILOR_EVENTS_LIVE_EDITS_SENT,
    NGX_HTTP_TAILOR_EVENTS_LIVE_EDITS_TAKEN,
    NGX_HTTP_TAILOR_EVENTS_WATCHED_BATCHES,
    NGX_HTTP_TAILOR_EVENTS_WATCH_CONFLICTS,
    NGX_HTTP_TAILOR_EVENTS_WATCH_DECLINED,
    NGX_HTTP_TAILOR_EVENTS_COUNTER_COUNT
};

// ngx_http_tailor_events_directives.cpp: the handlers of the directives that
// take more than a slot (ngx_http_tailor_events_module.cpp's command table).
char* ngx_http_tailor_events_event(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_stream(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_spool(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_strip(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_params(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_live(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_status(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_replica_wait(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

// ngx_http_tailor_events_log.cpp: the log-phase handler (postconfiguration
// registers it where tailor_events is on somewhere).
ngx_int_t ngx_http_tailor_events_log_handler(ngx_http_request_t* r) noexcept;

// ngx_http_tailor_events_upstream.cpp: the upstream's event header
// (tailor_events_upstream_header): read from a fresh response and hidden by a
// header filter, dropped from client requests, parsed at the log phase.
char* ngx_http_tailor_events_upstream_header(ngx_conf_t* cf, ngx_command_t* cmd,
                                             void* conf) noexcept;
ngx_int_t ngx_http_tailor_events_upstream_init(ngx_conf_t* cf,
                                               ngx_http_tailor_events_main_conf_t* emcf) noexcept;
// Did a fresh upstream response of this request carry the header?
bool ngx_http_tailor_events_upstream_pending(ngx_http_request_t* r) noexcept;
// The request's upstream event, parsed and checked; null when there is none
// or it was refused (then counted by reason and logged, rate-limited). Valid
// until the next call in this worker.
const tailor::UpstreamEvent* ngx_http_tailor_events_upstream_event(
    ngx_http_request_t* r, ngx_http_tailor_events_main_conf_t* emcf) noexcept;
// ngx_http_tailor_events_status.cpp: a refused header, by reason (tailor::UpstreamEventError).
void ngx_http_tailor_events_count_upstream_refused(unsigned reason) noexcept;

// ngx_http_tailor_events_worker.cpp: the per-worker delivery.
ngx_int_t ngx_http_tailor_events_init_worker(ngx_cycle_t* cycle,
                                             ngx_http_tailor_events_main_conf_t* emcf) noexcept;
void ngx_http_tailor_events_exit_worker(ngx_cycle_t* cycle) noexcept;

// Producer id and the next sequence number; false when this process has no
// delivery (not a worker, or init failed).
bool ngx_http_tailor_events_next_seq(std::string_view* producer, uint64_t* seq) noexcept;

// Queues one encoded event, with its live facts (views into `blob`, from encode_event) and the
// visitor's live map as its request read it ("": not read; Delivery::enqueue); counts it
// emitted or dropped.
void ngx_http_tailor_events_enqueue(std::string_view blob, const tailor::LiveFacts* facts,
                                    std::string_view live_read) noexcept;

// ngx_http_tailor_events_status.cpp: the counters in shared memory.
ngx_int_t ngx_http_tailor_events_init_zone(ngx_conf_t* cf) noexcept;
void ngx_http_tailor_events_count(ngx_http_tailor_events_counter_e counter,
                                  uint64_t n = 1) noexcept;
// This worker slot's gauges: events in memory, events in the spools.
void ngx_http_tailor_events_gauges(ngx_uint_t slot, uint64_t queued, uint64_t pending) noexcept;
// The events connection's Redis stats slot of a worker, or null.
ngx_http_tailor_redis_stats_t* ngx_http_tailor_events_redis_slot(ngx_uint_t slot) noexcept;

// The tailor_events_status content handler (Prometheus text).
ngx_int_t ngx_http_tailor_events_status_handler(ngx_http_request_t* r) noexcept;

// ngx_http_tailor_events_render_status
//
// Appends the events counters, as Prometheus text, at *pos (never past
// end), and advances *pos; tailor_status calls it so one scrape has all.
void ngx_http_tailor_events_render_status(u_char** pos, u_char* end) noexcept;
