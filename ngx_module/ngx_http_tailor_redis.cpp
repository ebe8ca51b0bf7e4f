// ngx_http_tailor_redis: one hiredis async connection driven by nginx events.
#include "ngx_http_tailor_redis.h"

#include <time.h>

enum ngx_http_tailor_redis_state_e : ngx_uint_t {
    NGX_HTTP_TAILOR_REDIS_DOWN = 0,    // no context; reconnect timer armed
    NGX_HTTP_TAILOR_REDIS_CONNECTING,  // connect(2) in progress
    NGX_HTTP_TAILOR_REDIS_HANDSHAKE,   // connected, AUTH/SELECT in flight
    NGX_HTTP_TAILOR_REDIS_READY,
    NGX_HTTP_TAILOR_REDIS_CLOSING  // a posted close is pending
};

struct ngx_http_tailor_redis_t {
    const ngx_http_tailor_redis_conf_t* conf;
    const char* name;
    ngx_log_t* log;
    redisAsyncContext* ac;
    ngx_uint_t state;
    ngx_flag_t up;  // has been ready
    ngx_http_tailor_redis_stats_t* stats;

    ngx_msec_t backoff;        // next reconnect delay
    ngx_uint_t handshake;      // AUTH/SELECT replies due
    uint64_t in_flight;        // callbacks due
    uint64_t conn_replies;     // replies on this connection
    uint64_t stall_replies;    // conn_replies at last tick
    ngx_flag_t stall_waiting;  // in_flight at last tick

    time_t log_sec;  // log throttle
    ngx_uint_t log_skipped;

    ngx_event_t connect_ev;  // connect_timeout
    ngx_event_t stall_ev;    // watchdog tick
    ngx_event_t reconnect_ev;
    ngx_event_t close_ev;  // posted: close from a callback

    ngx_http_tailor_redis_stats_t own_stats;
};

struct ngx_http_tailor_redis_op_t {
    ngx_http_tailor_redis_handler_pt handler;  // nullptr: cancelled
    void* data;
    uint64_t sent_us;
};

