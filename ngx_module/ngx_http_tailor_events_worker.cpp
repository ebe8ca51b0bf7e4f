// Per-worker event delivery: a bounded FIFO of encoded events, flushed as one
// EVALSHA of the live-state script per batch on the events connection, and an
// on-disk spool while Redis is down or backed up.
//
// Order is what makes delivery exactly-once: the script applies each
// (producer, seq) at most once per visitor, so a producer must deliver in seq
// order. Hence one batch in flight at a time (a failed batch is retried
// before anything behind it), and while the spool holds records, everything
// new goes behind them. Under load the queue grows while a batch is in
// flight, so the next batch carries more: many events per write.
#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_metrics.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "ngx_http_tailor_redis.h"
#include "tailor/events/live.h"
#include "tailor/events/spool.h"

namespace {

constexpr ngx_uint_t kMaxWorkers = 64;
constexpr size_t kMaxBatchBytes = 1024 * 1024;
constexpr ngx_uint_t kSpoolTries = 8;     // w<slot>, w<slot>-1, ... during reload overlap
constexpr ngx_msec_t kAdoptEvery = 5000;  // look for a spool left by a worker that is gone

struct ngx_http_tailor_events_shm_t {
    ngx_atomic_t counters[NGX_HTTP_TAILOR_EVENTS_COUNTER_COUNT];
    ngx_atomic_t queued[kMaxWorkers];   // gauge per worker
    ngx_atomic_t pending[kMaxWorkers];  // gauge per worker: spool records
    ngx_http_tailor_redis_stats_t redis[kMaxWorkers];
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
};

// One worker's delivery state; heap, created in init_process.
struct ngx_http_tailor_events_worker_t {
    ngx_cycle_t* cycle = nullptr;
    ngx_log_t* log = nullptr;
    ngx_http_tailor_events_main_conf_t* emcf = nullptr;
    ngx_http_tailor_redis_t* redis = nullptr;
    ngx_uint_t slot = 0;  // ngx_worker, capped for the shm arrays

    std::string producer;
    uint64_t seq = 0;

    // the queue: a ring of reusable strings; [head, head + count)
    std::vector<std::string> ring;
    size_t head = 0;
    size_t count = 0;

    // the one batch in flight
    ngx_http_tailor_redis_op_t* op = nullptr;
    tailor::LiveConfig live;
    tailor::LiveBatch batch;
    size_t in_flight = 0;                // queue events in it (from head)
    tailor::Spool* replaying = nullptr;  // or: the spool whose peeked batch it is
    bool evaled = false;                 // resent as EVAL after NOSCRIPT
    uint64_t script_connects = 0;        // connection the script was loaded on (+1)

    std::unique_ptr<tailor::Spool> spool;
    std::unique_ptr<tailor::Spool> adopted;  // a gone worker's spool, replayed
    std::string spool_dir;
    tailor::SpoolBatch spool_batch;
    ngx_msec_t adopt_at = 0;

    ngx_event_t timer;
    time_t log_sec = 0;
    ngx_uint_t log_skipped = 0;
};

ngx_http_tailor_events_worker_t* ngx_http_tailor_events_worker;

void ngx_http_tailor_events_flush(ngx_http_tailor_events_worker_t* w) noexcept;

void ngx_http_tailor_events_log_limited(ngx_http_tailor_events_worker_t* w, ngx_uint_t level,
                                        const char* fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));

// A repeating failure logs at most once a second, with what was skipped.
void ngx_http_tailor_events_log_limited(ngx_http_tailor_events_worker_t* w, ngx_uint_t level,
                                        const char* fmt, ...) noexcept {
    if (w->log->log_level < level) {
        return;
    }
    if (w->log_sec == ngx_time()) {
        w->log_skipped++;
        return;
    }
    ngx_uint_t skipped = w->log_skipped;
    w->log_sec = ngx_time();
    w->log_skipped = 0;

    char text[512];
    va_list args;
    va_start(args, fmt);
    (void)vsnprintf(text, sizeof(text), fmt, args);
    va_end(args);
    if (skipped > 0) {
        ngx_log_error(level, w->log, 0, "tailor events: %s (%ui similar messages skipped)", text,
                      skipped);
    } else {
        ngx_log_error(level, w->log, 0, "tailor events: %s", text);
    }
}

