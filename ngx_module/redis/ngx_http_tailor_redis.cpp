// ngx_http_tailor_redis: admission, commands and their replies on a client's connection.
#include "ngx_http_tailor_redis_internal.h"

#include <time.h>

#include "tailor/store/resp.h"

uint64_t ngx_http_tailor_redis_clock_us() noexcept {
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        return 0;
    }

    return static_cast<uint64_t>(ts.tv_sec) * 1000000 + static_cast<uint64_t>(ts.tv_nsec) / 1000;
}

void ngx_http_tailor_redis_set_in_flight(ngx_http_tailor_redis_t* rc) noexcept {
    if (rc->owner != nullptr) {
        ngx_http_tailor_redis_cluster_gauges(rc);
        return;
    }

    if (ngx_http_tailor_redis_owns_gauges(rc)) {
        rc->stats->in_flight = rc->in_flight;
    }
}

namespace {

// A reply to a send_each op: its command's data gets it, unless the op was cancelled; the op
// goes with its last reply.
void ngx_http_tailor_redis_on_each_reply(ngx_http_tailor_redis_op_t* op,
                                         const redisReply* reply) noexcept {
    const ngx_uint_t i = op->next++;
    const bool last = --op->pending == 0;
    ngx_http_tailor_redis_handler_pt handler = op->handler;

    if (handler != nullptr) {
        if (last) {
            op->handler = nullptr;  // a cancel from inside the handler is a no-op
        }
        handler(op->each[i], reply, ngx_http_tailor_redis_clock_us() - op->sent_us);
    }

    if (last) {
        ngx_free(op);
    }
}

}  // namespace

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

    if (rc->owner != nullptr) {
        // a cluster node's: MOVED and ASK are followed there
        ngx_http_tailor_redis_cluster_on_reply(rc, op, reply);
        return;
    }

    if (op->each != nullptr) {
        ngx_http_tailor_redis_on_each_reply(op, reply);
        return;
    }

    if (op->pending > 1) {
        // a pipeline's command before its last: only whether it went well is kept
        op->pending--;
        if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
            if (reply != nullptr && !op->broken) {
                ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "command failed: %*s",
                                                static_cast<size_t>(reply->len), reply->str);
            }
            op->broken = 1;
        }
        return;
    }

    handler = op->handler;

    if (handler != nullptr) {
        op->handler = nullptr;  // a cancel from inside the handler is a no-op
        handler(op->data, op->broken ? nullptr : reply,
                ngx_http_tailor_redis_clock_us() - op->sent_us);
    }

    ngx_free(op);
}

namespace {

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

}  // namespace

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

namespace {

// An op for a command about to be written on the one connection: nullptr when
// the connection cannot take it now (down, or over its output and pending
// bounds) or memory ran out.
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_op_new(ngx_http_tailor_redis_t* rc,
                                                         ngx_http_tailor_redis_handler_pt handler,
                                                         void* data) noexcept {
    if (!ngx_http_tailor_redis_admit(rc)) {
        return nullptr;
    }

    auto* op = static_cast<ngx_http_tailor_redis_op_t*>(
        ngx_alloc(sizeof(ngx_http_tailor_redis_op_t), rc->log));
    if (op == nullptr) {
        return nullptr;
    }

    op->handler = handler;
    op->data = data;
    op->sent_us = ngx_http_tailor_redis_clock_us();
    op->pending = 1;
    op->broken = 0;
    op->each = nullptr;
    op->next = 0;
    return op;
}

// Hands hiredis the command already in RESP (tailor/store/resp.h: its own
// formatter costs about a thousand instructions an argument). Small commands
// are framed on the stack; REDIS_ERR when memory ran out or hiredis refused.
int ngx_http_tailor_redis_command(ngx_http_tailor_redis_t* rc, void* privdata, int argc,
                                  const char** argv, const size_t* argvlen) noexcept {
    char stack[2048];
    const size_t bytes = tailor::resp_command_bytes(argc, argvlen);
    if (bytes == 0) {
        return REDIS_ERR;
    }
    char* buf = stack;
    if (bytes > sizeof stack) {
        buf = static_cast<char*>(ngx_alloc(bytes, rc->log));
        if (buf == nullptr) {
            return REDIS_ERR;
        }
    }
    const size_t len = tailor::write_resp_command(buf, bytes, argc, argv, argvlen);
    const int rv = len == 0 ? REDIS_ERR
                            : redisAsyncFormattedCommand(rc->ac, ngx_http_tailor_redis_on_reply,
                                                         privdata, buf, len);
    if (buf != stack) {
        ngx_free(buf);
    }
    return rv;
}

// Counts a command hiredis took.
void ngx_http_tailor_redis_op_sent(ngx_http_tailor_redis_t* rc) noexcept {
    rc->in_flight++;
    rc->stats->commands++;
    ngx_http_tailor_redis_set_in_flight(rc);
}

}  // namespace

