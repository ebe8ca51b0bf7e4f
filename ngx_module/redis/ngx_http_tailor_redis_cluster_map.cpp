// ngx_http_tailor_redis_cluster_map: the slot map of a Redis Cluster client: CLUSTER SLOTS to
// one ready node at a time (at start, every 5 s, 100 ms after something says it changed),
// the hiredis reply turned into core's RespNode, parsed and checked by core
// (tailor::ClusterSlotMap::update), then connections opened ahead to the nodes it names.
#include <string>

#include "ngx_http_tailor_redis_cluster.h"

void ngx_http_tailor_redis_cluster_mark_primaries(ngx_http_tailor_redis_cluster_t* cl) {
    cl->primaries.assign(cl->map.nodes(), 0);
    for (uint16_t s = 0; s < tailor::kClusterSlotCount; s++) {
        int p = cl->map.primary(s);
        if (p >= 0) {
            cl->primaries[static_cast<size_t>(p)] = 1;
        }
    }
}

// A map is degraded while a primary it names is not connected (a failover under way): ask
// again soon, the promoted replica shows up within a few node timeouts.
bool ngx_http_tailor_redis_cluster_degraded(ngx_http_tailor_redis_t* rc) noexcept {
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;

    if (!cl->have_map) {
        return true;
    }
    for (size_t n = 0; n < cl->primaries.size(); n++) {
        if (cl->primaries[n] &&
            !ngx_http_tailor_redis_node_ready(
                ngx_http_tailor_redis_cluster_node(rc, static_cast<int>(n), false))) {
            return true;
        }
    }
    return false;
}

void ngx_http_tailor_redis_cluster_connected(ngx_http_tailor_redis_t* rc) noexcept {
    if (!ngx_http_tailor_redis_owns_gauges(rc)) {
        return;
    }
    rc->stats->connected = ngx_http_tailor_redis_cluster_degraded(rc) ? 0 : 1;
}

namespace {

// hiredis's reply as core reads replies; false past the reader's own depth bound.
bool ngx_http_tailor_redis_resp_node(const redisReply* r, tailor::RespNode* out, int depth) {
    if (depth > NGX_HTTP_TAILOR_REDIS_CLUSTER_MAX_DEPTH) {
        return false;
    }
    switch (r->type) {
        case REDIS_REPLY_STRING:
            out->type = tailor::RespNode::Type::kString;
            out->str = {r->str, r->len};
            return true;
        case REDIS_REPLY_STATUS:
            out->type = tailor::RespNode::Type::kStatus;
            out->str = {r->str, r->len};
            return true;
        case REDIS_REPLY_ERROR:
            out->type = tailor::RespNode::Type::kError;
            out->str = {r->str, r->len};
            return true;
        case REDIS_REPLY_INTEGER:
            out->type = tailor::RespNode::Type::kInteger;
            out->integer = r->integer;
            return true;
        case REDIS_REPLY_ARRAY:
            out->type = tailor::RespNode::Type::kArray;
            out->elements.resize(r->elements);
            for (size_t i = 0; i < r->elements; i++) {
                if (r->element[i] == nullptr ||
                    !ngx_http_tailor_redis_resp_node(r->element[i], &out->elements[i], depth + 1)) {
                    return false;
                }
            }
            return true;
        default:
            out->type = tailor::RespNode::Type::kNil;
            return true;
    }
}

void ngx_http_tailor_redis_cluster_slots_reply(void* data, const redisReply* reply,
                                               uint64_t) noexcept {
    auto* rc = static_cast<ngx_http_tailor_redis_t*>(data);
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    tailor::RespNode slots;
    std::string error;

    cl->refresh_op = nullptr;

    if (cl->destroying) {
        return;
    }

    if (reply == nullptr) {
        ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "CLUSTER SLOTS failed: %*s",
                                        static_cast<size_t>(reply->len), reply->str);
        ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
        return;
    }

    try {
        std::string queried = cl->map.node(cl->refresh_node).host;

        if (!ngx_http_tailor_redis_resp_node(reply, &slots, 1)) {
            error = "nested too deep";

        } else if (cl->map.update(slots, queried, &error)) {
            ngx_http_tailor_redis_cluster_mark_primaries(cl);
        }

    } catch (const std::exception&) {
        error = "out of memory";
    }

    if (!error.empty()) {
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "CLUSTER SLOTS refused: %s",
                                        error.c_str());
        ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
        return;
    }

    if (cl->map.covered() < tailor::kClusterSlotCount) {
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_WARN,
                                        "cluster serves %uz of 16384 slots; the rest fail open",
                                        cl->map.covered());
    }

    if (!cl->have_map) {
        ngx_log_error(NGX_LOG_INFO, rc->log, 0,
                      "tailor redis \"%s\": cluster slot map loaded, %uz nodes", rc->name,
                      cl->map.nodes());
    }

    cl->have_map = true;
    rc->stats->slot_maps++;

    // connect ahead to every primary, and to replicas when they may answer reads
    for (size_t n = 0; n < cl->map.nodes(); n++) {
        if (cl->primaries[n] || rc->conf->replica_reads) {
            (void)ngx_http_tailor_redis_cluster_node(rc, static_cast<int>(n), true);
        }
    }

    ngx_http_tailor_redis_cluster_connected(rc);
    ngx_http_tailor_redis_cluster_soon(rc, ngx_http_tailor_redis_cluster_degraded(rc)
                                               ? NGX_HTTP_TAILOR_REDIS_REFRESH_SOON * 2
                                               : NGX_HTTP_TAILOR_REDIS_REFRESH_EVERY);
}

}  // namespace

// CLUSTER SLOTS to the next node that is ready.
void ngx_http_tailor_redis_cluster_refresh(ngx_event_t* ev) noexcept {
    static const char* argv[] = {"CLUSTER", "SLOTS"};
    static const size_t argvlen[] = {7, 5};

    auto* rc = static_cast<ngx_http_tailor_redis_t*>(ev->data);
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    ngx_http_tailor_redis_t* node;
    size_t count, i;
    int n;

    if (cl->refresh_op != nullptr) {
        ngx_add_timer(ev, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);  // the last one is still out
        return;
    }

    count = cl->map.nodes();
    for (i = 0; i < count; i++) {
        n = static_cast<int>((cl->pick + i) % count);
        node = ngx_http_tailor_redis_cluster_node(rc, n, false);
        if (!ngx_http_tailor_redis_ready(node)) {
            continue;
        }

        cl->refresh_op = ngx_http_tailor_redis_cluster_node_send(
            node, 2, argv, argvlen, ngx_http_tailor_redis_cluster_slots_reply, rc, false);
        if (cl->refresh_op != nullptr) {
            cl->refresh_node = n;
            cl->pick = static_cast<uint32_t>(n + 1);
            ngx_add_timer(ev, NGX_HTTP_TAILOR_REDIS_REFRESH_EVERY);
            return;
        }
    }

    // nobody to ask yet: the nodes reconnect on their own, with backoff
    ngx_add_timer(ev, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
}