void ngx_http_tailor_events_add(ngx_http_tailor_events_counter_e c, uint64_t n) noexcept {
    if (ngx_http_tailor_events_shm != nullptr) {
        (void)ngx_atomic_fetch_add(&ngx_http_tailor_events_shm->counters[c],
                                   static_cast<ngx_atomic_int_t>(n));
    }
}

void ngx_http_tailor_events_gauges(ngx_http_tailor_events_worker_t* w) noexcept {
    if (ngx_http_tailor_events_shm == nullptr || w->slot >= kMaxWorkers) {
        return;
    }
    uint64_t pending = 0;
    if (w->spool) {
        pending += w->spool->stats().pending_records;
    }
    if (w->adopted) {
        pending += w->adopted->stats().pending_records;
    }
    ngx_http_tailor_events_shm->queued[w->slot] = static_cast<ngx_atomic_uint_t>(w->count);
    ngx_http_tailor_events_shm->pending[w->slot] = static_cast<ngx_atomic_uint_t>(pending);
}

std::string& ngx_http_tailor_events_at(ngx_http_tailor_events_worker_t* w, size_t i) noexcept {
    return w->ring[(w->head + i) % w->ring.size()];
}

void ngx_http_tailor_events_pop(ngx_http_tailor_events_worker_t* w, size_t n) noexcept {
    w->head = (w->head + n) % w->ring.size();
    w->count -= n;
}

void ngx_http_tailor_events_arm(ngx_http_tailor_events_worker_t* w) noexcept {
    if (!w->timer.timer_set) {
        ngx_add_timer(&w->timer, w->emcf->interval);
    }
}

bool ngx_http_tailor_events_spool_pending(ngx_http_tailor_events_worker_t* w) noexcept {
    return w->spool && !w->spool->empty();
}

// Moves the queue (nothing of it in flight) to the tail of the spool, in order.
void ngx_http_tailor_events_spool_queue(ngx_http_tailor_events_worker_t* w) noexcept {
    if (!w->spool || w->in_flight != 0) {
        return;
    }
    while (w->count > 0) {
        tailor::AppendResult res = w->spool->append(ngx_http_tailor_events_at(w, 0));
        if (res.status == tailor::AppendStatus::kIoError) {
            ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR,
                                               "spool write failed in \"%s\", %zu events kept "
                                               "in memory",
                                               w->spool_dir.c_str(), w->count);
            return;
        }
        if (res.status == tailor::AppendStatus::kTooLarge) {
            ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_DROPPED, 1);
        } else {
            ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_SPOOLED, 1);
        }
        if (res.dropped > 0) {
            ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_DROPPED, res.dropped);
            ngx_http_tailor_events_log_limited(
                w, NGX_LOG_WARN, "spool \"%s\" is full, dropped the %" PRIu64 " oldest events",
                w->spool_dir.c_str(), res.dropped);
        }
        ngx_http_tailor_events_pop(w, 1);
    }
}

void ngx_http_tailor_events_reply(void* data, const redisReply* reply, uint64_t) noexcept;

// Sends w->batch (already finished); false when Redis would not take it.
bool ngx_http_tailor_events_send(ngx_http_tailor_events_worker_t* w) noexcept {
    const ngx_http_tailor_redis_stats_t* st = ngx_http_tailor_redis_stats(w->redis);
    if (st != nullptr && st->connects + 1 != w->script_connects) {
        // once per connection; Redis runs it before the EVALSHA behind it
        std::string_view script = tailor::kLiveScript;
        const char* argv[] = {"SCRIPT", "LOAD", script.data()};
        size_t argvlen[] = {6, 4, script.size()};
        if (ngx_http_tailor_redis_send_nowait(w->redis, nullptr, 3, argv, argvlen) != NGX_OK) {
            return false;
        }
        w->script_connects = st->connects + 1;
    }

    w->op = ngx_http_tailor_redis_send(w->redis, nullptr, w->batch.argc(), w->batch.argv(),
                                       w->batch.argvlen(), ngx_http_tailor_events_reply, w);
    return w->op != nullptr;
}