bool ngx_http_tailor_redis_is_cluster(const ngx_http_tailor_redis_t* rc) noexcept {
    return rc != nullptr && rc->cluster != nullptr;
}

bool ngx_http_tailor_redis_ready(const ngx_http_tailor_redis_t* rc) noexcept {
    if (rc != nullptr && rc->cluster != nullptr) {
        return ngx_http_tailor_redis_cluster_ready(rc);
    }

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

    if (rc == nullptr || handler == nullptr) {
        return nullptr;
    }

    if (!ngx_http_tailor_redis_allowed(argc, argv, argvlen)) {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0, "tailor redis \"%s\": command refused", rc->name);
        return nullptr;
    }

    if (rc->cluster != nullptr) {
        return ngx_http_tailor_redis_cluster_send(rc, key, argc, argv, argvlen, handler, data,
                                                  false, false);
    }

    // one server: every key lives there

    op = ngx_http_tailor_redis_op_new(rc, handler, data);
    if (op == nullptr) {
        return nullptr;
    }

    if (ngx_http_tailor_redis_command(rc, op, argc, argv, argvlen) != REDIS_OK) {
        ngx_free(op);
        return nullptr;
    }

    ngx_http_tailor_redis_op_sent(rc);
    return op;
}

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_formatted(
    ngx_http_tailor_redis_t* rc, const ngx_str_t* key, const char* name, const char* cmd,
    size_t len, ngx_http_tailor_redis_handler_pt handler, void* data) noexcept {
    ngx_http_tailor_redis_op_t* op;

    (void)key;

    if (rc == nullptr || handler == nullptr || name == nullptr || cmd == nullptr || len == 0) {
        return nullptr;
    }

    size_t name_len = ngx_strlen(name);
    if (!ngx_http_tailor_redis_allowed(1, &name, &name_len)) {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0, "tailor redis \"%s\": command refused", rc->name);
        return nullptr;
    }

    if (rc->cluster != nullptr) {
        // a preformatted command names no key to route by (nginx -t refuses
        // events, its only user, with a cluster)
        return nullptr;
    }

    op = ngx_http_tailor_redis_op_new(rc, handler, data);
    if (op == nullptr) {
        return nullptr;
    }

    if (redisAsyncFormattedCommand(rc->ac, ngx_http_tailor_redis_on_reply, op, cmd, len) !=
        REDIS_OK) {
        ngx_free(op);
        return nullptr;
    }

    ngx_http_tailor_redis_op_sent(rc);
    return op;
}

