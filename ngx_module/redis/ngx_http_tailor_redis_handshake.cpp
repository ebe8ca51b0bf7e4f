// ngx_http_tailor_redis_handshake: what a new connection says before it takes commands (AUTH,
// with the ACL user when there is one; SELECT; READONLY for replica reads), and the client
// ready once every one of them answered.
#include "ngx_http_tailor_redis_internal.h"

char ngx_http_tailor_redis_handshake_tag;

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
    ngx_http_tailor_redis_set_connected(rc, true);

    ngx_add_timer(&rc->stall_ev, rc->conf->stall_timeout);

    ngx_log_error(NGX_LOG_INFO, rc->log, 0, "tailor redis \"%s\" %V: connected", rc->name,
                  &rc->conf->peer);
}

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

    if (rc->conf->replica_reads) {
        // a replica answers reads of its primary's slots; harmless on a primary, and a
        // replica promoted later keeps it
        argv[0] = "READONLY";
        argvlen[0] = 8;

        if (redisAsyncCommandArgv(rc->ac, ngx_http_tailor_redis_on_reply,
                                  &ngx_http_tailor_redis_handshake_tag, 1, argv,
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
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "AUTH/SELECT/READONLY failed: %*s",
                                        static_cast<size_t>(reply->len), reply->str);
        ngx_http_tailor_redis_post_close(rc);
        return;
    }

    if (--rc->handshake == 0) {
        ngx_http_tailor_redis_ready_now(rc);
    }
}