// Builds a batch from a spool's oldest records and sends it.
bool ngx_http_tailor_events_replay(ngx_http_tailor_events_worker_t* w,
                                   tailor::Spool* spool) noexcept {
    if (!spool->peek(w->emcf->batch, kMaxBatchBytes, &w->spool_batch)) {
        return false;
    }
    w->batch.reset(w->live);
    for (std::string_view rec : w->spool_batch.records()) {
        if (!w->batch.add(rec)) {
            ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_INVALID, 1);
        }
    }
    if (w->batch.events() == 0) {
        // nothing deliverable in it: consume it
        (void)spool->commit(w->spool_batch);
        return false;
    }
    if (!w->batch.finish()) {
        return false;
    }
    w->evaled = false;
    w->replaying = spool;
    if (!ngx_http_tailor_events_send(w)) {
        w->replaying = nullptr;
        return false;
    }
    return true;
}

// A spool directory another worker left behind (it exited during a reload
// while we took the next name): open it when its lock is free, replay it.
void ngx_http_tailor_events_adopt(ngx_http_tailor_events_worker_t* w) noexcept {
    if (w->adopted || w->emcf->spool == nullptr || ngx_current_msec < w->adopt_at) {
        return;
    }
    w->adopt_at = ngx_current_msec + kAdoptEvery;

    for (ngx_uint_t i = 0; i <= kSpoolTries; i++) {
        char dir[NGX_MAX_PATH];
        int n =
            i == 0
                ? snprintf(dir, sizeof(dir), "%.*s/w%u", static_cast<int>(w->emcf->spool->name.len),
                           w->emcf->spool->name.data, static_cast<unsigned>(w->slot))
                : snprintf(dir, sizeof(dir), "%.*s/w%u-%u",
                           static_cast<int>(w->emcf->spool->name.len), w->emcf->spool->name.data,
                           static_cast<unsigned>(w->slot), static_cast<unsigned>(i));
        if (n <= 0 || static_cast<size_t>(n) >= sizeof(dir) || w->spool_dir == dir) {
            continue;
        }
        if (access(dir, F_OK) != 0) {
            continue;
        }
        try {
            tailor::SpoolOptions opts;
            opts.dir = dir;
            opts.max_bytes = w->emcf->spool_max;
            opts.segment_bytes = w->emcf->spool_segment;
            opts.sync = static_cast<tailor::SpoolSync>(w->emcf->spool_sync);
            tailor::SpoolError err;
            std::unique_ptr<tailor::Spool> s = tailor::Spool::open(opts, &err);
            if (s && !s->empty()) {
                ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                              "tailor events: replaying %uL events another worker left in \"%s\"",
                              s->stats().pending_records, dir);
                w->adopted = std::move(s);
                return;
            }
        } catch (const std::exception&) {
            return;
        }
    }
}

void ngx_http_tailor_events_flush(ngx_http_tailor_events_worker_t* w) noexcept {
    if (w->op != nullptr) {
        return;  // one batch in flight; its reply flushes again
    }

    if (!ngx_http_tailor_redis_ready(w->redis)) {
        // down or backed up: keep the order, free the memory
        ngx_http_tailor_events_spool_queue(w);
        ngx_http_tailor_events_gauges(w);
        return;
    }

    if (ngx_http_tailor_events_spool_pending(w)) {
        ngx_http_tailor_events_spool_queue(w);
        if (ngx_http_tailor_events_replay(w, w->spool.get())) {
            ngx_http_tailor_events_gauges(w);
            return;
        }
        if (ngx_http_tailor_events_spool_pending(w)) {
            return;
        }
    }

    if (w->count > 0) {
        size_t n = 0;
        size_t bytes = 0;
        w->batch.reset(w->live);
        while (n < w->count && n < w->emcf->batch && bytes < kMaxBatchBytes) {
            const std::string& blob = ngx_http_tailor_events_at(w, n);
            if (!w->batch.add(blob)) {
                break;
            }
            bytes += blob.size();
            n++;
        }
        if (n == 0) {
            // the head is not an event the script takes: drop it, go on
            ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_INVALID, 1);
            ngx_http_tailor_events_pop(w, 1);
            ngx_http_tailor_events_arm(w);
            return;
        }
        if (!w->batch.finish()) {
            ngx_http_tailor_events_arm(w);
            return;
        }
        w->evaled = false;
        w->in_flight = n;
        if (!ngx_http_tailor_events_send(w)) {
            w->in_flight = 0;
            ngx_http_tailor_events_spool_queue(w);
        }
        ngx_http_tailor_events_gauges(w);
        return;
    }

    ngx_http_tailor_events_adopt(w);
    if (w->adopted) {
        if (!ngx_http_tailor_events_replay(w, w->adopted.get()) && w->adopted->empty()) {
            w->adopted.reset();
        }
    }
    ngx_http_tailor_events_gauges(w);
}