namespace {

// send_pipeline's and send_each's: `count` commands already in RESP, queued as one op for
// `handler`; nullptr when none was. hiredis appends each command to its output buffer and
// queues its callback; a refusal can only come first (the context is closing), so nothing is
// half sent, but should one come later, *partial says so and the commands queued still get
// their replies.
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_queue(ngx_http_tailor_redis_t* rc,
                                                        const char* cmds, const size_t* lens,
                                                        size_t count,
                                                        ngx_http_tailor_redis_handler_pt handler,
                                                        void* data, bool* partial) noexcept {
    if (rc == nullptr || handler == nullptr || cmds == nullptr || lens == nullptr || count == 0 ||
        rc->cluster != nullptr) {
        return nullptr;  // a cluster's commands would go to several nodes
    }

    if (rc->in_flight + count > rc->conf->max_pending) {
        rc->stats->busy_rejects++;
        return nullptr;
    }

    ngx_http_tailor_redis_op_t* op = ngx_http_tailor_redis_op_new(rc, handler, data);
    if (op == nullptr) {
        return nullptr;
    }

    *partial = false;
    const char* at = cmds;
    for (size_t i = 0; i < count; i++) {
        if (lens[i] == 0 || redisAsyncFormattedCommand(rc->ac, ngx_http_tailor_redis_on_reply, op,
                                                       at, lens[i]) != REDIS_OK) {
            if (i == 0) {
                ngx_free(op);
                return nullptr;
            }
            *partial = true;
            break;
        }
        op->pending = i + 1;
        ngx_http_tailor_redis_op_sent(rc);
        at += lens[i];
    }

    return op;
}

}  // namespace

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_pipeline(
    ngx_http_tailor_redis_t* rc, const char* cmds, const size_t* lens, size_t count,
    ngx_http_tailor_redis_handler_pt handler, void* data) noexcept {
    bool partial = false;
    ngx_http_tailor_redis_op_t* op =
        ngx_http_tailor_redis_queue(rc, cmds, lens, count, handler, data, &partial);
    if (op != nullptr && partial) {
        op->broken = 1;  // the commands queued get their replies; the handler nullptr
    }
    return op;
}

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_each(
    ngx_http_tailor_redis_t* rc, const char* cmds, const size_t* lens, size_t count,
    ngx_http_tailor_redis_handler_pt handler, void* const* datas) noexcept {
    if (datas == nullptr) {
        return nullptr;
    }
    bool partial = false;
    ngx_http_tailor_redis_op_t* op =
        ngx_http_tailor_redis_queue(rc, cmds, lens, count, handler, nullptr, &partial);
    if (op == nullptr) {
        return nullptr;
    }
    op->each = datas;  // no reply comes inside send
    if (partial) {
        op->handler = nullptr;  // all or nothing: the replies queued are dropped
        return nullptr;
    }
    return op;
}

ngx_int_t ngx_http_tailor_redis_send_nowait(ngx_http_tailor_redis_t* rc, const ngx_str_t* key,
                                            int argc, const char** argv,
                                            const size_t* argvlen) noexcept {
    if (rc == nullptr) {
        return NGX_DECLINED;
    }

    if (!ngx_http_tailor_redis_allowed(argc, argv, argvlen)) {
        ngx_log_error(NGX_LOG_ALERT, rc->log, 0, "tailor redis \"%s\": command refused", rc->name);
        return NGX_ERROR;
    }

    if (rc->cluster != nullptr) {
        return ngx_http_tailor_redis_cluster_send(rc, key, argc, argv, argvlen, nullptr, nullptr,
                                                  false, true) != nullptr
                   ? NGX_OK
                   : NGX_DECLINED;
    }

    if (!ngx_http_tailor_redis_admit(rc)) {
        return NGX_DECLINED;
    }

    // a null privdata, not a null callback: the reply is still counted
    if (ngx_http_tailor_redis_command(rc, nullptr, argc, argv, argvlen) != REDIS_OK) {
        return NGX_ERROR;
    }

    rc->in_flight++;
    rc->stats->commands++;
    ngx_http_tailor_redis_set_in_flight(rc);

    return NGX_OK;
}

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_send_read(
    ngx_http_tailor_redis_t* rc, const ngx_str_t* key, int argc, const char** argv,
    const size_t* argvlen, ngx_http_tailor_redis_handler_pt handler, void* data) noexcept {
    if (rc == nullptr || rc->cluster == nullptr || handler == nullptr ||
        !ngx_http_tailor_redis_allowed(argc, argv, argvlen)) {
        return ngx_http_tailor_redis_send(rc, key, argc, argv, argvlen, handler, data);
    }

    return ngx_http_tailor_redis_cluster_send(rc, key, argc, argv, argvlen, handler, data, true,
                                              false);
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

bool ngx_http_tailor_redis_resent_as_eval(const redisReply** reply,
                                          ngx_http_tailor_redis_resend_pt resend,
                                          void* data) noexcept {
    static const ngx_str_t noscript = ngx_string("NOSCRIPT");

    const redisReply* r = *reply;
    if (r == nullptr || r->type != REDIS_REPLY_ERROR || r->str == nullptr ||
        r->len < noscript.len || ngx_strncmp(r->str, noscript.data, noscript.len) != 0) {
        return false;
    }
    if (resend(data)) {
        return true;
    }
    *reply = nullptr;
    return false;
}
