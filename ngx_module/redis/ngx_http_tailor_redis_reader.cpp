// ngx_http_tailor_redis_reader: hiredis's reply objects, built only for replies a command of
// ours can get. hiredis 0.14 trusts the server: a reply with no command waiting hits an
// assert in async.c (the worker aborts), and a declared `*2147483647` is allocated and then
// parsed element by element for as long as the peer sends. Here each object passes a check
// first, and a refusal (NULL) is a reader error, which costs the connection, not the worker.
// A string reply is one allocation, not hiredis's two, and a handler may keep one past its call
// (ngx_http_tailor_redis_keep_reply) instead of copying its bytes.
#include "ngx_http_tailor_redis_internal.h"

namespace {

redisReplyObjectFunctions ngx_http_tailor_redis_default_fns;
redisReplyObjectFunctions ngx_http_tailor_redis_guarded_fns;

// The status replies a pipeline gets one of per command (+QUEUED inside MULTI, +OK), shared
// rather than allocated: a batch of events sent as MULTI/EXEC gets one per event, and its
// EXEC's array an +OK per map it stores. Never freed: free_object passes them, in an array too.
char ngx_http_tailor_redis_queued_text[] = "QUEUED";
char ngx_http_tailor_redis_ok_text[] = "OK";
redisReply ngx_http_tailor_redis_queued_reply = {
    REDIS_REPLY_STATUS, 0, 6, ngx_http_tailor_redis_queued_text, 0, nullptr};
redisReply ngx_http_tailor_redis_ok_reply = {
    REDIS_REPLY_STATUS, 0, 2, ngx_http_tailor_redis_ok_text, 0, nullptr};

bool ngx_http_tailor_redis_shared_reply(const void* reply) noexcept {
    return reply == &ngx_http_tailor_redis_queued_reply || reply == &ngx_http_tailor_redis_ok_reply;
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

// A string reply (bulk, status or error) and its bytes in one allocation, where hiredis makes
// two; the reply first, so the pointer hiredis holds is the block's. `kept`: a handler took the
// reply (ngx_http_tailor_redis_keep_reply) and free_object leaves it for
// ngx_http_tailor_redis_release_reply.
struct ngx_http_tailor_redis_string_t {
    redisReply reply;
    bool kept;
};

char* ngx_http_tailor_redis_string_bytes(ngx_http_tailor_redis_string_t* s) noexcept {
    return reinterpret_cast<char*>(s + 1);
}

// The block of a string reply: every one but the shared ones (create_string makes them all).
ngx_http_tailor_redis_string_t* ngx_http_tailor_redis_string_of(const redisReply* r) noexcept {
    if (r == nullptr || ngx_http_tailor_redis_shared_reply(r) ||
        (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS &&
         r->type != REDIS_REPLY_ERROR)) {
        return nullptr;
    }
    auto* s = reinterpret_cast<ngx_http_tailor_redis_string_t*>(const_cast<redisReply*>(r));
    return r->str == ngx_http_tailor_redis_string_bytes(s) ? s : nullptr;
}

void* ngx_http_tailor_redis_create_string(const redisReadTask* task, char* str,
                                          size_t len) noexcept {
    if (!ngx_http_tailor_redis_admit_object(task, -1)) {
        return nullptr;
    }

    redisReply* r = nullptr;
    if (task->type == REDIS_REPLY_STATUS) {
        if (len == 6 && ngx_memcmp(str, "QUEUED", 6) == 0) {
            r = &ngx_http_tailor_redis_queued_reply;
        } else if (len == 2 && str[0] == 'O' && str[1] == 'K') {
            r = &ngx_http_tailor_redis_ok_reply;
        }
    }

    if (r == nullptr) {
        // len is a bulk's bytes, already in the reader's buffer: the sum cannot wrap
        auto* s = static_cast<ngx_http_tailor_redis_string_t*>(
            malloc(sizeof(ngx_http_tailor_redis_string_t) + len + 1));
        if (s == nullptr) {
            return nullptr;
        }
        char* bytes = ngx_http_tailor_redis_string_bytes(s);
        ngx_memcpy(bytes, str, len);
        bytes[len] = '\0';
        s->reply = redisReply{task->type, 0, len, bytes, 0, nullptr};
        s->kept = false;
        r = &s->reply;
    }

    if (task->parent != nullptr) {
        // as hiredis's own createString does: the element goes into its array
        static_cast<redisReply*>(task->parent->obj)->element[task->idx] = r;
    }
    return r;
}

// A reply and all it holds, as hiredis's freeReplyObject does, but for the string blocks (one
// free each, none while kept) and the shared replies (never freed).
void ngx_http_tailor_redis_free_reply(redisReply* r) noexcept {
    if (r == nullptr || ngx_http_tailor_redis_shared_reply(r)) {
        return;
    }
    if (ngx_http_tailor_redis_string_t* s = ngx_http_tailor_redis_string_of(r)) {
        if (!s->kept) {
            free(s);
        }
        return;
    }
    if (r->type == REDIS_REPLY_ARRAY && r->element != nullptr) {
        // as deep as the reader admits (admit_object)
        for (size_t i = 0; i < r->elements; i++) {
            ngx_http_tailor_redis_free_reply(r->element[i]);
        }
        free(r->element);
        r->element = nullptr;
        r->elements = 0;
    }
    ngx_http_tailor_redis_default_fns.freeObject(r);  // an integer, a nil, an emptied array
}

void ngx_http_tailor_redis_free_object(void* reply) noexcept {
    ngx_http_tailor_redis_free_reply(static_cast<redisReply*>(reply));
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

bool ngx_http_tailor_redis_keep_reply(const redisReply* reply) noexcept {
    ngx_http_tailor_redis_string_t* s = ngx_http_tailor_redis_string_of(reply);
    if (s == nullptr || s->kept) {
        return false;
    }
    s->kept = true;
    return true;
}

void ngx_http_tailor_redis_release_reply(const redisReply* reply) noexcept {
    ngx_http_tailor_redis_string_t* s = ngx_http_tailor_redis_string_of(reply);
    if (s != nullptr && s->kept) {
        free(s);
    }
}
