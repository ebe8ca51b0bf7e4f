// ngx_http_tailor_redis_connection: the life of a client's one connection on nginx's event
// loop: connect (the address is a literal), the handshake (ngx_http_tailor_redis_handshake.cpp),
// lost, reconnect with jittered backoff; the stall watchdog.
#include "ngx_http_tailor_redis_internal.h"

#include <cstdarg>
#include <cstdio>

// A repeating failure (Redis down) logs at most once a second.
void ngx_http_tailor_redis_log_error(ngx_http_tailor_redis_t* rc, ngx_uint_t level, const char* fmt,
                                     ...) noexcept {
    va_list args;

    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(&rc->log_limit, level, rc->log, rc->log_prefix, fmt, args);
    va_end(args);
}

void ngx_http_tailor_redis_set_connected(ngx_http_tailor_redis_t* rc, bool connected) noexcept {
    if (rc->owner != nullptr) {
        ngx_http_tailor_redis_cluster_state(rc);
        return;
    }

    if (ngx_http_tailor_redis_owns_gauges(rc)) {
        rc->stats->connected = connected ? 1 : 0;
    }
}

namespace {

void ngx_http_tailor_redis_connect(ngx_http_tailor_redis_t* rc) noexcept;

/* the adapter's way back (ngx_http_tailor_redis_adapter.cpp) */

void ngx_http_tailor_redis_read_handler(ngx_event_t* ev) noexcept;
void ngx_http_tailor_redis_write_handler(ngx_event_t* ev) noexcept;

/* the connection's life */

void ngx_http_tailor_redis_schedule(ngx_http_tailor_redis_t* rc) noexcept {
    ngx_msec_t delay;

    delay = rc->backoff;
    delay += static_cast<ngx_msec_t>(ngx_random()) % (delay / 4 + 1);  // spread workers

    rc->backoff = ngx_min(rc->backoff * 2, rc->conf->reconnect_max);

    if (!rc->reconnect_ev.timer_set) {
        ngx_add_timer(&rc->reconnect_ev, delay);
    }
}

// Frees the context: hiredis runs every pending callback with a NULL reply,
// then our cleanup hook, then closes the fd. Never from inside hiredis (its
// callbacks, onConnect, onDisconnect): post close_ev there instead.
void ngx_http_tailor_redis_close(ngx_http_tailor_redis_t* rc, bool reconnect) noexcept {
    redisAsyncContext* ac;

    if (rc->connect_ev.timer_set) {
        ngx_del_timer(&rc->connect_ev);
    }

    if (rc->stall_ev.timer_set) {
        ngx_del_timer(&rc->stall_ev);
    }

    if (rc->close_ev.posted) {
        ngx_delete_posted_event(&rc->close_ev);
    }

    if (reconnect && rc->up) {
        rc->stats->disconnects++;
    }

    ac = rc->ac;

    rc->ac = nullptr;
    rc->state = NGX_HTTP_TAILOR_REDIS_DOWN;
    rc->up = 0;
    rc->handshake = 0;
    ngx_http_tailor_redis_set_connected(rc, false);

    if (ac != nullptr) {
        ac->onDisconnect = nullptr;
        redisAsyncFree(ac);
    }

    if (reconnect) {
        ngx_http_tailor_redis_schedule(rc);
    }
}

void ngx_http_tailor_redis_on_connect(const redisAsyncContext* ac, int status) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);

    if (status != REDIS_OK) {
        // hiredis frees the context when this returns
        if (rc->connect_ev.timer_set) {
            ngx_del_timer(&rc->connect_ev);
        }

        if (rc->close_ev.posted) {
            ngx_delete_posted_event(&rc->close_ev);
        }

        rc->ac = nullptr;
        rc->state = NGX_HTTP_TAILOR_REDIS_DOWN;
        rc->stats->connect_failures++;

        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "connect failed: %s", ac->c.errstr);
        ngx_http_tailor_redis_schedule(rc);
        return;
    }

    if (rc->state != NGX_HTTP_TAILOR_REDIS_CONNECTING) {
        return;  // a posted close is pending
    }

    if (rc->conf->password.len == 0 && rc->conf->db == 0 && !rc->conf->replica_reads) {
        ngx_http_tailor_redis_ready_now(rc);
        return;
    }

    rc->state = NGX_HTTP_TAILOR_REDIS_HANDSHAKE;

    if (!ngx_http_tailor_redis_handshake(rc)) {
        rc->stats->connect_failures++;
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "sending AUTH/SELECT/READONLY failed");
        ngx_http_tailor_redis_post_close(rc);
    }
}