// Runs inside hiredis: record, send the next batch, never destroy the client.
void ngx_http_tailor_events_reply(void* data, const redisReply* reply, uint64_t) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(data);
    w->op = nullptr;

    size_t sent = w->batch.events();

    if (reply != nullptr && reply->type == REDIS_REPLY_ERROR && !w->evaled && reply->len >= 8 &&
        ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0) {
        // the script cache was flushed: run it as EVAL (which caches it again)
        w->batch.use_eval();
        w->evaled = true;
        w->op = ngx_http_tailor_redis_send(w->redis, nullptr, w->batch.argc(), w->batch.argv(),
                                           w->batch.argvlen(), ngx_http_tailor_events_reply, w);
        if (w->op != nullptr) {
            return;
        }
        reply = nullptr;
    }

    bool ok = reply != nullptr && reply->type == REDIS_REPLY_ARRAY && reply->elements == sent;

    if (!ok) {
        ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_FAILED_BATCHES, 1);
        if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR, "batch of %zu events failed: %.*s",
                                               sent, static_cast<int>(reply->len), reply->str);
        } else if (reply != nullptr) {
            ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR,
                                               "batch of %zu events got an unexpected reply", sent);
        }
        // a peeked spool batch stays peeked; queued events stay queued, or
        // go to the spool: either way they go again first, in order
        w->replaying = nullptr;
        w->in_flight = 0;
        ngx_http_tailor_events_spool_queue(w);
        ngx_http_tailor_events_gauges(w);
        ngx_http_tailor_events_arm(w);
        return;
    }

    uint64_t applied = 0;
    uint64_t duplicates = 0;
    uint64_t invalid = 0;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply* e = reply->element[i];
        long long v = e->type == REDIS_REPLY_INTEGER ? e->integer : -1;
        if (v == static_cast<long long>(tailor::LiveResult::kApplied)) {
            applied++;
        } else if (v == static_cast<long long>(tailor::LiveResult::kDuplicate)) {
            duplicates++;
        } else {
            invalid++;
        }
    }
    ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_BATCHES, 1);
    ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_BATCH_EVENTS, sent);
    ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_FLUSHED, applied);
    ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_DUPLICATES, duplicates);
    ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_INVALID, invalid);

    if (w->replaying != nullptr) {
        tailor::Spool* s = w->replaying;
        w->replaying = nullptr;
        if (s->commit(w->spool_batch)) {
            ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_REPLAYED,
                                       w->spool_batch.records().size());
        }
        if (s == w->adopted.get() && s->empty()) {
            w->adopted.reset();
        }
    } else {
        ngx_http_tailor_events_pop(w, w->in_flight);
        w->in_flight = 0;
    }

    if (ngx_http_tailor_events_spool_pending(w) || w->adopted || w->count >= w->emcf->batch) {
        ngx_http_tailor_events_flush(w);
    } else {
        ngx_http_tailor_events_gauges(w);
    }
    if (w->count > 0) {
        ngx_http_tailor_events_arm(w);
    }
}

void ngx_http_tailor_events_timer_handler(ngx_event_t* ev) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(ev->data);
    ngx_http_tailor_events_flush(w);

    // keep ticking while anything waits: the queue, a spool to replay
    if (w->count > 0 || ngx_http_tailor_events_spool_pending(w) || w->adopted ||
        w->emcf->spool != nullptr) {
        ngx_msec_t next = w->emcf->interval;
        if (w->count == 0 && !ngx_http_tailor_events_spool_pending(w) && !w->adopted) {
            next = kAdoptEvery;  // idle: only look for orphaned spools
        }
        if (!ev->timer_set) {
            ngx_add_timer(ev, next);
        }
    }
}

