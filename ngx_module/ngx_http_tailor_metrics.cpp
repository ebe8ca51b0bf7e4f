// Metrics: atomic counters in one shared zone, a slot per worker, summed by the status.
#include "ngx_http_tailor_metrics.h"

#include <cinttypes>
#include <cstdio>

#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_limit.h"
#include "tailor/base/version.h"

namespace {

// The zone is re-used across reloads when its name and size stay the same, so
// counters survive `nginx -s reload`. The name carries the layout's version: a module
// whose layout differs gets its own zone on a reload, never the old one read its way.
ngx_str_t ngx_http_tailor_metrics_zone_name = ngx_string("tailor_metrics_2");

ngx_http_tailor_metrics_t* ngx_http_tailor_metrics;

// The series of the configuration whose status request is being rendered (render runs
// inside ngx_http_tailor_send_metrics, synchronously).
const ngx_http_tailor_series_registry_t* ngx_http_tailor_status_series;

// Upper bounds in microseconds; the last bucket is +Inf.
constexpr ngx_msec_int_t ngx_http_tailor_latency_bounds_us[NGX_HTTP_TAILOR_LATENCY_BUCKETS] = {
    100, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000};

struct ngx_http_tailor_counter_desc_t {
    const char* name;
    const char* help;
};

constexpr ngx_http_tailor_counter_desc_t
    ngx_http_tailor_counter_descs[NGX_HTTP_TAILOR_COUNTER_COUNT] = {
        {"tailor_requests_total", "Main requests in locations with tailor on."},
        {"tailor_personalized_total", "Responses whose body the module rewrote."},
        {"tailor_slots_filled_total", "Slots whose default content was replaced."},
        {"tailor_cookies_issued_total", "Visitor cookies set (new visitors and identify links)."},
        {"tailor_bad_cookies_total", "Visitor cookies that were present but did not verify."},
        {"tailor_identify_links_total", "Upstream identify headers that linked a visitor id."},
        {"tailor_cache_hits_total", "Profiles served from the worker cache."},
        {"tailor_cache_misses_total", "Cache lookups that went to Redis."},
        {"tailor_rewriter_bailouts_total", "Slots or pages passed through unmodified at a limit."},
        {"tailor_compressed_passthrough_total",
         "Responses passed through untouched because the upstream compressed them."},
        {"tailor_decision_errors_total",
         "Rule failures while deciding: rules that errored, ran past their instruction, time "
         "or memory budget, or were skipped because the evaluation's budget was spent, and "
         "evaluations that failed as a whole; the slots involved kept their defaults "
         "(tailor_rule_errors_total has them by rule)."},
        {"tailor_popup_beacons_recorded_total", "Pop-up beacons written to the visitor's caps."},
        {"tailor_popup_beacons_rejected_total",
         "Pop-up beacons refused: malformed, cross-site, no signed visitor, no consent, "
         "no valid pop-up token, a replayed token."},
        {"tailor_popup_beacons_limited_total", "Pop-up beacons over the per-visitor rate."},
        {"tailor_popup_beacons_failed_total", "Pop-up beacons Redis did not record in time."},
        {"tailor_page_replays_total",
         "Pages sent from the worker's page cache, unscanned: file-backed pages (static files, "
         "cache hits), and proxied pages found byte for byte equal to the cached copy."},
        {"tailor_page_reads_total",
         "Pages read into the worker's page cache: a new file version, a proxied page seen "
         "twice under one strong ETag, or one evicted."},
        {"tailor_page_fallbacks_total",
         "Pages the page cache could not take (over page_max, changed while read, a proxied "
         "body spooled to a file, out of memory): streamed instead."},
        {"tailor_bytes_scanned_total",
         "Body bytes the streaming rewriter scanned; a page replayed from the page cache adds 0."},
        {"tailor_rule_memo_hits_total",
         "Visitors with nothing stored decided by a worker's earlier decision for the same "
         "request facts: no rule ran."},
        {"tailor_page_mismatches_total",
         "Proxied pages whose bytes differed from the cached copy kept under the same strong "
         "ETag and length: streamed, and the copy dropped."},
        {"tailor_page_rendered_total",
         "Replayed pages sent as a file with sendfile: their body, fills and all, was rendered "
         "to an unlinked file the second time the same fills came under one layout."},
        {"tailor_page_renders_total", "Replayed pages' bodies written to a file (rendered=)."},
        {"tailor_page_render_failures_total",
         "Bodies that could not be written to a file (no O_TMPFILE in client_body_temp_path's "
         "file system, no space): sent from memory, and logged."},
        {"tailor_page_renders_declined_total",
         "Bodies seen twice but not written to a file, because the layout's files were not "
         "sent often enough to pay for a new one (rendered=): sent from memory."},
};

ngx_int_t ngx_http_tailor_metrics_init(ngx_shm_zone_t* zone, void* data) noexcept {
    ngx_http_tailor_metrics = static_cast<ngx_http_tailor_metrics_t*>(
        ngx_http_tailor_shm_data(zone, data, sizeof(ngx_http_tailor_metrics_t)));
    return ngx_http_tailor_metrics != nullptr ? NGX_OK : NGX_ERROR;
}

void ngx_http_tailor_add(ngx_atomic_t* counter, ngx_atomic_int_t n) noexcept {
    (void)ngx_atomic_fetch_add(counter, n);
}

// This process's slot (the master and helpers, never counting, would share slot 0).
ngx_http_tailor_worker_metrics_t* ngx_http_tailor_my_metrics() noexcept {
    return &ngx_http_tailor_metrics->workers[ngx_worker % NGX_HTTP_TAILOR_MAX_WORKERS];
}

// The slots summed into one, for the status: what every worker counted.
void ngx_http_tailor_metrics_sum(const ngx_http_tailor_metrics_t* m,
                                 ngx_http_tailor_worker_metrics_t* sum) noexcept {
    *sum = {};
    for (const ngx_http_tailor_worker_metrics_t& w : m->workers) {
        for (ngx_uint_t i = 0; i < NGX_HTTP_TAILOR_COUNTER_COUNT; i++) {
            sum->counters[i] += w.counters[i];
        }
        for (size_t i = 0; i < tailor::kOutcomeCount; i++) {
            sum->outcomes[i] += w.outcomes[i];
        }
        for (ngx_uint_t i = 0; i <= NGX_HTTP_TAILOR_LATENCY_BUCKETS; i++) {
            sum->latency_buckets[i] += w.latency_buckets[i];
        }
        sum->latency_sum_us += w.latency_sum_us;
        sum->latency_count += w.latency_count;
    }
}

// Appends to the status body; the buffer is sized before rendering.
struct ngx_http_tailor_text_t {
    u_char* pos;
    u_char* end;
};

void ngx_http_tailor_vprint(u_char** pos, u_char* end, const char* fmt, va_list args) noexcept {
    if (*pos >= end) {
        return;
    }
    int n = vsnprintf(reinterpret_cast<char*>(*pos), static_cast<size_t>(end - *pos), fmt, args);
    if (n > 0) {
        *pos += ngx_min(static_cast<size_t>(n), static_cast<size_t>(end - *pos));
    }
}

void ngx_http_tailor_print(ngx_http_tailor_text_t* t, const char* fmt, ...) noexcept
    __attribute__((format(printf, 2, 3)));

void ngx_http_tailor_print(ngx_http_tailor_text_t* t, const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_vprint(&t->pos, t->end, fmt, args);
    va_end(args);
}

void ngx_http_tailor_render(ngx_http_tailor_text_t* t, ngx_http_tailor_metrics_t* m) noexcept {
    ngx_http_tailor_worker_metrics_t all;
    ngx_http_tailor_metrics_sum(m, &all);
    auto version = tailor::version();
    ngx_http_tailor_print(t,
                          "# HELP tailor_build_info The Tailor build serving: always 1, "
                          "labelled with its version.\n"
                          "# TYPE tailor_build_info gauge\n"
                          "tailor_build_info{version=\"%.*s\"} 1\n",
                          static_cast<int>(version.size()), version.data());

    for (ngx_uint_t i = 0; i < NGX_HTTP_TAILOR_COUNTER_COUNT; i++) {
        const auto& d = ngx_http_tailor_counter_descs[i];
        ngx_http_tailor_print(t, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIuPTR "\n", d.name,
                              d.help, d.name, d.name, static_cast<uintptr_t>(all.counters[i]));
    }

    ngx_http_tailor_print(t,
                          "# HELP tailor_outcomes_total Requests by what decided their page.\n"
                          "# TYPE tailor_outcomes_total counter\n");
    for (size_t i = 1; i < tailor::kOutcomeCount; i++) {
        auto name = tailor::outcome_name(static_cast<tailor::Outcome>(i));
        ngx_http_tailor_print(t, "tailor_outcomes_total{outcome=\"%.*s\"} %" PRIuPTR "\n",
                              static_cast<int>(name.size()), name.data(),
                              static_cast<uintptr_t>(all.outcomes[i]));
    }

    ngx_http_tailor_redis_stats_t redis = {};
    for (const auto& w : m->redis) {
        redis.connects += w.connects;
        redis.connect_failures += w.connect_failures;
        redis.disconnects += w.disconnects;
        redis.stall_resets += w.stall_resets;
        redis.reply_resets += w.reply_resets;
        redis.down_rejects += w.down_rejects;
        redis.busy_rejects += w.busy_rejects;
        redis.commands += w.commands;
        redis.replies += w.replies;
        redis.errors += w.errors;
        redis.failed += w.failed;
        redis.in_flight += w.in_flight;
        redis.connected += w.connected;
        redis.redirects += w.redirects;
        redis.slot_maps += w.slot_maps;
    }
    // the profile connections of all workers (the events connections are in tailor_events_*)
    const struct {
        const char* name;
        const char* type;
        const char* help;
        uint64_t value;
    } redis_rows[] = {
        {"tailor_redis_connects_total", "counter",
         "Profile connections to Redis that became ready (AUTH and SELECT done).", redis.connects},
        {"tailor_redis_connect_failures_total", "counter",
         "Profile connection attempts refused, timed out, or failed at AUTH or SELECT.",
         redis.connect_failures},
        {"tailor_redis_disconnects_total", "counter",
         "Ready profile connections lost, for any reason.", redis.disconnects},
        {"tailor_redis_stall_resets_total", "counter",
         "Profile connections reset by the stall watchdog: Redis stopped answering.",
         redis.stall_resets},
        {"tailor_redis_reply_resets_total", "counter",
         "Profile connections reset because a reply was refused: over max_reply, unasked, "
         "too many elements or too deep.",
         redis.reply_resets},
        {"tailor_redis_down_rejects_total", "counter",
         "Commands refused because the profile connection was down (default page at once).",
         redis.down_rejects},
        {"tailor_redis_busy_rejects_total", "counter",
         "Commands refused over max_output or max_pending (default page at once).",
         redis.busy_rejects},
        {"tailor_redis_commands_total", "counter", "Commands written on the profile connections.",
         redis.commands},
        {"tailor_redis_replies_total", "counter",
         "Replies read on the profile connections, error replies included.", redis.replies},
        {"tailor_redis_error_replies_total", "counter",
         "Error replies (-ERR ...) read on the profile connections.", redis.errors},
        {"tailor_redis_failed_total", "counter",
         "Commands on the profile connections that never got a reply.", redis.failed},
        {"tailor_redis_in_flight", "gauge",
         "Commands sent on the profile connections and not answered yet.", redis.in_flight},
        {"tailor_redis_connected_workers", "gauge", "Workers whose profile connection is up.",
         redis.connected},
        {"tailor_redis_cluster_redirects_total", "counter",
         "MOVED and ASK redirections followed on the profile connections.", redis.redirects},
        {"tailor_redis_cluster_slot_maps_total", "counter",
         "Redis Cluster slot maps loaded by the workers.", redis.slot_maps},
    };
    for (const auto& row : redis_rows) {
        ngx_http_tailor_print(t, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", row.name, row.help,
                              row.name, row.type, row.name, row.value);
    }

    ngx_http_tailor_print(t,
                          "# HELP tailor_redis_latency_seconds Profile round trip to Redis.\n"
                          "# TYPE tailor_redis_latency_seconds histogram\n");
    uintptr_t cumulative = 0;
    for (ngx_uint_t i = 0; i < NGX_HTTP_TAILOR_LATENCY_BUCKETS; i++) {
        cumulative += all.latency_buckets[i];
        ngx_msec_int_t us = ngx_http_tailor_latency_bounds_us[i];
        ngx_http_tailor_print(
            t, "tailor_redis_latency_seconds_bucket{le=\"%d.%06d\"} %" PRIuPTR "\n",
            static_cast<int>(us / 1000000), static_cast<int>(us % 1000000), cumulative);
    }
    cumulative += all.latency_buckets[NGX_HTTP_TAILOR_LATENCY_BUCKETS];
    uintptr_t sum = static_cast<uintptr_t>(all.latency_sum_us);
    ngx_http_tailor_print(t,
                          "tailor_redis_latency_seconds_bucket{le=\"+Inf\"} %" PRIuPTR
                          "\n"
                          "tailor_redis_latency_seconds_sum %" PRIuPTR ".%06" PRIuPTR
                          "\n"
                          "tailor_redis_latency_seconds_count %" PRIuPTR "\n",
                          cumulative, sum / 1000000, sum % 1000000,
                          static_cast<uintptr_t>(all.latency_count));

    ngx_http_tailor_series_render(ngx_http_tailor_status_series, &t->pos, t->end);
    ngx_http_tailor_limit_render_status(&t->pos, t->end);
    ngx_http_tailor_events_render_status(&t->pos, t->end);
}

}  // namespace

