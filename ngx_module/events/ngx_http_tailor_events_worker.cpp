// Per-worker event delivery, the nginx side: the flush timer, the events
// connection, shared-memory counters (the spool directories are
// ngx_http_tailor_events_spool.cpp). What goes next,
// what a reply means, spool and replay order and the counts are decided by
// tailor::Delivery (core/tailor/events/delivery.h); this file translates.
// Under load the queue grows while a batch is in flight, so the next batch
// carries more: many events per write. A Redis Cluster's split batches are
// ngx_http_tailor_events_cluster.cpp.
#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_events_worker.h"
#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_metrics.h"

#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "ngx_http_tailor_redis.h"
#include "tailor/events/delivery.h"
#include "tailor/events/live.h"
#include "tailor/events/spool.h"

namespace {

constexpr size_t kMaxBatchBytes = 1024 * 1024;
constexpr ngx_msec_t kMaxRetryDelay = 1000;  // backoff cap after failed batches

ngx_http_tailor_events_worker_t* ngx_http_tailor_events_worker;

void ngx_http_tailor_events_flush(ngx_http_tailor_events_worker_t* w) noexcept;

// A batch is in flight: one command, or the parts of a split one.
bool ngx_http_tailor_events_busy(const ngx_http_tailor_events_worker_t* w) noexcept {
    return w->op != nullptr || w->parts_pending > 0;
}

// What the delivery counted since the last call: into shared memory, its notes into the log.
void ngx_http_tailor_events_sync(ngx_http_tailor_events_worker_t* w) noexcept {
    tailor::DeliveryCounts c = w->delivery->take_counts();

    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_EMITTED, c.emitted);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_FLUSHED, c.flushed);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_DUPLICATES, c.duplicates);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_INVALID, c.invalid);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_BATCHES, c.batches);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_BATCH_EVENTS, c.batch_events);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_SPOOLED, c.spooled);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_REPLAYED, c.replayed);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_DROPPED, c.dropped);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_FAILED_BATCHES, c.failed_batches);
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_LIVE_EDITS_SENT, c.edit_events);

    if (c.spool_write_failed) {
        ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR,
                                           "spool write failed in \"%s\", %uz events kept in "
                                           "memory",
                                           w->spool_dir.c_str(), w->delivery->queued());
    }
    if (c.spool_full_dropped > 0) {
        ngx_http_tailor_events_log_limited(w, NGX_LOG_WARN,
                                           "spool \"%s\" is full, dropped the %uL oldest events",
                                           w->spool_dir.c_str(), c.spool_full_dropped);
    }
    if (c.orphans_removed > 0) {
        ngx_log_error(NGX_LOG_NOTICE, w->log, 0,
                      "tailor events: an adopted spool was replayed to the end and removed");
    }
    if (c.queue_full_dropped > 0) {
        ngx_http_tailor_events_log_limited(w, NGX_LOG_WARN,
                                           "queue of %ui events is full, dropped the %uL oldest",
                                           w->emcf->queue, c.queue_full_dropped);
    }

    ngx_http_tailor_events_gauges(w->slot, w->delivery->queued(), w->delivery->spooled());
}

// Flush within the interval: also when the timer is set for later (the idle look for
// orphaned spools, every 5 s), but not during a backoff, whose end the timer waits for.
void ngx_http_tailor_events_arm(ngx_http_tailor_events_worker_t* w) noexcept {
    if (!w->timer.timer_set ||
        (w->retry_at == 0 && static_cast<ngx_msec_int_t>(w->timer.timer.key - ngx_current_msec) >
                                 static_cast<ngx_msec_int_t>(w->emcf->interval))) {
        ngx_add_timer(&w->timer, w->emcf->interval);
    }
}

void ngx_http_tailor_events_reply(void* data, const redisReply* reply, uint64_t) noexcept;

}  // namespace

// Sends the delivery's batch as the live script; false when Redis would not take it.
bool ngx_http_tailor_events_send_script(ngx_http_tailor_events_worker_t* w) noexcept {
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

    tailor::LiveBatch& batch = w->delivery->batch();
    std::string_view cmd = batch.resp();
    if (cmd.empty() || batch.argc() < 1) {
        return false;
    }
    w->op = ngx_http_tailor_redis_send_formatted(w->redis, nullptr, batch.argv()[0], cmd.data(),
                                                 cmd.size(), ngx_http_tailor_events_reply, w);
    return w->op != nullptr;
}

namespace {

// Sends the delivery's batch: by commands where it may (WatchedBatch), else by the script.
bool ngx_http_tailor_events_send(ngx_http_tailor_events_worker_t* w) noexcept {
    return ngx_http_tailor_events_send_watched(w) || ngx_http_tailor_events_send_script(w);
}

bool ngx_http_tailor_events_resend_as_eval(void* data) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(data);
    w->delivery->batch().use_eval();
    return ngx_http_tailor_events_send_script(w);
}

