// ngx_http_tailor_read: the visitor read in flight. tailor::VisitorRead's commands (the
// tombstone's EXISTS, a bounded GETRANGE per key) go out as one op to one server, a reply to
// each part; to a cluster, as one op each, routed by the visitor's key, so MOVED, ASK and
// replica reads apply to each as to any command.
// Each reply is kept until the request's pool goes (a string reply itself, else what core's
// ProfileReplyElement needs of it); the last one hands them all to core
// (ngx_http_tailor_core_personalize_reply).
#include "ngx_http_tailor.h"

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/profile/read.h"
#include "tailor/store/resp.h"
#include "tailor/store/visitor_read.h"

#include <exception>
#include <string_view>

using Kind = tailor::ProfileReplyElement::Kind;

// One command of the read.
struct ngx_http_tailor_read_part_t {
    ngx_http_tailor_read_t* read;
    ngx_http_tailor_redis_op_t* op;  // in flight: detach on cancel
    Kind kind;
    ngx_str_t bytes;  // a bulk string, or an error's text: in `kept`, or in r->pool
    long long integer;
    const redisReply* kept;  // released with the pool (ngx_http_tailor_read_release)
};

struct ngx_http_tailor_read_t {
    ngx_http_tailor_ctx_t* ctx;
    ngx_str_t vid;     // the visitor read (ctx->vid may change after: Identify, adoption)
    size_t max_bytes;  // each GETRANGE's bound: a value longer than this came back cut
    ngx_http_tailor_read_part_t part[tailor::kVisitorReadCommands];
    void* parts[tailor::kVisitorReadCommands];  // &part[i]: send_each's datas
    ngx_uint_t count;                           // commands sent (VisitorRead::count())
    ngx_uint_t pending;                         // replies still due
    unsigned lost : 1;  // a command got no reply, or its reply could not be kept
};

namespace {

// The reply in core's terms; false when there was none, or no memory to keep it.
bool ngx_http_tailor_read_keep(ngx_http_request_t* r, ngx_http_tailor_read_part_t* part,
                               const redisReply* reply) noexcept {
    if (reply == nullptr) {
        return false;
    }

    switch (reply->type) {
        case REDIS_REPLY_NIL:
            part->kind = Kind::kNil;
            return true;
        case REDIS_REPLY_INTEGER:
            part->kind = Kind::kInteger;
            part->integer = reply->integer;
            return true;
        case REDIS_REPLY_STRING:
            part->kind = Kind::kBytes;
            break;
        case REDIS_REPLY_ERROR:
            part->kind = Kind::kError;
            break;
        default:
            part->kind = Kind::kOther;
            return true;
    }

    ngx_str_t str = {reply->len, reinterpret_cast<u_char*>(reply->str)};
    part->bytes.len = str.len;
    if (ngx_http_tailor_redis_keep_reply(reply)) {
        part->kept = reply;
        part->bytes.data = str.data;
        return true;
    }
    part->bytes.data = ngx_pstrdup(r->pool, &str);
    return part->bytes.data != nullptr;
}

// The pool's cleanup: the replies kept, which the read's bytes (and the live map the events
// take from it, ngx_http_tailor_read_live) point into until the request ends.
void ngx_http_tailor_read_release(void* data) noexcept {
    auto* read = static_cast<ngx_http_tailor_read_t*>(data);
    for (ngx_http_tailor_read_part_t& part : read->part) {
        if (part.kept != nullptr) {
            ngx_http_tailor_redis_release_reply(part.kept);
            part.kept = nullptr;
        }
    }
}

tailor::Outcome ngx_http_tailor_read_outcome(ngx_http_tailor_read_t* read) noexcept {
    if (read->lost) {
        return tailor::Outcome::kError;
    }

    tailor::ProfileReplyElement elements[tailor::kVisitorReadCommands];
    for (size_t i = 0; i < read->count; i++) {
        const ngx_http_tailor_read_part_t& part = read->part[i];
        elements[i].kind = part.kind;
        elements[i].bytes =
            std::string_view(reinterpret_cast<const char*>(part.bytes.data), part.bytes.len);
        elements[i].integer = part.integer;
    }

    return ngx_http_tailor_core_personalize_reply(read->ctx->request, read->ctx, elements,
                                                  read->count);
}

// Runs inside hiredis, once per command.
void ngx_http_tailor_read_handler(void* data, const redisReply* reply,
                                  uint64_t elapsed_us) noexcept {
    auto* part = static_cast<ngx_http_tailor_read_part_t*>(data);
    ngx_http_tailor_read_t* read = part->read;

    part->op = nullptr;

    if (!ngx_http_tailor_read_keep(read->ctx->request, part, reply)) {
        read->lost = 1;
    }

    if (--read->pending != 0) {
        return;
    }

    ngx_http_tailor_read_done(read->ctx, ngx_http_tailor_read_outcome(read), elapsed_us);
}

// One server: the read's commands as one op, framed here in one buffer, a reply to each part.
bool ngx_http_tailor_read_send_each(ngx_http_tailor_read_t* read, tailor::VisitorRead* cmd,
                                    ngx_http_tailor_redis_t* redis) noexcept {
    const size_t n = cmd->count();
    size_t lens[tailor::kVisitorReadCommands];
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        lens[i] = tailor::resp_command_bytes(cmd->argc(i), cmd->argvlen(i));
        total += lens[i];
    }
    char stack[512];
    char* buf = total <= sizeof stack
                    ? stack
                    : static_cast<char*>(ngx_palloc(read->ctx->request->pool, total));
    if (buf == nullptr) {
        return false;
    }
    char* at = buf;
    for (size_t i = 0; i < n; i++) {
        if (lens[i] == 0 || tailor::write_resp_command(at, lens[i], cmd->argc(i), cmd->argv(i),
                                                       cmd->argvlen(i)) != lens[i]) {
            return false;
        }
        at += lens[i];
        read->part[i].read = read;
        read->parts[i] = &read->part[i];
    }