void* ngx_http_tailor_shm_data(ngx_shm_zone_t* zone, void* data, size_t size) noexcept {
    if (data != nullptr) {
        zone->data = data;
        return data;
    }

    auto* shpool = reinterpret_cast<ngx_slab_pool_t*>(zone->shm.addr);
    if (zone->shm.exists) {
        zone->data = shpool->data;
        return shpool->data;
    }

    void* fresh = ngx_slab_calloc(shpool, size);
    if (fresh == nullptr) {
        return nullptr;
    }
    shpool->data = fresh;
    zone->data = fresh;
    return fresh;
}

void ngx_http_tailor_status_print(u_char** pos, u_char* end, const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_vprint(pos, end, fmt, args);
    va_end(args);
}

ngx_int_t ngx_http_tailor_metrics_init_zone(ngx_conf_t* cf) noexcept {
    // the slab pool's own pages besides the struct's
    const size_t size =
        ngx_max(16 * ngx_pagesize,
                ngx_align(sizeof(ngx_http_tailor_metrics_t), ngx_pagesize) + 8 * ngx_pagesize);
    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &ngx_http_tailor_metrics_zone_name, size,
                                                 &ngx_http_tailor_module);
    if (zone == nullptr) {
        return NGX_ERROR;
    }
    zone->init = ngx_http_tailor_metrics_init;
    zone->noreuse = 0;
    return NGX_OK;
}

