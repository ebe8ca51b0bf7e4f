// The events counters: one shared zone, a slot per worker for the gauges and the events
// connection's Redis stats, served as Prometheus text (tailor_events_status, and inside
// tailor_status).
#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_metrics.h"

#include <cinttypes>

#include "ngx_http_tailor_redis.h"
#include "tailor/events/upstream_event.h"

namespace {

struct ngx_http_tailor_events_shm_t {
    ngx_atomic_t counters[NGX_HTTP_TAILOR_EVENTS_COUNTER_COUNT];
    ngx_atomic_t queued[NGX_HTTP_TAILOR_MAX_WORKERS];   // gauge per worker
    ngx_atomic_t pending[NGX_HTTP_TAILOR_MAX_WORKERS];  // gauge per worker: spool records
    ngx_http_tailor_redis_stats_t redis[NGX_HTTP_TAILOR_MAX_WORKERS];
    ngx_atomic_t upstream_refused[tailor::kUpstreamEventErrorCount];  // by reason
};

ngx_str_t ngx_http_tailor_events_zone_name = ngx_string("tailor_events");
ngx_http_tailor_events_shm_t* ngx_http_tailor_events_shm;

struct ngx_http_tailor_events_desc_t {
    const char* name;
    const char* help;
};

constexpr ngx_http_tailor_events_desc_t
    ngx_http_tailor_events_descs[NGX_HTTP_TAILOR_EVENTS_COUNTER_COUNT] = {
        {"tailor_events_emitted_total", "Events built at the log phase and queued."},
        {"tailor_events_flushed_total", "Events Redis appended to the stream and applied."},
        {"tailor_events_duplicates_total", "Events Redis had already applied (replays)."},
        {"tailor_events_invalid_total", "Events the live script refused."},
        {"tailor_events_batches_total", "Batches (EVALSHA calls) Redis answered."},
        {"tailor_events_batch_events_total", "Events carried by those batches."},
        {"tailor_events_spooled_total", "Events written to the on-disk spool."},
        {"tailor_events_replayed_total", "Spooled events delivered after Redis came back."},
        {"tailor_events_dropped_total", "Events lost: queue or spool full, no spool, errors."},
        {"tailor_events_failed_batches_total", "Batches that got no usable reply."},
        {"tailor_events_bad_properties_total", "Declared properties left out (not a number)."},
        {"tailor_events_stripped_params_total", "Sensitive query parameters cut from paths."},
        {"tailor_events_identify_total", "Identify events made from identity links."},
        {"tailor_events_backoff_ms_total",
         "Milliseconds of backoff after failed batches (doubling, capped at 1 s)."},
        {"tailor_events_upstream_total", "Events the upstream's event header declared, emitted."},
        {"tailor_events_upstream_ignored_total",
         "Upstream event headers ignored: a stored response (cache hit), or no consent, "
         "visitor or events there."},
        {"tailor_events_live_edits_sent_total",
         "Events sent with nginx's edit of their visitor's live map (compare-and-set)."},
        {"tailor_events_live_edits_taken_total",
         "Of those, events whose edit Redis stored: the map was still the one read."},
        {"tailor_events_watched_batches_total",
         "Batches committed as WATCH/MGET and MULTI/EXEC instead of the live script."},
        {"tailor_events_watch_conflicts_total",
         "Of the batches checked so, those whose EXEC ran nothing (a watched key changed): "
         "sent by the script."},
        {"tailor_events_watch_declined_total",
         "Batches checked that went by the script: an erased visitor, a replay, a map gone "
         "or not editable in nginx."},
};

void ngx_http_tailor_events_add(ngx_http_tailor_events_counter_e c, uint64_t n) noexcept {
    if (ngx_http_tailor_events_shm != nullptr && n > 0) {
        (void)ngx_atomic_fetch_add(&ngx_http_tailor_events_shm->counters[c],
                                   static_cast<ngx_atomic_int_t>(n));
    }
}

ngx_int_t ngx_http_tailor_events_zone_init(ngx_shm_zone_t* zone, void* data) noexcept {
    ngx_http_tailor_events_shm = static_cast<ngx_http_tailor_events_shm_t*>(
        ngx_http_tailor_shm_data(zone, data, sizeof(ngx_http_tailor_events_shm_t)));
    return ngx_http_tailor_events_shm != nullptr ? NGX_OK : NGX_ERROR;
}

}  // namespace

ngx_int_t ngx_http_tailor_events_init_zone(ngx_conf_t* cf) noexcept {
    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &ngx_http_tailor_events_zone_name,
                                                 16 * ngx_pagesize, &ngx_http_tailor_events_module);
    if (zone == nullptr) {
        return NGX_ERROR;
    }
    zone->init = ngx_http_tailor_events_zone_init;
    zone->noreuse = 0;
    return NGX_OK;
}

