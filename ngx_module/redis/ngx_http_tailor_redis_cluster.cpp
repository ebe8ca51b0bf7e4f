// ngx_http_tailor_redis_cluster: a Redis Cluster client on nginx's event loop. One connection
// per node (each an ordinary client of this layer, with its deadline, watchdog and backoff),
// the slot map from CLUSTER SLOTS (at start, every few seconds, and soon after a MOVED or a
// lost node), each command routed by its key's slot, MOVED and ASK followed. What a slot is,
// which key routes a command and what a reply means are core's decisions
// (tailor/store/cluster_slots.h); this file only moves hiredis replies and connections.
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "ngx_http_tailor_redis_internal.h"
#include "tailor/store/cluster_slots.h"

namespace {

constexpr ngx_msec_t kRefreshEvery = 5000;  // the map, when nothing says it changed
constexpr ngx_msec_t kRefreshSoon = 100;    // after a MOVED, a lost node, a degraded map
constexpr ngx_uint_t kMaxRedirects = 5;     // per command: a loop is a broken cluster
constexpr size_t kMaxNodes = 256;

}  // namespace

struct ngx_http_tailor_redis_node_t {
    ngx_http_tailor_redis_conf_t conf;  // the cluster's, with this node's address
    u_char peer[NGX_SOCKADDR_STRLEN + 8];
    ngx_http_tailor_redis_t* rc;
};

struct ngx_http_tailor_redis_cluster_t {
    tailor::ClusterSlotMap map;
    // by the map's node number; null until the node is needed
    std::vector<std::unique_ptr<ngx_http_tailor_redis_node_t>> nodes;
    std::vector<char> primaries;  // by node number: serves a slot

    ngx_event_t refresh_ev;
    ngx_http_tailor_redis_op_t* refresh_op = nullptr;
    int refresh_node = tailor::ClusterSlotMap::kNone;
    bool have_map = false;
    bool destroying = false;
    uint32_t pick = 0;
};

namespace {

std::string_view ngx_http_tailor_redis_view(const ngx_str_t* s) noexcept {
    if (s == nullptr || s->data == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(s->data), s->len};
}

void ngx_http_tailor_redis_cluster_soon(ngx_http_tailor_redis_t* rc, ngx_msec_t delay) noexcept {
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    ngx_event_t* ev = &cl->refresh_ev;

    if (cl->destroying) {
        return;
    }

    if (ev->timer_set && static_cast<ngx_msec_int_t>(ev->timer.key - ngx_current_msec) <=
                             static_cast<ngx_msec_int_t>(delay)) {
        return;  // due sooner already
    }

    ngx_add_timer(ev, delay);
}

void ngx_http_tailor_redis_cluster_mark_primaries(ngx_http_tailor_redis_cluster_t* cl) {
    cl->primaries.assign(cl->map.nodes(), 0);
    for (uint16_t s = 0; s < tailor::kClusterSlotCount; s++) {
        int p = cl->map.primary(s);
        if (p >= 0) {
            cl->primaries[static_cast<size_t>(p)] = 1;
        }
    }
}

// The client of node `n`, made (and connecting) when `create` says so; nullptr when there is
// none (yet), or too many nodes.
ngx_http_tailor_redis_t* ngx_http_tailor_redis_cluster_node(ngx_http_tailor_redis_t* rc, int n,
                                                            bool create) noexcept {
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    ngx_http_tailor_redis_node_t* node;

    if (n < 0 || static_cast<size_t>(n) >= cl->map.nodes()) {
        return nullptr;
    }

    if (static_cast<size_t>(n) < cl->nodes.size() && cl->nodes[static_cast<size_t>(n)]) {
        return cl->nodes[static_cast<size_t>(n)]->rc;
    }

    if (!create || cl->destroying || static_cast<size_t>(n) >= kMaxNodes) {
        return nullptr;
    }

    try {
        if (cl->nodes.size() <= static_cast<size_t>(n)) {
            cl->nodes.resize(static_cast<size_t>(n) + 1);
        }
        cl->nodes[static_cast<size_t>(n)] = std::make_unique<ngx_http_tailor_redis_node_t>();
    } catch (const std::exception&) {
        return nullptr;
    }

    node = cl->nodes[static_cast<size_t>(n)].get();
    const tailor::ClusterNodeAddress& a = cl->map.node(n);

    node->conf = *rc->conf;
    node->conf.cluster = 0;  // a node is one server
    node->conf.seeds = nullptr;
    node->conf.nseeds = 0;
    node->conf.unix_socket = 0;
    node->conf.port = a.port;
    (void)ngx_cpystrn(reinterpret_cast<u_char*>(node->conf.host),
                      reinterpret_cast<u_char*>(const_cast<char*>(a.host.c_str())),
                      sizeof(node->conf.host));
    node->conf.peer.data = node->peer;
    node->conf.peer.len = static_cast<size_t>(
        (a.host.find(':') != std::string::npos
             ? ngx_snprintf(node->peer, sizeof(node->peer), "[%s]:%d", node->conf.host, a.port)
             : ngx_snprintf(node->peer, sizeof(node->peer), "%s:%d", node->conf.host, a.port)) -
        node->peer);

    node->rc = ngx_http_tailor_redis_create(const_cast<ngx_cycle_t*>(ngx_cycle), &node->conf,
                                            rc->name, rc->stats);
    if (node->rc == nullptr) {
        cl->nodes[static_cast<size_t>(n)].reset();
        return nullptr;
    }

    node->rc->owner = rc;
    return node->rc;
}

bool ngx_http_tailor_redis_node_ready(const ngx_http_tailor_redis_t* node) noexcept {
    return node != nullptr && node->state == NGX_HTTP_TAILOR_REDIS_READY;
}

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
    rc->stats->connected = ngx_http_tailor_redis_cluster_degraded(rc) ? 0 : 1;
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
        ngx_http_tailor_redis_cluster_soon(rc, kRefreshSoon);
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_tailor_redis_log_error(rc, NGX_LOG_ERR, "CLUSTER SLOTS failed: %*s",
                                        static_cast<size_t>(reply->len), reply->str);
        ngx_http_tailor_redis_cluster_soon(rc, kRefreshSoon);
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
        ngx_http_tailor_redis_cluster_soon(rc, kRefreshSoon);
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
    ngx_http_tailor_redis_cluster_soon(
        rc, ngx_http_tailor_redis_cluster_degraded(rc) ? kRefreshSoon * 2 : kRefreshEvery);
}

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
        ngx_add_timer(ev, kRefreshSoon);  // the last one is still out
        return;
    }

    count = cl->map.nodes();
    for (i = 0; i < count; i++) {
        n = static_cast<int>((cl->pick + i) % count);
        node = ngx_http_tailor_redis_cluster_node(rc, n, false);
        if (!ngx_http_tailor_redis_ready(node)) {
            continue;
        }

        cl->refresh_op = ngx_http_tailor_redis_send(node, nullptr, 2, argv, argvlen,
                                                    ngx_http_tailor_redis_cluster_slots_reply, rc);
        if (cl->refresh_op != nullptr) {
            cl->refresh_node = n;
            cl->pick = static_cast<uint32_t>(n + 1);
            ngx_add_timer(ev, kRefreshEvery);
            return;
        }
    }

    // nobody to ask yet: the nodes reconnect on their own, with backoff
    ngx_add_timer(ev, kRefreshSoon);
}

}  // namespace