void ngx_http_tailor_metrics_count(ngx_http_tailor_counter_e counter, ngx_atomic_int_t n) noexcept {
    if (ngx_http_tailor_metrics != nullptr && counter < NGX_HTTP_TAILOR_COUNTER_COUNT) {
        ngx_http_tailor_add(&ngx_http_tailor_my_metrics()->counters[counter], n);
    }
}

void ngx_http_tailor_metrics_outcome(tailor::Outcome outcome) noexcept {
    auto i = static_cast<size_t>(outcome);
    if (ngx_http_tailor_metrics != nullptr && i < tailor::kOutcomeCount) {
        ngx_http_tailor_add(&ngx_http_tailor_my_metrics()->outcomes[i], 1);
    }
}

void ngx_http_tailor_metrics_latency(uint64_t usec) noexcept {
    if (ngx_http_tailor_metrics == nullptr) {
        return;
    }
    ngx_uint_t i = 0;
    while (i < NGX_HTTP_TAILOR_LATENCY_BUCKETS &&
           usec > static_cast<uint64_t>(ngx_http_tailor_latency_bounds_us[i])) {
        i++;
    }
    ngx_http_tailor_worker_metrics_t* mine = ngx_http_tailor_my_metrics();
    ngx_http_tailor_add(&mine->latency_buckets[i], 1);
    ngx_http_tailor_add(&mine->latency_sum_us, static_cast<ngx_atomic_int_t>(usec));
    ngx_http_tailor_add(&mine->latency_count, 1);
}