// Only for a connection that was ready (or handshaking); our own closes clear
// onDisconnect first. The context is being freed and the fd is gone.
void ngx_http_tailor_redis_on_disconnect(const redisAsyncContext* ac, int status) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);

    if (rc->connect_ev.timer_set) {
        ngx_del_timer(&rc->connect_ev);
    }

    if (rc->stall_ev.timer_set) {
        ngx_del_timer(&rc->stall_ev);
    }

    if (rc->close_ev.posted) {
        ngx_delete_posted_event(&rc->close_ev);
    }

    if (rc->up) {
        rc->stats->disconnects++;

    } else if (rc->state == NGX_HTTP_TAILOR_REDIS_HANDSHAKE) {
        rc->stats->connect_failures++;
    }

    rc->ac = nullptr;
    rc->state = NGX_HTTP_TAILOR_REDIS_DOWN;
    rc->up = 0;
    rc->handshake = 0;
    ngx_http_tailor_redis_set_connected(rc, false);

    if (rc->refused != nullptr) {
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "reply refused: %s, reconnecting",
                                        rc->refused);
    } else {
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "connection lost: %s",
                                        status == REDIS_OK ? "closed" : ac->c.errstr);
    }
    rc->refused = nullptr;
    ngx_http_tailor_redis_schedule(rc);
}

}  // namespace

void ngx_http_tailor_redis_post_close(ngx_http_tailor_redis_t* rc) noexcept {
    if (rc->state != NGX_HTTP_TAILOR_REDIS_CLOSING) {
        rc->state = NGX_HTTP_TAILOR_REDIS_CLOSING;
    }

    if (!rc->close_ev.posted) {
        ngx_post_event(&rc->close_ev, &ngx_posted_events);
    }
}

namespace {

void ngx_http_tailor_redis_read_handler(ngx_event_t* ev) noexcept {
    ngx_http_tailor_redis_t* rc;

    auto* c = static_cast<ngx_connection_t*>(ev->data);
    auto* ac = static_cast<redisAsyncContext*>(c->data);

    rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);

    // hiredis 0.14 has no reply size limit: a reply still unparsed past
    // max_reply (it grows 16k per read) costs the connection, not the worker
    if (ac->c.reader->len - ac->c.reader->pos > rc->conf->max_reply) {
        rc->stats->reply_resets++;
        ngx_http_tailor_redis_log_error(
            rc, NGX_LOG_ERR, "reply larger than max_reply %uz, reconnecting", rc->conf->max_reply);
        ngx_http_tailor_redis_close(rc, true);
        return;
    }

    redisAsyncHandleRead(ac);

    // ac and c may be gone now
}

void ngx_http_tailor_redis_write_handler(ngx_event_t* ev) noexcept {
    auto* c = static_cast<ngx_connection_t*>(ev->data);

    ngx_http_tailor_redis_adapter_write(static_cast<redisAsyncContext*>(c->data));

    // ac and c may be gone now
}

/* timers */

void ngx_http_tailor_redis_connect_timeout(ngx_event_t* ev) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ev->data);

    rc->stats->connect_failures++;
    ngx_http_tailor_redis_log_error(
        rc, NGX_LOG_ERR, "%s timed out after %M ms",
        rc->state == NGX_HTTP_TAILOR_REDIS_HANDSHAKE ? "AUTH/SELECT" : "connect",
        rc->conf->connect_timeout);
    ngx_http_tailor_redis_close(rc, true);
}

// Replies come in order: if commands were waiting at the last tick and not one
// reply arrived since, the oldest has waited at least stall_timeout.
void ngx_http_tailor_redis_stall_tick(ngx_event_t* ev) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ev->data);

    if (rc->state != NGX_HTTP_TAILOR_REDIS_READY) {
        return;
    }

    if (rc->stall_waiting && rc->in_flight > 0 && rc->conn_replies == rc->stall_replies) {
        rc->stats->stall_resets++;
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR,
                                        "no reply in %M ms, %uL commands waiting, reconnecting",
                                        rc->conf->stall_timeout, rc->in_flight);
        ngx_http_tailor_redis_close(rc, true);
        return;
    }

    rc->stall_replies = rc->conn_replies;
    rc->stall_waiting = rc->in_flight > 0;

    ngx_add_timer(&rc->stall_ev, rc->conf->stall_timeout);
}

void ngx_http_tailor_redis_reconnect(ngx_event_t* ev) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ev->data);

    if (rc->ac == nullptr) {
        ngx_http_tailor_redis_connect(rc);
    }
}

void ngx_http_tailor_redis_posted_close(ngx_event_t* ev) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ev->data);

    ngx_http_tailor_redis_close(rc, true);
}

