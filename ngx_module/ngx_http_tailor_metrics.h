// Counters shared by all workers (one shared memory zone), served as Prometheus text.
#pragma once

#include "ngx_http_tailor.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/base/outcome.h"

enum ngx_http_tailor_counter_e : ngx_uint_t {
    NGX_HTTP_TAILOR_REQUESTS = 0,
    NGX_HTTP_TAILOR_PERSONALIZED,
    NGX_HTTP_TAILOR_SLOTS_FILLED,
    NGX_HTTP_TAILOR_COOKIES_ISSUED,
    NGX_HTTP_TAILOR_BAD_COOKIES,
    NGX_HTTP_TAILOR_IDENTIFY_LINKS,
    NGX_HTTP_TAILOR_CACHE_HITS,
    NGX_HTTP_TAILOR_CACHE_MISSES,
    NGX_HTTP_TAILOR_REWRITER_BAILOUTS,
    NGX_HTTP_TAILOR_COMPRESSED_PASSTHROUGH,
    NGX_HTTP_TAILOR_DECISION_ERRORS,
    NGX_HTTP_TAILOR_BEACONS_RECORDED,
    NGX_HTTP_TAILOR_BEACONS_REJECTED,
    NGX_HTTP_TAILOR_BEACONS_LIMITED,
    NGX_HTTP_TAILOR_BEACONS_FAILED,
    NGX_HTTP_TAILOR_PAGE_REPLAYS,
    NGX_HTTP_TAILOR_PAGE_READS,
    NGX_HTTP_TAILOR_PAGE_FALLBACKS,
    NGX_HTTP_TAILOR_BYTES_SCANNED,
    NGX_HTTP_TAILOR_RULE_MEMO_HITS,
    NGX_HTTP_TAILOR_PAGE_MISMATCHES,
    NGX_HTTP_TAILOR_PAGE_RENDERED_SENT,
    NGX_HTTP_TAILOR_PAGE_RENDERS,
    NGX_HTTP_TAILOR_PAGE_RENDER_FAILURES,
    NGX_HTTP_TAILOR_PAGE_RENDERS_DECLINED,
    NGX_HTTP_TAILOR_COUNTER_COUNT
};

#define NGX_HTTP_TAILOR_LATENCY_BUCKETS 10

// The one cap on per-worker slots in shared memory (by ngx_worker), for every
// table that keeps one (metrics here, the events worker's gauges): workers
// beyond it keep those numbers to themselves.
#define NGX_HTTP_TAILOR_MAX_WORKERS 64

// One worker's share of the counters (its slot: ngx_worker). A request adds to a dozen counters;
// were they one set for all workers, every add would pull the cache line from the core that
// added last (a contended atomic costs ~100 cycles where an uncontended one costs a few). Each
// worker adds to its own lines instead, and the status sums the slots. The adds stay atomic: a
// draining worker of the old generation shares its slot index with a new one, and a worker
// past NGX_HTTP_TAILOR_MAX_WORKERS shares one.
struct alignas(128) ngx_http_tailor_worker_metrics_t {
    ngx_atomic_t counters[NGX_HTTP_TAILOR_COUNTER_COUNT];
    ngx_atomic_t outcomes[tailor::kOutcomeCount];
    ngx_atomic_t latency_buckets[NGX_HTTP_TAILOR_LATENCY_BUCKETS + 1];
    ngx_atomic_t latency_sum_us;
    ngx_atomic_t latency_count;
};

struct ngx_http_tailor_metrics_t {
    ngx_http_tailor_worker_metrics_t workers[NGX_HTTP_TAILOR_MAX_WORKERS];
    ngx_http_tailor_redis_stats_t redis[NGX_HTTP_TAILOR_MAX_WORKERS];
};

// The data of a shared zone that holds one zeroed struct of `size` bytes:
// allocated the first time, the same memory again on reload. For zone->init.
void* ngx_http_tailor_shm_data(ngx_shm_zone_t* zone, void* data, size_t size) noexcept;

// printf into the status body between *pos and end, never past end.
void ngx_http_tailor_status_print(u_char** pos, u_char* end, const char* fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));

// Registers the shared zone; called once per configuration cycle.
ngx_int_t ngx_http_tailor_metrics_init_zone(ngx_conf_t* cf) noexcept;

void ngx_http_tailor_metrics_count(ngx_http_tailor_counter_e counter,
                                   ngx_atomic_int_t n = 1) noexcept;
void ngx_http_tailor_metrics_outcome(tailor::Outcome outcome) noexcept;
void ngx_http_tailor_metrics_latency(uint64_t usec) noexcept;

// This worker's Redis stats slot in shared memory, or null.
ngx_http_tailor_redis_stats_t* ngx_http_tailor_metrics_redis_slot() noexcept;

// Answers a GET or HEAD with the Prometheus text `render` writes into a
// buffer of `size` bytes; 503 when the counters are not `ready`.
using ngx_http_tailor_render_pt = void (*)(u_char** pos, u_char* end) noexcept;
ngx_int_t ngx_http_tailor_send_metrics(ngx_http_request_t* r, bool ready, size_t size,
                                       ngx_http_tailor_render_pt render) noexcept;

// ngx_http_tailor_pack_metrics.cpp: the series the rule packs name (rule errors by rule,
// slot decisions by slot, experiment exposures by variant, pop-up offers), bounded by what
// the packs declare.
//
// series_add_pack: at configuration time, for each engine (pack null: the built-in
// decision, no series); null on failure, logged. series_init_zone: in postconfiguration,
// once every pack is known. Nothing is global: a request reaches the series through its
// configuration, so a reload in a single process (master_process off) never reads the
// old one's.
ngx_http_tailor_pack_series_t* ngx_http_tailor_series_add_pack(
    ngx_conf_t* cf, ngx_http_tailor_main_conf_t* mcf, const tailor::RulePack* pack) noexcept;
ngx_int_t ngx_http_tailor_series_init_zone(ngx_conf_t* cf,
                                           ngx_http_tailor_main_conf_t* mcf) noexcept;
void ngx_http_tailor_series_exit_worker() noexcept;

// After a decision: counts failed rules, logs each rule's errors (rate-limited, with the
// pack's file:line) and counts them by rule; counts the decided slots, exposures and
// pop-up offers by name.
void ngx_http_tailor_metrics_decision(ngx_http_request_t* r, tailor::Engine* engine,
                                      ngx_http_tailor_pack_series_t* series,
                                      const tailor::Personalization* p) noexcept;

// The families above, HELP and TYPE always, a sample per declared name.
size_t ngx_http_tailor_series_render_size(
    const ngx_http_tailor_series_registry_t* registry) noexcept;
void ngx_http_tailor_series_render(const ngx_http_tailor_series_registry_t* registry, u_char** pos,
                                   u_char* end) noexcept;

// The tailor_status content handler.
ngx_int_t ngx_http_tailor_status_handler(ngx_http_request_t* r) noexcept;