void ngx_http_tailor_events_flush(ngx_http_tailor_events_worker_t* w) noexcept {
    if (ngx_http_tailor_events_busy(w)) {
        return;  // one batch in flight; its reply flushes again
    }
    if (w->retry_at != 0) {
        if (static_cast<ngx_msec_int_t>(w->retry_at - ngx_current_msec) > 0) {
            return;  // backing off; the timer is set for retry_at
        }
        w->retry_at = 0;
    }

    bool ready = ngx_http_tailor_redis_ready(w->redis);
    tailor::DeliveryStep step = w->delivery->next(ready);
    if (step == tailor::DeliveryStep::kIdle && ready && ngx_http_tailor_events_adopt(w)) {
        step = w->delivery->next(ready);
    }

    if (step == tailor::DeliveryStep::kSend && w->split) {
        if (!ngx_http_tailor_events_send_split(w)) {
            // the node of its first slot is down (a failover?): back off as after a failure,
            // rather than split the batch again every flush interval
            w->delivery->failed();
            ngx_http_tailor_events_done(w, false);
        }
    } else if (step == tailor::DeliveryStep::kSend && !ngx_http_tailor_events_send(w)) {
        w->delivery->not_sent();
    } else if (step == tailor::DeliveryStep::kRetry) {
        ngx_http_tailor_events_arm(w);
    }
    ngx_http_tailor_events_sync(w);
}

// The reply to a batch: one byte per event, or the batch failed (false).
bool ngx_http_tailor_events_answer(ngx_http_tailor_events_worker_t* w,
                                   const redisReply* reply) noexcept {
    size_t sent = w->delivery->batch().events();

    if (reply == nullptr || reply->type != REDIS_REPLY_STRING ||
        static_cast<size_t>(reply->len) != sent) {
        if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR, "batch of %uz events failed: %*s",
                                               sent, reply->len, reply->str);
        } else if (reply != nullptr) {
            ngx_http_tailor_events_log_limited(w, NGX_LOG_ERR,
                                               "batch of %uz events got an unexpected reply", sent);
        }
        w->delivery->failed();
        return false;
    }

    w->results.clear();
    uint64_t taken = 0;
    for (size_t i = 0; i < sent; i++) {
        w->results.push_back(tailor::live_result_of(reply->str[i]));
        taken += reply->str[i] == 'c' ? 1 : 0;
    }
    ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_LIVE_EDITS_TAKEN, taken);
    w->delivery->answered(w->results.data(), w->results.size());
    return true;
}

// Runs inside hiredis: record, send the next batch, never destroy the client.
void ngx_http_tailor_events_reply(void* data, const redisReply* reply, uint64_t) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(data);
    w->op = nullptr;

    if (ngx_http_tailor_redis_resent_as_eval(&reply, ngx_http_tailor_events_resend_as_eval, w)) {
        return;
    }

    ngx_http_tailor_events_done(w, ngx_http_tailor_events_answer(w, reply));
}

void ngx_http_tailor_events_timer_handler(ngx_event_t* ev) noexcept {
    auto* w = static_cast<ngx_http_tailor_events_worker_t*>(ev->data);
    ngx_http_tailor_events_flush(w);

    // keep ticking while anything waits: the queue, a spool to replay; and,
    // idle, to look for orphaned spools
    bool backlog = w->delivery->backlog();
    if ((backlog || w->emcf->spool != nullptr) && !ev->timer_set) {
        ngx_msec_t wait = backlog ? w->emcf->interval : NGX_HTTP_TAILOR_EVENTS_ADOPT_EVERY;
        if (w->retry_at != 0 && !ngx_http_tailor_events_busy(w)) {
            wait = ngx_max(static_cast<ngx_msec_int_t>(w->retry_at - ngx_current_msec), 1);
        }
        ngx_add_timer(ev, wait);
    }
}

}  // namespace

void ngx_http_tailor_events_log_limited(ngx_http_tailor_events_worker_t* w, ngx_uint_t level,
                                        const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(&w->log_limit, level, w->log, "tailor events: ", fmt, args);
    va_end(args);
}

