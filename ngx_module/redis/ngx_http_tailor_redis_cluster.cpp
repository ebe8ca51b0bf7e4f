// ngx_http_tailor_redis_cluster: a Redis Cluster client on nginx's event loop. One connection
// per node (each an ordinary client of this layer, with its deadline, watchdog and backoff),
// the slot map from CLUSTER SLOTS (at start, every few seconds, and soon after a MOVED or a
// lost node), each command routed by its key's slot, MOVED and ASK followed. What a slot is,
// which key routes a command and what a reply means are core's decisions
// (tailor/store/cluster_slots.h); this file only moves hiredis replies and connections.
//
// The slot map's loading is ngx_http_tailor_redis_cluster_map.cpp; the replies (MOVED, ASK,
// a replica's failure) ngx_http_tailor_redis_cluster_reply.cpp.
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "ngx_http_tailor_redis_cluster.h"

namespace {

constexpr size_t kMaxNodes = 256;

std::string_view ngx_http_tailor_redis_view(const ngx_str_t* s) noexcept {
    if (s == nullptr || s->data == nullptr) {
        return {};
    }
    return {reinterpret_cast<const char*>(s->data), s->len};
}

}  // namespace

void ngx_http_tailor_redis_cluster_op_free(ngx_http_tailor_redis_cluster_op_t* cop) noexcept {
    if (cop->cmd != nullptr) {
        redisFreeCommand(cop->cmd);
    }

    ngx_free(cop);
}

// The op's command on the node's connection; the node's accounting as for any command.
bool ngx_http_tailor_redis_cluster_op_write(ngx_http_tailor_redis_t* node,
                                            ngx_http_tailor_redis_cluster_op_t* cop) noexcept {
    if (redisAsyncFormattedCommand(node->ac, ngx_http_tailor_redis_on_reply, &cop->op, cop->cmd,
                                   cop->cmdlen) != REDIS_OK) {
        return false;
    }

    node->in_flight++;
    node->stats->commands++;
    ngx_http_tailor_redis_set_in_flight(node);

    return true;
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

    ngx_add_timer(&cl->refresh_ev, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
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

bool ngx_http_tailor_redis_slot_has_replica(const ngx_http_tailor_redis_t* rc,
                                            const ngx_str_t* key) noexcept {
    if (rc == nullptr || rc->cluster == nullptr || !rc->cluster->have_map || key == nullptr ||
        key->len == 0) {
        return false;
    }
    uint16_t slot = tailor::cluster_key_slot(ngx_http_tailor_redis_view(key));
    return rc->cluster->map.replica(slot, 0) != tailor::ClusterSlotMap::kNone;
}

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_cluster_send(
    ngx_http_tailor_redis_t* rc, const ngx_str_t* key, int argc, const char** argv,
    const size_t* argvlen, ngx_http_tailor_redis_handler_pt handler, void* data, bool read,
    bool nowait) noexcept {
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    ngx_http_tailor_redis_t* target = nullptr;
    ngx_http_tailor_redis_op_t* op;
    bool on_replica = false;
    int slot = -1;
    int n = tailor::ClusterSlotMap::kNone;

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
            on_replica = target != nullptr;
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
        ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
        return nullptr;
    }

    if (target->state != NGX_HTTP_TAILOR_REDIS_READY) {
        ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);  // a failover?
    }

    op =
        ngx_http_tailor_redis_cluster_node_send(target, argc, argv, argvlen, handler, data, nowait);
    if (op != nullptr && on_replica) {
        auto* cop = reinterpret_cast<ngx_http_tailor_redis_cluster_op_t*>(op);
        cop->replica_slot = slot;  // a replica that fails it hands it to the primary
    }

    return op;
}

ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_cluster_node_send(
    ngx_http_tailor_redis_t* node, int argc, const char** argv, const size_t* argvlen,
    ngx_http_tailor_redis_handler_pt handler, void* data, bool nowait) noexcept {
    ngx_http_tailor_redis_cluster_op_t* cop;
    int len;

    if (!ngx_http_tailor_redis_admit(node)) {
        return nullptr;
    }

    cop = static_cast<ngx_http_tailor_redis_cluster_op_t*>(
        ngx_calloc(sizeof(ngx_http_tailor_redis_cluster_op_t), node->log));
    if (cop == nullptr) {
        return nullptr;
    }

    cop->op.handler = handler;
    cop->op.data = data;
    cop->op.sent_us = ngx_http_tailor_redis_clock_us();
    cop->nowait = nowait ? 1 : 0;
    cop->replica_slot = -1;

    len = redisFormatCommandArgv(&cop->cmd, argc, argv, argvlen);
    if (len < 0 || cop->cmd == nullptr) {
        cop->cmd = nullptr;
        ngx_http_tailor_redis_cluster_op_free(cop);
        return nullptr;
    }
    cop->cmdlen = static_cast<size_t>(len);

    if (!ngx_http_tailor_redis_cluster_op_write(node, cop)) {
        ngx_http_tailor_redis_cluster_op_free(cop);
        return nullptr;
    }

    return &cop->op;
}

void ngx_http_tailor_redis_cluster_gauges(ngx_http_tailor_redis_t* node) noexcept {
    ngx_http_tailor_redis_t* rc = node->owner;
    ngx_http_tailor_redis_cluster_t* cl = rc->cluster;
    uint64_t in_flight = 0;

    if (cl == nullptr || cl->destroying || !ngx_http_tailor_redis_owns_gauges(rc)) {
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
        ngx_http_tailor_redis_cluster_soon(rc, NGX_HTTP_TAILOR_REDIS_REFRESH_SOON);
    }
}
