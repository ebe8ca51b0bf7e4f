// ngx_http_tailor_redis_reader: hiredis's reply objects, built only for replies a command of
// ours can get. hiredis 0.14 trusts the server: a reply with no command waiting hits an
// assert in async.c (the worker aborts), and a declared `*2147483647` is allocated and then
// parsed element by element for as long as the peer sends. Here each object passes a check
// first, and a refusal (NULL) is a reader error, which costs the connection, not the worker.
#include "ngx_http_tailor_redis_internal.h"

namespace {

redisReplyObjectFunctions ngx_http_tailor_redis_default_fns;
redisReplyObjectFunctions ngx_http_tailor_redis_guarded_fns;

// The status replies a pipeline gets one of per command (+QUEUED inside MULTI, +OK), shared
// rather than allocated: a batch of events sent as MULTI/EXEC gets one per event, and its
// EXEC's array an +OK per map it stores. Never freed: free_object takes them out of an array
// before hiredis frees it (its freeReplyObject skips a null element).
char ngx_http_tailor_redis_queued_text[] = "QUEUED";
char ngx_http_tailor_redis_ok_text[] = "OK";
redisReply ngx_http_tailor_redis_queued_reply = {
    REDIS_REPLY_STATUS, 0, 6, ngx_http_tailor_redis_queued_text, 0, nullptr};
redisReply ngx_http_tailor_redis_ok_reply = {
    REDIS_REPLY_STATUS, 0, 2, ngx_http_tailor_redis_ok_text, 0, nullptr};

bool ngx_http_tailor_redis_shared_reply(const void* reply) noexcept {
    return reply == &ngx_http_tailor_redis_queued_reply || reply == &ngx_http_tailor_redis_ok_reply;
}

// The shared replies in an array (and the arrays in it), nulled; depth is bounded by the
// reader (admit_object).
void ngx_http_tailor_redis_unshare(redisReply* array) noexcept {
    if (array->element == nullptr) {
        return;
    }
    for (size_t i = 0; i < array->elements; i++) {
        redisReply* e = array->element[i];
        if (ngx_http_tailor_redis_shared_reply(e)) {
            array->element[i] = nullptr;
        } else if (e != nullptr && e->type == REDIS_REPLY_ARRAY) {
            ngx_http_tailor_redis_unshare(e);
        }
    }
}

bool ngx_http_tailor_redis_refuse(redisAsyncContext* ac, const char* why) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);

    if (rc != nullptr && rc->refused == nullptr) {
        rc->refused = why;
        rc->stats->reply_resets++;
    }

    return false;
}

// `elements`: the array's declared size, or -1 for anything else.
bool ngx_http_tailor_redis_admit_object(const redisReadTask* task, long long elements) noexcept {
    auto* ac = static_cast<redisAsyncContext*>(task->privdata);
    ngx_http_tailor_redis_t* rc;
    int depth;

    if (ac == nullptr) {
        return true;
    }

    rc = static_cast<ngx_http_tailor_redis_t*>(ac->data);

    if (task->parent == nullptr) {
        // a new reply: the callback it answers is at the head of the list. An error nobody
        // asked for ("-ERR max number of clients reached") hiredis handles itself: it keeps
        // the text for the disconnect and drops the connection
        if (ac->replies.head == nullptr && task->type != REDIS_REPLY_ERROR) {
            return ngx_http_tailor_redis_refuse(ac, "a reply no command waits for");
        }

        if (rc != nullptr) {
            rc->reply_elements = 0;
        }
    }

    if (elements < 0) {
        return true;
    }

    depth = 1;
    for (const redisReadTask* p = task->parent; p != nullptr; p = p->parent) {
        depth++;
    }

    // a cluster node also answers CLUSTER SLOTS: [range [node [metadata]]]
    if (depth > (rc != nullptr && rc->owner != nullptr ? NGX_HTTP_TAILOR_REDIS_CLUSTER_MAX_DEPTH
                                                       : NGX_HTTP_TAILOR_REDIS_MAX_DEPTH)) {
        return ngx_http_tailor_redis_refuse(ac, "arrays nested too deep");
    }

    if (rc != nullptr) {
        rc->reply_elements += elements;
        if (rc->reply_elements > NGX_HTTP_TAILOR_REDIS_MAX_ELEMENTS) {
            return ngx_http_tailor_redis_refuse(ac, "too many elements");
        }
    }

    return true;
}