std::unique_ptr<tailor::Spool> ngx_http_tailor_events_open_spool(ngx_http_tailor_events_worker_t* w,
                                                                 ngx_cycle_t* cycle) noexcept {
    ngx_path_t* path = w->emcf->spool;
    for (ngx_uint_t i = 0; i <= kSpoolTries; i++) {
        char dir[NGX_MAX_PATH];
        int n = i == 0 ? snprintf(dir, sizeof(dir), "%.*s/w%u", static_cast<int>(path->name.len),
                                  path->name.data, static_cast<unsigned>(w->slot))
                       : snprintf(dir, sizeof(dir), "%.*s/w%u-%u", static_cast<int>(path->name.len),
                                  path->name.data, static_cast<unsigned>(w->slot),
                                  static_cast<unsigned>(i));
        if (n <= 0 || static_cast<size_t>(n) >= sizeof(dir)) {
            break;
        }

        tailor::SpoolOptions opts;
        opts.dir = dir;
        opts.max_bytes = w->emcf->spool_max;
        opts.segment_bytes = w->emcf->spool_segment;
        opts.sync = static_cast<tailor::SpoolSync>(w->emcf->spool_sync);

        tailor::SpoolError err = tailor::SpoolError::kOk;
        std::unique_ptr<tailor::Spool> s = tailor::Spool::open(opts, &err);
        if (s) {
            w->spool_dir = dir;
            if (!s->empty()) {
                ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0,
                              "tailor events: spool \"%s\" holds %uL events, replaying them", dir,
                              s->stats().pending_records);
            }
            return s;
        }
        if (err != tailor::SpoolError::kLocked) {
            std::string_view why = tailor::spool_error_name(err);
            ngx_log_error(NGX_LOG_ERR, cycle->log, ngx_errno,
                          "tailor events: spool \"%s\" not opened: %*s; events are dropped "
                          "while redis is down",
                          dir, why.size(), why.data());
            return nullptr;
        }
    }
    ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                  "tailor events: every spool directory for worker %ui is locked; events are "
                  "dropped while redis is down",
                  w->slot);
    return nullptr;
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

ngx_int_t ngx_http_tailor_events_init_worker(ngx_cycle_t* cycle,
                                             ngx_http_tailor_events_main_conf_t* emcf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tailor_module));
    if (mcf == nullptr || mcf->redis == nullptr) {
        return NGX_OK;
    }

    auto* w = new (std::nothrow) ngx_http_tailor_events_worker_t();
    if (w == nullptr) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "tailor events: out of memory, events off");
        return NGX_OK;
    }

    w->cycle = cycle;
    w->log = cycle->log;
    w->emcf = emcf;
    w->slot = ngx_worker;

    try {
        w->ring.resize(emcf->queue);
        w->live.stream.key.assign(reinterpret_cast<const char*>(emcf->stream.data),
                                  emcf->stream.len);
        w->live.stream.maxlen = emcf->maxlen;
        w->live.ttl_seconds = static_cast<uint32_t>(emcf->live_ttl);
        w->live.viewed_cap = static_cast<uint32_t>(emcf->viewed_cap);
        w->live.cart_cap = static_cast<uint32_t>(emcf->cart_cap);
        w->live.money_scale = static_cast<uint32_t>(emcf->money_scale);
        w->live.session_gap_seconds = static_cast<uint32_t>(emcf->session_gap);

        // host, pid and start time: unique per process, never reused, so a
        // restarted worker's seq 1 is never mistaken for an old duplicate
        char producer[NGX_MAXHOSTNAMELEN + 64];
        ngx_time_t* tp = ngx_timeofday();
        int n =
            snprintf(producer, sizeof(producer), "%.*s:%d:%" PRIx64,
                     static_cast<int>(ngx_min(cycle->hostname.len, 64)), cycle->hostname.data,
                     static_cast<int>(ngx_pid), static_cast<uint64_t>(tp->sec) * 1000 + tp->msec);
        if (n <= 0) {
            delete w;
            return NGX_OK;
        }
        w->producer.assign(producer, static_cast<size_t>(n));
    } catch (const std::exception&) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "tailor events: out of memory, events off");
        delete w;
        return NGX_OK;
    }

    ngx_http_tailor_redis_stats_t* stats = nullptr;
    if (ngx_http_tailor_events_shm != nullptr && w->slot < kMaxWorkers) {
        stats = &ngx_http_tailor_events_shm->redis[w->slot];
        stats->in_flight = 0;
        stats->connected = 0;
    }

    w->redis = ngx_http_tailor_redis_create(cycle, mcf->redis, "events", stats);
    if (w->redis == nullptr) {
        delete w;
        return NGX_OK;
    }

    if (emcf->spool != nullptr) {
        w->spool = ngx_http_tailor_events_open_spool(w, cycle);
    }

    w->timer.handler = ngx_http_tailor_events_timer_handler;
    w->timer.data = w;
    w->timer.log = cycle->log;
    w->timer.cancelable = 1;
    ngx_add_timer(&w->timer, emcf->interval);

    ngx_http_tailor_events_worker = w;
    ngx_http_tailor_events_gauges(w);
    return NGX_OK;
}