// The adapter is attached before redisAsyncSetConnectCallback, which arms the
// write event through it.
void ngx_http_tailor_redis_connect(ngx_http_tailor_redis_t* rc) noexcept {
    redisAsyncContext* ac;

    if (rc->conf->unix_socket) {
        ac = redisAsyncConnectUnix(rc->conf->host);
    } else {
        ac = redisAsyncConnect(rc->conf->host, rc->conf->port);
    }

    if (ac == nullptr) {
        rc->stats->connect_failures++;
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "connect failed: out of memory");
        ngx_http_tailor_redis_schedule(rc);
        return;
    }

    if (ac->err) {
        rc->stats->connect_failures++;
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "connect failed: %s", ac->errstr);
        redisAsyncFree(ac);
        ngx_http_tailor_redis_schedule(rc);
        return;
    }

    ac->data = rc;
    rc->refused = nullptr;
    ngx_http_tailor_redis_guard_reader(ac);

    if (ngx_http_tailor_redis_adapter_attach(ac, rc->log, ngx_http_tailor_redis_read_handler,
                                             ngx_http_tailor_redis_write_handler) != NGX_OK) {
        rc->stats->connect_failures++;
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "no free connection for redis");
        redisAsyncFree(ac);
        ngx_http_tailor_redis_schedule(rc);
        return;
    }

    rc->ac = ac;
    rc->state = NGX_HTTP_TAILOR_REDIS_CONNECTING;

    (void)redisAsyncSetConnectCallback(ac, ngx_http_tailor_redis_on_connect);
    (void)redisAsyncSetDisconnectCallback(ac, ngx_http_tailor_redis_on_disconnect);

    if (rc->state == NGX_HTTP_TAILOR_REDIS_CONNECTING && !rc->connect_ev.timer_set) {
        ngx_add_timer(&rc->connect_ev, rc->conf->connect_timeout);
    }
}

void ngx_http_tailor_redis_init_event(ngx_http_tailor_redis_t* rc, ngx_event_t* ev,
                                      ngx_event_handler_pt handler) noexcept {
    ev->handler = handler;
    ev->data = rc;
    ev->log = rc->log;
    ev->cancelable = 1;  // graceful shutdown does not wait for these
}

}  // namespace

// The hooks run inside hiredis, where the context must not be freed: a failure
// only posts a close.
void ngx_http_tailor_redis_adapter_failed(redisAsyncContext* ac, const char* what) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);

    ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "%s failed, reconnecting", what);

    ngx_http_tailor_redis_post_close(rc);
}

ngx_http_tailor_redis_t* ngx_http_tailor_redis_create(
    ngx_cycle_t* cycle, const ngx_http_tailor_redis_conf_t* conf, const char* name,
    ngx_http_tailor_redis_stats_t* stats) noexcept {
    ngx_http_tailor_redis_t* rc;

    rc = static_cast<ngx_http_tailor_redis_t*>(
        ngx_calloc(sizeof(ngx_http_tailor_redis_t), cycle->log));
    if (rc == nullptr) {
        return nullptr;
    }

    rc->conf = conf;
    rc->name = name;
    (void)snprintf(rc->log_prefix, sizeof(rc->log_prefix), "tailor redis \"%s\" %.*s: ", name,
                   static_cast<int>(ngx_min(conf->peer.len, NGX_SOCKADDR_STRLEN)),
                   reinterpret_cast<const char*>(conf->peer.data));
    rc->log = cycle->log;
    rc->stats = stats ? stats : &rc->own_stats;
    rc->own_stats.owner = static_cast<uint64_t>(ngx_pid);  // a shared block is claimed by its slot
    rc->backoff = conf->reconnect;
    rc->state = NGX_HTTP_TAILOR_REDIS_DOWN;

    ngx_http_tailor_redis_init_event(rc, &rc->connect_ev, ngx_http_tailor_redis_connect_timeout);
    ngx_http_tailor_redis_init_event(rc, &rc->stall_ev, ngx_http_tailor_redis_stall_tick);
    ngx_http_tailor_redis_init_event(rc, &rc->reconnect_ev, ngx_http_tailor_redis_reconnect);
    ngx_http_tailor_redis_init_event(rc, &rc->close_ev, ngx_http_tailor_redis_posted_close);

    if (conf->cluster) {
        // no connection of its own: one per node, once the slot map names them
        if (ngx_http_tailor_redis_cluster_init(rc, cycle) != NGX_OK) {
            ngx_free(rc);
            return nullptr;
        }
        return rc;
    }

    ngx_http_tailor_redis_connect(rc);

    return rc;
}

void ngx_http_tailor_redis_destroy(ngx_http_tailor_redis_t* rc) noexcept {
    if (rc == nullptr) {
        return;
    }

    if (rc->cluster != nullptr) {
        ngx_http_tailor_redis_cluster_destroy(rc);
    }

    ngx_http_tailor_redis_close(rc, false);

    if (rc->reconnect_ev.timer_set) {
        ngx_del_timer(&rc->reconnect_ev);
    }

    ngx_free(rc);
}