namespace {

// privdata of AUTH and SELECT replies (ops are heap, fire-and-forget is null)
char ngx_http_tailor_redis_handshake_tag;

void ngx_http_tailor_redis_connect(ngx_http_tailor_redis_t* rc) noexcept;

// A repeating failure (Redis down) logs at most once a second, with a count of
// what was held back since.
void ngx_http_tailor_redis_log_error(ngx_http_tailor_redis_t* rc, ngx_uint_t level, const char* fmt,
                                     ...) noexcept {
    u_char buf[NGX_MAX_ERROR_STR];
    u_char* p;
    u_char* last;
    va_list args;
    ngx_uint_t skipped;

    if (rc->log->log_level < level) {
        return;
    }

    if (rc->log_sec == ngx_time()) {
        rc->log_skipped++;
        return;
    }

    skipped = rc->log_skipped;
    rc->log_sec = ngx_time();
    rc->log_skipped = 0;

    last = buf + sizeof(buf);

    va_start(args, fmt);
    p = ngx_vslprintf(buf, last, fmt, args);
    va_end(args);

    if (skipped) {
        p = ngx_slprintf(p, last, " (%ui more since the last report)", skipped);
    }

    ngx_log_error(level, rc->log, 0, "tailor redis \"%s\" %V: %*s", rc->name, &rc->conf->peer,
                  static_cast<size_t>(p - buf), buf);
}

uint64_t ngx_http_tailor_redis_clock_us() noexcept {
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

/* the adapter's way back (ngx_http_tailor_redis_adapter.cpp) */

void ngx_http_tailor_redis_read_handler(ngx_event_t* ev) noexcept;
void ngx_http_tailor_redis_write_handler(ngx_event_t* ev) noexcept;

/* the connection's life */

void ngx_http_tailor_redis_set_in_flight(ngx_http_tailor_redis_t* rc) noexcept {
    rc->stats->in_flight = rc->in_flight;
}

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
    rc->stats->connected = 0;

    if (ac != nullptr) {
        ac->onDisconnect = nullptr;
        redisAsyncFree(ac);
    }

    if (reconnect) {
        ngx_http_tailor_redis_schedule(rc);
    }
}

void ngx_http_tailor_redis_ready_now(ngx_http_tailor_redis_t* rc) noexcept {
    if (rc->connect_ev.timer_set) {
        ngx_del_timer(&rc->connect_ev);
    }

    rc->state = NGX_HTTP_TAILOR_REDIS_READY;
    rc->up = 1;
    rc->backoff = rc->conf->reconnect;
    rc->conn_replies = 0;
    rc->stall_replies = 0;
    rc->stall_waiting = 0;
    rc->stats->connects++;
    rc->stats->connected = 1;

    ngx_add_timer(&rc->stall_ev, rc->conf->stall_timeout);

    ngx_log_error(NGX_LOG_INFO, rc->log, 0, "tailor redis \"%s\" %V: connected", rc->name,
                  &rc->conf->peer);
}

void ngx_http_tailor_redis_on_reply(redisAsyncContext* ac, void* r, void* privdata) noexcept;

bool ngx_http_tailor_redis_handshake(ngx_http_tailor_redis_t* rc) noexcept {
    int argc;
    u_char db[NGX_INT_T_LEN];
    const char* argv[3];
    size_t argvlen[3];

    if (rc->conf->password.len) {
        argc = 0;
        argv[argc] = "AUTH";
        argvlen[argc++] = 4;

        if (rc->conf->user.len) {
            argv[argc] = reinterpret_cast<const char*>(rc->conf->user.data);
            argvlen[argc++] = rc->conf->user.len;
        }

        argv[argc] = reinterpret_cast<const char*>(rc->conf->password.data);
        argvlen[argc++] = rc->conf->password.len;

        if (redisAsyncCommandArgv(rc->ac, ngx_http_tailor_redis_on_reply,
                                  &ngx_http_tailor_redis_handshake_tag, argc, argv,
                                  argvlen) != REDIS_OK) {
            return false;
        }

        rc->handshake++;
        rc->in_flight++;
        rc->stats->commands++;
    }

    if (rc->conf->db) {
        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = reinterpret_cast<const char*>(db);
        argvlen[1] = static_cast<size_t>(ngx_sprintf(db, "%ui", rc->conf->db) - db);

        if (redisAsyncCommandArgv(rc->ac, ngx_http_tailor_redis_on_reply,
                                  &ngx_http_tailor_redis_handshake_tag, 2, argv,
                                  argvlen) != REDIS_OK) {
            return false;
        }

        rc->handshake++;
        rc->in_flight++;
        rc->stats->commands++;
    }

    ngx_http_tailor_redis_set_in_flight(rc);
    return true;
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

    if (rc->conf->password.len == 0 && rc->conf->db == 0) {
        ngx_http_tailor_redis_ready_now(rc);
        return;
    }

    rc->state = NGX_HTTP_TAILOR_REDIS_HANDSHAKE;

    if (!ngx_http_tailor_redis_handshake(rc)) {
        rc->stats->connect_failures++;
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "sending AUTH/SELECT failed");
        rc->state = NGX_HTTP_TAILOR_REDIS_CLOSING;
        ngx_post_event(&rc->close_ev, &ngx_posted_events);
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
    rc->stats->connected = 0;

    ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "connection lost: %s",
                                    status == REDIS_OK ? "closed" : ac->c.errstr);
    ngx_http_tailor_redis_schedule(rc);
}

void ngx_http_tailor_redis_on_handshake(ngx_http_tailor_redis_t* rc,
                                        const redisReply* reply) noexcept {
    if (reply == nullptr) {
        return;  // the connection is going; on_disconnect or close decides
    }

    if (rc->state != NGX_HTTP_TAILOR_REDIS_HANDSHAKE) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        rc->stats->connect_failures++;
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "AUTH/SELECT failed: %*s",
                                        static_cast<size_t>(reply->len), reply->str);
        rc->state = NGX_HTTP_TAILOR_REDIS_CLOSING;
        if (!rc->close_ev.posted) {
            ngx_post_event(&rc->close_ev, &ngx_posted_events);
        }
        return;
    }

    if (--rc->handshake == 0) {
        ngx_http_tailor_redis_ready_now(rc);
    }
}

