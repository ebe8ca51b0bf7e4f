// ngx_http_tailor_redis_cluster_reply: a reply to a command on a cluster node. A MOVED or ASK
// is followed (the same op, to the node named, at most a few times), a read a replica did not
// answer goes to the primary once; anything else is the op's handler's.
#include "ngx_http_tailor_redis_internal.h"

#include "ngx_http_tailor_redis_cluster.h"

namespace {

constexpr ngx_uint_t kMaxRedirects = 5;  // per command: a loop is a broken cluster

// A MOVED or ASK: true when the op went to the node it names (the op is not done).
bool ngx_http_tailor_redis_cluster_redirect(ngx_http_tailor_redis_t* node,
                                            ngx_http_tailor_redis_cluster_op_t* op,
                                            const redisReply* reply) noexcept {
    static const char* asking[] = {"ASKING"};
    static const size_t asking_len[] = {6};

    ngx_http_tailor_redis_t* rc = node->owner;
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    ngx_http_tailor_redis_t* target;
    int n;

    if (cl == nullptr || cl->destroying || op->redirects >= kMaxRedirects ||
        reply->str == nullptr) {
        return false;
    }

    auto redirect = tailor::parse_cluster_redirect({reply->str, reply->len}, node->conf->host);
    if (!redirect) {
        return false;
    }

    try {
        if (redirect->kind == tailor::ClusterRedirect::Kind::kMoved) {
            n = cl->map.moved(redirect->slot, redirect->node);
            if (n >= 0) {
                // the node serves a slot now; the next map says who stopped serving any
                if (cl->primaries.size() <= static_cast<size_t>(n)) {
                    cl->primaries.resize(static_cast<size_t>(n) + 1, 0);
                }
                cl->primaries[static_cast<size_t>(n)] = 1;
            }
        } else {
            n = cl->map.add(redirect->node);
        }
    } catch (const std::exception&) {
        return false;
    }

    if (redirect->kind == tailor::ClusterRedirect::Kind::kMoved) {
        ngx_http_tailor_redis_cluster_soon(
            rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);  // other slots may have moved too
    }

    target = ngx_http_tailor_redis_cluster_node(rc, n, true);
    if (target == nullptr || !ngx_http_tailor_redis_admit(target)) {
        return false;
    }

    if (redirect->kind == tailor::ClusterRedirect::Kind::kAsk) {
        // the importing node takes the one command that follows ASKING
        if (redisAsyncCommandArgv(target->ac, ngx_http_tailor_redis_on_reply, nullptr, 1, asking,
                                  asking_len) != REDIS_OK) {
            return false;
        }
        target->in_flight++;
        target->stats->commands++;
    }

    if (!ngx_http_tailor_redis_cluster_op_write(target, op)) {
        return false;
    }

    op->redirects++;
    op->replica_slot = -1;
    rc->stats->redirects++;
    return true;
}

// A read a replica did not answer (lost, LOADING, any error but a redirection) goes to the
// slot's primary, once: true when it went.
bool ngx_http_tailor_redis_cluster_to_primary(ngx_http_tailor_redis_t* node,
                                              ngx_http_tailor_redis_cluster_op_t* op) noexcept {
    ngx_http_tailor_redis_t* rc = node->owner;
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    ngx_http_tailor_redis_t* target;
    int slot = op->replica_slot;

    op->replica_slot = -1;

    if (slot < 0 || cl->destroying || op->op.handler == nullptr) {
        return false;
    }

    target =
        ngx_http_tailor_redis_cluster_node(rc, cl->map.primary(static_cast<uint16_t>(slot)), false);
    if (target == nullptr || target == node || !ngx_http_tailor_redis_admit(target)) {
        return false;
    }

    return ngx_http_tailor_redis_cluster_op_write(target, op);
}

bool ngx_http_tailor_redis_reply_is(const redisReply* reply, const char* prefix) noexcept {
    size_t len = ngx_strlen(prefix);

    return reply->str != nullptr && reply->len >= len && ngx_strncmp(reply->str, prefix, len) == 0;
}

}  // namespace

void ngx_http_tailor_redis_cluster_on_reply(ngx_http_tailor_redis_t* node,
                                            ngx_http_tailor_redis_op_t* op,
                                            const redisReply* reply) noexcept {
    ngx_http_tailor_redis_handler_pt handler;

    auto* cop = reinterpret_cast<ngx_http_tailor_redis_cluster_op_t*>(op);
    ngx_http_tailor_redis_t* rc = node->owner;

    if (cop->replica_slot >= 0 &&
        (reply == nullptr ||
         (reply->type == REDIS_REPLY_ERROR && !ngx_http_tailor_redis_reply_is(reply, "MOVED ") &&
          !ngx_http_tailor_redis_reply_is(reply, "ASK "))) &&
        ngx_http_tailor_redis_cluster_to_primary(node, cop)) {
        return;  // the primary answers
    }

    if (reply == nullptr) {
        // the node is gone: a failover, maybe
        ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);

    } else if (reply->type == REDIS_REPLY_ERROR && (op->handler != nullptr || cop->nowait)) {
        if (ngx_http_tailor_redis_cluster_redirect(node, cop, reply)) {
            return;  // sent again; the node it went to answers
        }

        if (ngx_http_tailor_redis_reply_is(reply, "CLUSTERDOWN")) {
            ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
        }

        // a topology change costs this request its default, not an error: a redirection not
        // followed, or TRYAGAIN (a multi-key read of a slot half migrated)
        if (ngx_http_tailor_redis_reply_is(reply, "MOVED ") ||
            ngx_http_tailor_redis_reply_is(reply, "ASK ") ||
            ngx_http_tailor_redis_reply_is(reply, "TRYAGAIN")) {
            reply = nullptr;
        }
    }

    if (cop->nowait) {
        if (reply != nullptr && reply->type == REDIS_REPLY_ERROR) {
            ngx_http_tailor_redis_log_error(node, NGX_LOG_ERR, "command failed: %*s",
                                            static_cast<size_t>(reply->len), reply->str);
        }

    } else {
        handler = op->handler;

        if (handler != nullptr) {
            op->handler = nullptr;  // a cancel from inside the handler is a no-op
            handler(op->data, reply, ngx_http_tailor_redis_clock_us() - op->sent_us);
        }
    }

    ngx_http_tailor_redis_cluster_op_free(cop);
}