void* ngx_http_tailor_redis_create_string(const redisReadTask* task, char* str,
                                          size_t len) noexcept {
    if (!ngx_http_tailor_redis_admit_object(task, -1)) {
        return nullptr;
    }

    if (task->type == REDIS_REPLY_STATUS) {
        redisReply* shared = nullptr;
        if (len == 6 && ngx_memcmp(str, "QUEUED", 6) == 0) {
            shared = &ngx_http_tailor_redis_queued_reply;
        } else if (len == 2 && str[0] == 'O' && str[1] == 'K') {
            shared = &ngx_http_tailor_redis_ok_reply;
        }
        if (shared != nullptr && task->parent != nullptr) {
            // as hiredis's own createString does: the element goes into its array
            static_cast<redisReply*>(task->parent->obj)->element[task->idx] = shared;
        }
        if (shared != nullptr) {
            return shared;
        }
    }

    return ngx_http_tailor_redis_default_fns.createString(task, str, len);
}

void ngx_http_tailor_redis_free_object(void* reply) noexcept {
    if (ngx_http_tailor_redis_shared_reply(reply)) {
        return;
    }
    auto* r = static_cast<redisReply*>(reply);
    if (r != nullptr && r->type == REDIS_REPLY_ARRAY) {
        ngx_http_tailor_redis_unshare(r);
    }
    ngx_http_tailor_redis_default_fns.freeObject(reply);
}

void* ngx_http_tailor_redis_create_array(const redisReadTask* task, int elements) noexcept {
    if (!ngx_http_tailor_redis_admit_object(task, elements)) {
        return nullptr;
    }

    return ngx_http_tailor_redis_default_fns.createArray(task, elements);
}

void* ngx_http_tailor_redis_create_integer(const redisReadTask* task, long long value) noexcept {
    if (!ngx_http_tailor_redis_admit_object(task, -1)) {
        return nullptr;
    }

    return ngx_http_tailor_redis_default_fns.createInteger(task, value);
}

void* ngx_http_tailor_redis_create_nil(const redisReadTask* task) noexcept {
    if (!ngx_http_tailor_redis_admit_object(task, -1)) {
        return nullptr;
    }

    return ngx_http_tailor_redis_default_fns.createNil(task);
}

}  // namespace

// hiredis's own functions build the objects (its redisReply, freed by freeReplyObject), so
// everything downstream sees the replies it always saw.
void ngx_http_tailor_redis_guard_reader(redisAsyncContext* ac) noexcept {
    redisReader* reader = ac->c.reader;

    if (ngx_http_tailor_redis_default_fns.createArray == nullptr) {
        ngx_http_tailor_redis_default_fns = *reader->fn;

        ngx_http_tailor_redis_guarded_fns = ngx_http_tailor_redis_default_fns;
        ngx_http_tailor_redis_guarded_fns.createString = ngx_http_tailor_redis_create_string;
        ngx_http_tailor_redis_guarded_fns.createArray = ngx_http_tailor_redis_create_array;
        ngx_http_tailor_redis_guarded_fns.createInteger = ngx_http_tailor_redis_create_integer;
        ngx_http_tailor_redis_guarded_fns.createNil = ngx_http_tailor_redis_create_nil;
        ngx_http_tailor_redis_guarded_fns.freeObject = ngx_http_tailor_redis_free_object;
    }

    reader->fn = &ngx_http_tailor_redis_guarded_fns;
    reader->privdata = ac;
}