ngx_int_t ngx_http_tailor_redis_cluster_init(ngx_http_tailor_redis_t* rc,
                                             ngx_cycle_t* cycle) noexcept {
    ngx_http_tailor_redis_cluster_t* cl;
    const ngx_http_tailor_redis_conf_t* conf = rc->conf;

    cl = new (std::nothrow) ngx_http_tailor_redis_cluster_t();
    if (cl == nullptr) {
        return NGX_ERROR;
    }

    try {
        (void)cl->map.add({conf->host, conf->port});
        for (ngx_uint_t i = 0; i < conf->nseeds; i++) {
            (void)cl->map.add({conf->seeds[i].host, conf->seeds[i].port});
        }
    } catch (const std::exception&) {
        delete cl;
        return NGX_ERROR;
    }

    rc->cluster = cl;

    cl->refresh_ev.handler = ngx_http_tailor_redis_cluster_refresh;
    cl->refresh_ev.data = rc;
    cl->refresh_ev.log = cycle->log;
    cl->refresh_ev.cancelable = 1;

    // the seeds connect now; the first that is ready is asked for the map
    for (size_t n = 0; n < cl->map.nodes(); n++) {
        (void)ngx_http_tailor_redis_cluster_node(rc, static_cast<int>(n), true);
    }

    ngx_add_timer(&cl->refresh_ev, kRefreshSoon);
    return NGX_OK;
}

void ngx_http_tailor_redis_cluster_destroy(ngx_http_tailor_redis_t* rc) noexcept {
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;

    cl->destroying = true;

    if (cl->refresh_ev.timer_set) {
        ngx_del_timer(&cl->refresh_ev);
    }

    // every op still out gets its null reply here, as with one server
    for (auto& node : cl->nodes) {
        if (node) {
            ngx_http_tailor_redis_destroy(node->rc);
            node->rc = nullptr;
        }
    }

    rc->cluster = nullptr;
    delete cl;
}