void ngx_http_tailor_events_count(ngx_http_tailor_events_counter_e counter, uint64_t n) noexcept {
    if (counter < NGX_HTTP_TAILOR_EVENTS_COUNTER_COUNT) {
        ngx_http_tailor_events_add(counter, n);
    }
}

void ngx_http_tailor_events_count_upstream_refused(unsigned reason) noexcept {
    if (ngx_http_tailor_events_shm != nullptr && reason > 0 &&
        reason < tailor::kUpstreamEventErrorCount) {
        (void)ngx_atomic_fetch_add(&ngx_http_tailor_events_shm->upstream_refused[reason], 1);
    }
}

ngx_http_tailor_redis_stats_t* ngx_http_tailor_events_redis_slot(ngx_uint_t slot) noexcept {
    if (ngx_http_tailor_events_shm == nullptr || slot >= NGX_HTTP_TAILOR_MAX_WORKERS) {
        return nullptr;
    }
    // called once, by the worker that takes the slot: its gauges are this worker's from now
    // on, and the old worker of the slot, still draining after a reload, no longer sets them
    ngx_http_tailor_events_shm->redis[slot].owner = static_cast<uint64_t>(ngx_pid);
    return &ngx_http_tailor_events_shm->redis[slot];
}

void ngx_http_tailor_events_gauges(ngx_uint_t slot, uint64_t queued, uint64_t pending) noexcept {
    if (ngx_http_tailor_events_shm == nullptr || slot >= NGX_HTTP_TAILOR_MAX_WORKERS ||
        ngx_http_tailor_events_shm->redis[slot].owner != static_cast<uint64_t>(ngx_pid)) {
        return;
    }
    ngx_http_tailor_events_shm->queued[slot] = static_cast<ngx_atomic_uint_t>(queued);
    ngx_http_tailor_events_shm->pending[slot] = static_cast<ngx_atomic_uint_t>(pending);
}

void ngx_http_tailor_events_render_status(u_char** pos, u_char* end) noexcept {
    ngx_http_tailor_events_shm_t* m = ngx_http_tailor_events_shm;
    if (m == nullptr) {
        return;
    }

    for (ngx_uint_t i = 0; i < NGX_HTTP_TAILOR_EVENTS_COUNTER_COUNT; i++) {
        const auto& d = ngx_http_tailor_events_descs[i];
        ngx_http_tailor_status_print(pos, end, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n",
                                     d.name, d.help, d.name, d.name,
                                     static_cast<uint64_t>(m->counters[i]));
    }

    ngx_http_tailor_status_print(pos, end,
                                 "# HELP tailor_events_upstream_refused_total Upstream event "
                                 "headers dropped, by reason.\n"
                                 "# TYPE tailor_events_upstream_refused_total counter\n");
    for (size_t i = 1; i < tailor::kUpstreamEventErrorCount; i++) {
        std::string_view reason =
            tailor::upstream_event_error_name(static_cast<tailor::UpstreamEventError>(i));
        ngx_http_tailor_status_print(pos, end,
                                     "tailor_events_upstream_refused_total{reason=\"%.*s\"} "
                                     "%" PRIu64 "\n",
                                     static_cast<int>(reason.size()), reason.data(),
                                     static_cast<uint64_t>(m->upstream_refused[i]));
    }

    uint64_t queued = 0;
    uint64_t pending = 0;
    uint64_t connected = 0;
    uint64_t disconnects = 0;
    for (ngx_uint_t i = 0; i < NGX_HTTP_TAILOR_MAX_WORKERS; i++) {
        queued += m->queued[i];
        pending += m->pending[i];
        connected += m->redis[i].connected;
        disconnects += m->redis[i].disconnects;
    }
    ngx_http_tailor_status_print(
        pos, end,
        "# HELP tailor_events_queued Events waiting in the workers' queues.\n"
        "# TYPE tailor_events_queued gauge\ntailor_events_queued %" PRIu64
        "\n"
        "# HELP tailor_events_spool_pending Events waiting in the workers' spools.\n"
        "# TYPE tailor_events_spool_pending gauge\ntailor_events_spool_pending %" PRIu64
        "\n"
        "# HELP tailor_events_redis_connected_workers Workers whose events connection is up.\n"
        "# TYPE tailor_events_redis_connected_workers gauge\n"
        "tailor_events_redis_connected_workers %" PRIu64
        "\n"
        "# HELP tailor_events_redis_disconnects_total Ready events connections lost, for any "
        "reason.\n"
        "# TYPE tailor_events_redis_disconnects_total counter\n"
        "tailor_events_redis_disconnects_total %" PRIu64 "\n",
        queued, pending, connected, disconnects);
}

ngx_int_t ngx_http_tailor_events_status_handler(ngx_http_request_t* r) noexcept {
    return ngx_http_tailor_send_metrics(r, ngx_http_tailor_events_shm != nullptr, 8192,
                                        ngx_http_tailor_events_render_status);
}