void ngx_http_tailor_events_exit_worker(ngx_cycle_t* cycle) noexcept {
    ngx_http_tailor_events_worker_t* w = ngx_http_tailor_events_worker;
    if (w == nullptr) {
        return;
    }
    ngx_http_tailor_events_worker = nullptr;

    if (w->timer.timer_set) {
        ngx_del_timer(&w->timer);
    }

    // the batch in flight may or may not have been applied: spool it again
    // (a replay is a duplicate the script skips), and the queue behind it
    if (w->op != nullptr) {
        ngx_http_tailor_redis_cancel(w->op);
        w->op = nullptr;
    }
    w->in_flight = 0;
    w->replaying = nullptr;
    ngx_http_tailor_events_spool_queue(w);

    if (w->count > 0) {
        ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_DROPPED, w->count);
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "tailor events: %uz undelivered events dropped at exit%s", w->count,
                      w->spool ? "" : " (no tailor_events_spool)");
    }
    w->count = 0;
    ngx_http_tailor_events_gauges(w);

    ngx_http_tailor_redis_destroy(w->redis);
    delete w;
}

bool ngx_http_tailor_events_next_seq(std::string_view* producer, uint64_t* seq) noexcept {
    ngx_http_tailor_events_worker_t* w = ngx_http_tailor_events_worker;
    if (w == nullptr) {
        return false;
    }
    *producer = w->producer;
    *seq = ++w->seq;
    return true;
}

void ngx_http_tailor_events_enqueue(std::string_view blob) noexcept {
    ngx_http_tailor_events_worker_t* w = ngx_http_tailor_events_worker;
    if (w == nullptr) {
        return;
    }

    if (w->count == w->ring.size()) {
        // full: make room on disk if nothing of the queue is in flight
        ngx_http_tailor_events_spool_queue(w);
    }
    if (w->count == w->ring.size()) {
        ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_DROPPED, 1);
        ngx_http_tailor_events_log_limited(
            w, NGX_LOG_WARN, "queue of %zu events is full, event dropped", w->ring.size());
        return;
    }

    try {
        ngx_http_tailor_events_at(w, w->count).assign(blob.data(), blob.size());
    } catch (const std::exception&) {
        ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_DROPPED, 1);
        return;
    }
    w->count++;
    ngx_http_tailor_events_add(NGX_HTTP_TAILOR_EVENTS_EMITTED, 1);

    if (w->count >= w->emcf->batch && w->op == nullptr) {
        ngx_http_tailor_events_flush(w);
    }
    ngx_http_tailor_events_arm(w);
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

    uint64_t queued = 0;
    uint64_t pending = 0;
    uint64_t connected = 0;
    uint64_t disconnects = 0;
    for (ngx_uint_t i = 0; i < kMaxWorkers; i++) {
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
        "# TYPE tailor_events_redis_connected_workers gauge\n"
        "tailor_events_redis_connected_workers %" PRIu64
        "\n"
        "# TYPE tailor_events_redis_disconnects_total counter\n"
        "tailor_events_redis_disconnects_total %" PRIu64 "\n",
        queued, pending, connected, disconnects);
}

ngx_int_t ngx_http_tailor_events_status_handler(ngx_http_request_t* r) noexcept {
    return ngx_http_tailor_send_metrics(r, ngx_http_tailor_events_shm != nullptr, 8192,
                                        ngx_http_tailor_events_render_status);
}