// After a batch's outcome: the counts, then a backoff (failed) or the next batch.
void ngx_http_tailor_events_done(ngx_http_tailor_events_worker_t* w, bool answered) noexcept {
    ngx_http_tailor_events_sync(w);

    if (!answered) {
        // failed: again, first, after a delay that doubles with each failure in a row
        ngx_msec_t delay =
            static_cast<ngx_msec_t>(w->delivery->retry_delay_ms(w->emcf->interval, kMaxRetryDelay));
        w->retry_at = ngx_current_msec + delay;
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_BACKOFF_MS, delay);
        if (w->timer.timer_set) {
            ngx_del_timer(&w->timer);
        }
        ngx_add_timer(&w->timer, delay);
        return;
    }
    if (w->delivery->flush_again()) {
        ngx_http_tailor_events_flush(w);
    }
    if (w->delivery->queued() > 0) {
        ngx_http_tailor_events_arm(w);
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
    auto* ccf = reinterpret_cast<ngx_core_conf_t*>(ngx_get_conf(cycle->conf_ctx, ngx_core_module));
    w->workers = static_cast<uint32_t>(ngx_max(ccf->worker_processes, 1));

    try {
        tailor::DeliveryOptions opts;
        opts.queue = emcf->queue;
        opts.batch_events = emcf->batch;
        opts.batch_bytes = kMaxBatchBytes;
        opts.live.stream.key.assign(reinterpret_cast<const char*>(emcf->stream.data),
                                    emcf->stream.len);
        opts.live.stream.maxlen = emcf->maxlen;
        opts.live.ttl_seconds = static_cast<uint32_t>(emcf->live_ttl);
        opts.live.viewed_cap = static_cast<uint32_t>(emcf->viewed_cap);
        opts.live.cart_cap = static_cast<uint32_t>(emcf->cart_cap);
        opts.live.money_scale = static_cast<uint32_t>(emcf->money_scale);
        opts.live.session_gap_seconds = static_cast<uint32_t>(emcf->session_gap);
        opts.live.max_visitors = static_cast<uint32_t>(emcf->batch_visitors);
        w->shards = emcf->shards == NGX_CONF_UNSET_UINT ? 1 : static_cast<uint32_t>(emcf->shards);
        w->split = mcf->redis->cluster || w->shards > 1;
        w->watch = emcf->watch == 1 && !w->split;
        w->watch_max_commands = mcf->redis->max_pending;
        if (w->split && emcf->replica_wait != NGX_CONF_UNSET_MSEC && emcf->replica_wait > 0) {
            w->replica_wait = std::to_string(emcf->replica_wait);
        }
        opts.live.append_to_stream = !w->split;
        w->live = opts.live;
        w->delivery = std::make_unique<tailor::Delivery>(opts);
        w->results.reserve(emcf->batch);

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

    ngx_http_tailor_redis_stats_t* stats = ngx_http_tailor_events_redis_slot(w->slot);
    if (stats != nullptr) {
        stats->in_flight = 0;
        stats->connected = 0;
    }

    w->redis = ngx_http_tailor_redis_create(cycle, mcf->redis, "events", stats);
    if (w->redis == nullptr) {
        delete w;
        return NGX_OK;
    }

    if (emcf->spool != nullptr) {
        w->delivery->set_spool(ngx_http_tailor_events_open_spool(w, cycle));
    }

    w->timer.handler = ngx_http_tailor_events_timer_handler;
    w->timer.data = w;
    w->timer.log = cycle->log;
    w->timer.cancelable = 1;
    ngx_add_timer(&w->timer, emcf->interval);

    ngx_http_tailor_events_worker = w;
    ngx_http_tailor_events_sync(w);
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

    // the batch in flight may or may not have been applied: spooled again
    // (a replay is a duplicate the script skips), and the queue behind it
    if (w->op != nullptr) {
        ngx_http_tailor_redis_cancel(w->op);
        w->op = nullptr;
    }
    if (w->watch_open != nullptr) {
        ngx_http_tailor_redis_cancel(w->watch_open);
        w->watch_open = nullptr;
    }
    for (ngx_http_tailor_events_part_t& p : w->parts) {
        if (p.op != nullptr) {
            ngx_http_tailor_redis_cancel(p.op);
            p.op = nullptr;
        }
    }
    w->parts_pending = 0;
    uint64_t dropped = w->delivery->drain_at_exit();
    if (dropped > 0) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, 0,
                      "tailor events: %uL undelivered events dropped at exit%s", dropped,
                      w->emcf->spool != nullptr ? "" : " (no tailor_events_spool)");
    }
    ngx_http_tailor_events_sync(w);

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

void ngx_http_tailor_events_enqueue(std::string_view blob, const tailor::LiveFacts* facts,
                                    std::string_view live_read) noexcept {
    ngx_http_tailor_events_worker_t* w = ngx_http_tailor_events_worker;
    if (w == nullptr) {
        return;
    }

    // The counters reach shared memory at the next flush (within the flush interval): a
    // sync per event wrote a cache line the other workers write too. The first event into
    // an idle queue syncs at once, so shared memory never shows "nothing queued" while an
    // event waits: "queued 0" keeps meaning "everything emitted was handled".
    bool idle = w->delivery->queued() == 0;
    if (w->delivery->enqueue(blob, facts, live_read) && !ngx_http_tailor_events_busy(w)) {
        ngx_http_tailor_events_flush(w);  // a full batch waits
    } else if (idle) {
        ngx_http_tailor_events_sync(w);
    }
    ngx_http_tailor_events_arm(w);
}