    ngx_http_tailor_redis_op_t* op = ngx_http_tailor_redis_send_each(
        redis, buf, lens, n, ngx_http_tailor_read_handler, read->parts);
    if (op == nullptr) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        read->part[i].op = op;  // one op: a cancel of any part cancels the read
    }
    read->pending = n;  // handlers never run inside send
    return true;
}

}  // namespace

bool ngx_http_tailor_read_send(ngx_http_tailor_ctx_t* ctx, size_t max_bytes) noexcept {
    ngx_http_request_t* r = ctx->request;
    ngx_http_tailor_redis_t* redis = ngx_http_tailor_core_profile_redis();

    auto* read =
        static_cast<ngx_http_tailor_read_t*>(ngx_pcalloc(r->pool, sizeof(ngx_http_tailor_read_t)));
    if (read == nullptr) {
        return false;
    }
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == nullptr) {
        return false;
    }
    cln->handler = ngx_http_tailor_read_release;
    cln->data = read;
    read->ctx = ctx;
    read->max_bytes = max_bytes;
    read->vid.len = ctx->vid.len;
    read->vid.data = ngx_pstrdup(r->pool, &ctx->vid);
    if (read->vid.data == nullptr) {
        return false;
    }
    ctx->read = read;

    try {
        tailor::VisitorRead cmd(ngx_http_tailor_view(ctx->vid), max_bytes,
                                ngx_http_tailor_core_reads_caps() ? tailor::VisitorReadCaps::kRead
                                                                  : tailor::VisitorReadCaps::kSkip);
        read->count = cmd.count();
        if (!ngx_http_tailor_redis_is_cluster(redis)) {
            if (!ngx_http_tailor_read_send_each(read, &cmd, redis)) {
                ngx_http_tailor_read_cancel(ctx);
                return false;
            }
            return true;
        }

        // a cluster routes each command by its key (one slot: the hash tag), so a MOVED, an
        // ASK or a replica read applies to each as to any command
        std::string_view key = cmd.route_key();
        ngx_str_t route = {key.size(), reinterpret_cast<u_char*>(const_cast<char*>(key.data()))};

        for (size_t i = 0; i < cmd.count(); i++) {
            ngx_http_tailor_read_part_t* part = &read->part[i];
            part->read = read;
            part->op =
                ngx_http_tailor_redis_send_read(redis, &route, cmd.argc(i), cmd.argv(i),
                                                cmd.argvlen(i), ngx_http_tailor_read_handler, part);
            if (part->op == nullptr) {
                ngx_http_tailor_read_cancel(ctx);
                return false;
            }
            read->pending++;  // handlers never run inside send
        }

    } catch (const std::exception&) {
        ngx_http_tailor_read_cancel(ctx);  // out of memory
        return false;
    }

    return true;
}

void ngx_http_tailor_read_cancel(ngx_http_tailor_ctx_t* ctx) noexcept {
    ngx_http_tailor_read_t* read = ctx->read;
    if (read == nullptr) {
        return;
    }

    for (ngx_http_tailor_read_part_t& part : read->part) {
        if (part.op != nullptr) {
            ngx_http_tailor_redis_cancel(part.op);
            part.op = nullptr;
        }
    }
    read->pending = 0;
    read->lost = 1;  // what was cancelled got no reply
}

std::string_view ngx_http_tailor_read_live(const ngx_http_tailor_ctx_t* ctx,
                                           std::string_view vid) noexcept {
    static_assert(tailor::kVisitorReadKinds[1] == tailor::VisitorKeyKind::kLive,
                  "the live map's GETRANGE is the read's third command");
    constexpr size_t kLive = 2;

    const ngx_http_tailor_read_t* read = ctx->read;
    if (read == nullptr || read->pending != 0 || read->lost ||
        ngx_http_tailor_view(read->vid) != vid || read->part[0].kind != Kind::kInteger ||
        read->part[0].integer != 0 || read->part[kLive].kind != Kind::kBytes) {
        return {};
    }
    const ngx_str_t& bytes = read->part[kLive].bytes;
    if (bytes.len > read->max_bytes) {
        return {};  // cut by GETRANGE: not the map, only its start
    }
    return {reinterpret_cast<const char*>(bytes.data), bytes.len};
}