bool ngx_http_tailor_redis_cluster_ready(const ngx_http_tailor_redis_t* rc) noexcept {
    const ngx_http_tailor_redis_cluster_t* cl = rc->cluster;

    if (!cl->have_map) {
        return false;
    }
    for (const auto& node : cl->nodes) {
        if (node && ngx_http_tailor_redis_ready(node->rc)) {
            return true;
        }
    }
    return false;
}

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_cluster_send(
    ngx_http_tailor_redis_t* rc, const ngx_str_t* key, int argc, const char** argv,
    const size_t* argvlen, ngx_http_tailor_redis_handler_pt handler, void* data, bool read,
    bool nowait) noexcept {
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    ngx_http_tailor_redis_t* target = nullptr;
    ngx_http_tailor_redis_op_t* op;
    int slot = -1;
    int n = tailor::ClusterSlotMap::kNone;
    int len;

    if (key != nullptr && key->len > 0 && key->data != nullptr) {
        slot = tailor::cluster_key_slot(ngx_http_tailor_redis_view(key));

    } else {
        try {
            std::vector<std::string_view> args;
            args.reserve(static_cast<size_t>(argc));
            for (int i = 0; i < argc; i++) {
                args.emplace_back(argv[i], argvlen[i]);
            }
            auto k = tailor::cluster_command_key(args);
            if (k) {
                slot = tailor::cluster_key_slot(*k);
            }
        } catch (const std::exception&) {
            return nullptr;
        }
    }

    if (slot >= 0) {
        if (read && rc->conf->replica_reads) {
            n = cl->map.replica(static_cast<uint16_t>(slot), cl->pick++);
            target = ngx_http_tailor_redis_cluster_node(rc, n, true);
            if (!ngx_http_tailor_redis_ready(target)) {
                target = nullptr;  // the primary, then
            }
        }

        if (target == nullptr) {
            n = cl->map.primary(static_cast<uint16_t>(slot));
            target = ngx_http_tailor_redis_cluster_node(rc, n, true);
        }
    }

    if (target == nullptr) {
        // keyless, or a slot no map covers yet: any node (a MOVED corrects it)
        size_t count = cl->map.nodes();
        for (size_t i = 0; i < count && target == nullptr; i++) {
            ngx_http_tailor_redis_t* node = ngx_http_tailor_redis_cluster_node(
                rc, static_cast<int>((cl->pick + i) % count), false);
            if (ngx_http_tailor_redis_ready(node)) {
                target = node;
            }
        }
        cl->pick++;
    }

    if (target == nullptr) {
        rc->stats->down_rejects++;
        ngx_http_tailor_redis_cluster_soon(rc, kRefreshSoon);
        return nullptr;
    }

    if (!ngx_http_tailor_redis_admit(target)) {
        if (target->state != NGX_HTTP_TAILOR_REDIS_READY) {
            ngx_http_tailor_redis_cluster_soon(rc, kRefreshSoon);  // a failover?
        }
        return nullptr;
    }

    op = static_cast<ngx_http_tailor_redis_op_t*>(
        ngx_calloc(sizeof(ngx_http_tailor_redis_op_t), rc->log));
    if (op == nullptr) {
        return nullptr;
    }

    op->handler = handler;
    op->data = data;
    op->nowait = nowait ? 1 : 0;
    op->sent_us = ngx_http_tailor_redis_clock_us();

    len = redisFormatCommandArgv(&op->cmd, argc, argv, argvlen);
    if (len < 0 || op->cmd == nullptr) {
        op->cmd = nullptr;
        ngx_http_tailor_redis_free_op(op);
        return nullptr;
    }
    op->cmdlen = static_cast<size_t>(len);

    if (!ngx_http_tailor_redis_send_formatted(target, op)) {
        ngx_http_tailor_redis_free_op(op);
        return nullptr;
    }

    return op;
}

bool ngx_http_tailor_redis_cluster_redirect(ngx_http_tailor_redis_t* node,
                                            ngx_http_tailor_redis_op_t* op,
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
            ngx_http_tailor_redis_cluster_mark_primaries(cl);
        } else {
            n = cl->map.add(redirect->node);
        }
    } catch (const std::exception&) {
        return false;
    }

    if (redirect->kind == tailor::ClusterRedirect::Kind::kMoved) {
        ngx_http_tailor_redis_cluster_soon(rc, kRefreshSoon);  // other slots may have moved too
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

    if (!ngx_http_tailor_redis_send_formatted(target, op)) {
        return false;
    }

    op->redirects++;
    rc->stats->redirects++;
    return true;
}

void ngx_http_tailor_redis_cluster_lost(ngx_http_tailor_redis_t* node) noexcept {
    if (node->owner->cluster != nullptr) {
        ngx_http_tailor_redis_cluster_soon(node->owner, kRefreshSoon);
    }
}

void ngx_http_tailor_redis_cluster_gauges(ngx_http_tailor_redis_t* node) noexcept {
    ngx_http_tailor_redis_t* rc = node->owner;
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    uint64_t in_flight = 0;

    if (cl == nullptr || cl->destroying) {
        return;
    }

    for (const auto& n : cl->nodes) {
        if (n && n->rc != nullptr) {
            in_flight += n->rc->in_flight;
        }
    }
    rc->stats->in_flight = in_flight;
}

void ngx_http_tailor_redis_cluster_state(ngx_http_tailor_redis_t* node) noexcept {
    ngx_http_tailor_redis_t* rc = node->owner;
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;

    if (cl == nullptr || cl->destroying) {
        return;
    }

    ngx_http_tailor_redis_cluster_gauges(node);
    ngx_http_tailor_redis_cluster_connected(rc);

    if (node->state == NGX_HTTP_TAILOR_REDIS_READY) {
        if (!cl->have_map) {
            ngx_http_tailor_redis_cluster_soon(rc, 1);  // the first seed up is asked at once
        }
    } else {
        ngx_http_tailor_redis_cluster_soon(rc, kRefreshSoon);
    }
}