void ngx_http_tailor_redis_on_reply(redisAsyncContext* ac, void* r, void* privdata) noexcept {
    ngx_http_tailor_redis_op_t* op;
    ngx_http_tailor_redis_handler_pt handler;

    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);
    auto* reply = static_cast<const redisReply*>(r);

    rc->in_flight--;
    ngx_http_tailor_redis_set_in_flight(rc);

    if (reply != nullptr) {
        rc->conn_replies++;
        rc->stats->replies++;
        if (reply->type == REDIS_REPLY_ERROR) {
            rc->stats->errors++;
        }

    } else {
        rc->stats->failed++;
    }

    if (privdata == nullptr) {
        if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "command failed: %*s",
                                            static_cast<size_t>(reply->len), reply->str);
        }
        return;
    }

    if (privdata == &ngx_http_tailor_redis_handshake_tag) {
        ngx_http_tailor_redis_on_handshake(rc, reply);
        return;
    }

    op = static_cast<ngx_http_tailor_redis_op_t*>(privdata);
    handler = op->handler;

    if (handler != nullptr) {
        op->handler = nullptr;  // a cancel from inside the handler is a no-op
        handler(op->data, reply, ngx_http_tailor_redis_clock_us() - op->sent_us);
    }

    ngx_free(op);
}

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

    redisAsyncHandleWrite(static_cast<redisAsyncContext*>(c->data));

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

// Refuses what would break the one-callback-per-command accounting.
bool ngx_http_tailor_redis_allowed(int argc, const char** argv, const size_t* argvlen) noexcept {
    static const ngx_str_t refused[] = {ngx_string("subscribe"), ngx_string("psubscribe"),
                                        ngx_string("unsubscribe"), ngx_string("punsubscribe"),
                                        ngx_string("monitor")};

    if (argc < 1 || argv == nullptr || argvlen == nullptr || argv[0] == nullptr) {
        return false;
    }

    for (const auto& name : refused) {
        if (argvlen[0] == name.len &&
            ngx_strncasecmp(reinterpret_cast<u_char*>(const_cast<char*>(argv[0])), name.data,
                            name.len) == 0) {
            return false;
        }
    }

    return true;
}

// The bounds: connected and past the handshake, unsent bytes under
// max_output, in-flight commands under max_pending. Counts the reject.
bool ngx_http_tailor_redis_admit(ngx_http_tailor_redis_t* rc) noexcept {
    if (rc->state != NGX_HTTP_TAILOR_REDIS_READY || rc->ac == nullptr ||
        (rc->ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING))) {
        rc->stats->down_rejects++;
        return false;
    }

    if (sdslen(rc->ac->c.obuf) > rc->conf->max_output || rc->in_flight >= rc->conf->max_pending) {
        rc->stats->busy_rejects++;
        return false;
    }

    return true;
}

}  // namespace

// The hooks run inside hiredis, where the context must not be freed: a failure
// only posts a close.
void ngx_http_tailor_redis_adapter_failed(redisAsyncContext* ac, const char* what) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);

    ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "%s failed, reconnecting", what);

    if (rc->state != NGX_HTTP_TAILOR_REDIS_CLOSING) {
        rc->state = NGX_HTTP_TAILOR_REDIS_CLOSING;
        if (!rc->close_ev.posted) {
            ngx_post_event(&rc->close_ev, &ngx_posted_events);
        }
    }
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
    rc->log = cycle->log;
    rc->stats = stats ? stats : &rc->own_stats;
    rc->backoff = conf->reconnect;
    rc->state = NGX_HTTP_TAILOR_REDIS_DOWN;

    ngx_http_tailor_redis_init_event(rc, &rc->connect_ev, ngx_http_tailor_redis_connect_timeout);
    ngx_http_tailor_redis_init_event(rc, &rc->stall_ev, ngx_http_tailor_redis_stall_tick);
    ngx_http_tailor_redis_init_event(rc, &rc->reconnect_ev, ngx_http_tailor_redis_reconnect);
    ngx_http_tailor_redis_init_event(rc, &rc->close_ev, ngx_http_tailor_redis_posted_close);

    ngx_http_tailor_redis_connect(rc);

    return rc;
}

