// ngx_http_tailor_redis_adapter: hiredis's event hooks on an ngx_connection_t.
#include "ngx_http_tailor_redis.h"

namespace {

void ngx_http_tailor_redis_hook_failed(ngx_connection_t* c, const char* what) noexcept {
    ngx_http_tailor_redis_adapter_failed(static_cast<redisAsyncContext*>(c->data), what);
}

// Level-triggered, whatever the event method's default: hiredis reads 16k per
// call, and an edge-triggered fd stalls on a larger reply.
void ngx_http_tailor_redis_add_read(void* privdata) noexcept {
    auto* c = static_cast<ngx_connection_t*>(privdata);

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            ngx_http_tailor_redis_hook_failed(c, "adding read event");
        }
    }
}

void ngx_http_tailor_redis_del_read(void* privdata) noexcept {
    auto* c = static_cast<ngx_connection_t*>(privdata);

    if (c->read->active) {
        if (ngx_del_event(c->read, NGX_READ_EVENT, 0) != NGX_OK) {
            ngx_http_tailor_redis_hook_failed(c, "deleting read event");
        }
    }
}

// The connection hiredis is writing to right now (adapter_write), if any.
ngx_connection_t* ngx_http_tailor_redis_writing = nullptr;

// A command queued on a connected context is written once this iteration of the event loop
// has run its handlers, together with every command queued meanwhile: posted, not registered,
// which spares an epoll_ctl pair and a loop turn per write (the fd is nearly always writable).
// Only a write hiredis could not finish, or a connect in progress, waits for the fd in epoll.
void ngx_http_tailor_redis_add_write(void* privdata) noexcept {
    auto* c = static_cast<ngx_connection_t*>(privdata);
    auto* ac = static_cast<redisAsyncContext*>(c->data);

    if (c != ngx_http_tailor_redis_writing && (ac->c.flags & REDIS_CONNECTED) != 0) {
        if (!c->write->posted) {
            ngx_post_event(c->write, &ngx_posted_events);
        }
        return;
    }

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
            ngx_http_tailor_redis_hook_failed(c, "adding write event");
        }
    }
}

void ngx_http_tailor_redis_del_write(void* privdata) noexcept {
    auto* c = static_cast<ngx_connection_t*>(privdata);

    if (c->write->active) {
        if (ngx_del_event(c->write, NGX_WRITE_EVENT, 0) != NGX_OK) {
            ngx_http_tailor_redis_hook_failed(c, "deleting write event");
        }
    }
}

// hiredis is about to close the fd itself (redisFree): take it out of epoll
// while it is still open, drop posted events, and give the connection back
// without closing, so the fd is closed exactly once.
void ngx_http_tailor_redis_cleanup(void* privdata) noexcept {
    auto* c = static_cast<ngx_connection_t*>(privdata);

    if (c->read->active) {
        (void)ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }

    if (c->write->active) {
        (void)ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    static_cast<redisAsyncContext*>(c->data)->ev.data = nullptr;

    c->fd = static_cast<ngx_socket_t>(-1);
    ngx_free_connection(c);
}

}  // namespace

// The fd is hiredis's; nginx only watches it. Handlers find the context in
// c->data.
ngx_int_t ngx_http_tailor_redis_adapter_attach(redisAsyncContext* ac, ngx_log_t* log,
                                               ngx_event_handler_pt read_handler,
                                               ngx_event_handler_pt write_handler) noexcept {
    ngx_connection_t* c;

    c = ngx_get_connection(ac->c.fd, log);
    if (c == nullptr) {
        return NGX_ERROR;
    }

    c->data = ac;
    c->log = log;
    c->read->log = log;
    c->write->log = log;
    c->read->handler = read_handler;
    c->write->handler = write_handler;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_tailor_redis_add_read;
    ac->ev.delRead = ngx_http_tailor_redis_del_read;
    ac->ev.addWrite = ngx_http_tailor_redis_add_write;
    ac->ev.delWrite = ngx_http_tailor_redis_del_write;
    ac->ev.cleanup = ngx_http_tailor_redis_cleanup;

    return NGX_OK;
}

void ngx_http_tailor_redis_adapter_write(redisAsyncContext* ac) noexcept {
    ngx_http_tailor_redis_writing = static_cast<ngx_connection_t*>(ac->ev.data);
    redisAsyncHandleWrite(ac);
    ngx_http_tailor_redis_writing = nullptr;  // ac may be gone now
}