ngx_http_tailor_redis_stats_t* ngx_http_tailor_metrics_redis_slot() noexcept {
    if (ngx_http_tailor_metrics == nullptr || ngx_worker >= NGX_HTTP_TAILOR_MAX_WORKERS) {
        return nullptr;
    }
    ngx_http_tailor_redis_stats_t* slot = &ngx_http_tailor_metrics->redis[ngx_worker];
    // counters carry on across reloads; the gauges belong to the new client, and the
    // old worker of this slot, still draining, no longer sets them
    slot->owner = static_cast<uint64_t>(ngx_pid);
    slot->in_flight = 0;
    slot->connected = 0;
    return slot;
}

ngx_int_t ngx_http_tailor_send_metrics(ngx_http_request_t* r, bool ready, size_t size,
                                       ngx_http_tailor_render_pt render) noexcept {
    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    ngx_int_t rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (!ready) {
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    ngx_buf_t* b = ngx_create_temp_buf(r->pool, size);
    if (b == nullptr) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    render(&b->last, b->end);
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    ngx_str_set(&r->headers_out.content_type, "text/plain; version=0.0.4; charset=utf-8");
    r->headers_out.content_type_len = sizeof("text/plain") - 1;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);
    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    ngx_chain_t out = {b, nullptr};
    return ngx_http_output_filter(r, &out);
}

ngx_int_t ngx_http_tailor_status_handler(ngx_http_request_t* r) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));
    ngx_http_tailor_status_series = mcf->series;

    // the fixed families take about 11 KB (events included); the packs' series are sized by
    // what the packs declare
    ngx_int_t rc =
        ngx_http_tailor_send_metrics(r, ngx_http_tailor_metrics != nullptr,
                                     32768 + ngx_http_tailor_series_render_size(mcf->series) +
                                         ngx_http_tailor_limit_status_begin(r),
                                     [](u_char** pos, u_char* end) noexcept {
                                         ngx_http_tailor_text_t text = {*pos, end};
                                         ngx_http_tailor_render(&text, ngx_http_tailor_metrics);
                                         *pos = text.pos;
                                     });
    ngx_http_tailor_status_series = nullptr;
    return rc;
}