void ngx_http_tailor_redis_destroy(ngx_http_tailor_redis_t* rc) noexcept {
    if (rc == nullptr) {
        return;
    }

    ngx_http_tailor_redis_close(rc, false);

    if (rc->reconnect_ev.timer_set) {
        ngx_del_timer(&rc->reconnect_ev);
    }

    ngx_free(rc);
}

bool ngx_http_tailor_redis_ready(const ngx_http_tailor_redis_t* rc) noexcept {
    return rc != nullptr && rc->state == NGX_HTTP_TAILOR_REDIS_READY && rc->ac != nullptr &&
           !(rc->ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING)) &&
           sdslen(rc->ac->c.obuf) <= rc->conf->max_output && rc->in_flight < rc->conf->max_pending;
}

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send(ngx_http_tailor_redis_t* rc,
                                                       const ngx_str_t* key, int argc,
                                                       const char** argv, const size_t* argvlen,
                                                       ngx_http_tailor_redis_handler_pt handler,
                                                       void* data) noexcept {
    ngx_http_tailor_redis_op_t* op;

    (void)key;  // one server: every key lives there (docs/redis.md: Cluster)

    if (rc == nullptr || handler == nullptr) {
        return nullptr;
    }

    if (!ngx_http_tailor_redis_allowed(argc, argv, argvlen)) {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0, "tailor redis \"%s\": command refused", rc->name);
        return nullptr;
    }

    if (!ngx_http_tailor_redis_admit(rc)) {
        return nullptr;
    }

    op = static_cast<ngx_http_tailor_redis_op_t*>(
        ngx_alloc(sizeof(ngx_http_tailor_redis_op_t), rc->log));
    if (op == nullptr) {
        return nullptr;
    }

    op->handler = handler;
    op->data = data;
    op->sent_us = ngx_http_tailor_redis_clock_us();

    if (redisAsyncCommandArgv(rc->ac, ngx_http_tailor_redis_on_reply, op, argc, argv, argvlen) !=
        REDIS_OK) {
        ngx_free(op);
        return nullptr;
    }

    rc->in_flight++;
    rc->stats->commands++;
    ngx_http_tailor_redis_set_in_flight(rc);

    return op;
}

ngx_int_t ngx_http_tailor_redis_send_nowait(ngx_http_tailor_redis_t* rc, const ngx_str_t* key,
                                            int argc, const char** argv,
                                            const size_t* argvlen) noexcept {
    (void)key;

    if (rc == nullptr) {
        return NGX_DECLINED;
    }

    if (!ngx_http_tailor_redis_allowed(argc, argv, argvlen)) {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0, "tailor redis \"%s\": command refused", rc->name);
        return NGX_ERROR;
    }

    if (!ngx_http_tailor_redis_admit(rc)) {
        return NGX_DECLINED;
    }

    // a null privdata, not a null callback: the reply is still counted
    if (redisAsyncCommandArgv(rc->ac, ngx_http_tailor_redis_on_reply, nullptr, argc, argv,
                              argvlen) != REDIS_OK) {
        return NGX_ERROR;
    }

    rc->in_flight++;
    rc->stats->commands++;
    ngx_http_tailor_redis_set_in_flight(rc);

    return NGX_OK;
}

void ngx_http_tailor_redis_cancel(ngx_http_tailor_redis_op_t* op) noexcept {
    if (op != nullptr) {
        op->handler = nullptr;
    }
}

const ngx_http_tailor_redis_stats_t* ngx_http_tailor_redis_stats(
    const ngx_http_tailor_redis_t* rc) noexcept {
    return rc ? rc->stats : nullptr;
}

uint64_t ngx_http_tailor_redis_now_us() noexcept {
    return ngx_http_tailor_redis_clock_us();
}
