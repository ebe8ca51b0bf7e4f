// Internal to ngx_module/redis: the Redis Cluster client's state, shared by
// ngx_http_tailor_redis_cluster.cpp (nodes, routing), ngx_http_tailor_redis_cluster_reply.cpp
// (MOVED/ASK, a replica's failure) and ngx_http_tailor_redis_cluster_map.cpp (the slot map).
#pragma once

#include <memory>
#include <vector>

#include "ngx_http_tailor_redis_internal.h"
#include "tailor/store/cluster_slots.h"

#define NGX_HTTP_TAILOR_REDIS_REFRESH_EVERY 5000  // the map, when nothing says it changed
#define NGX_HTTP_TAILOR_REDIS_REFRESH_SOON 100    // after a MOVED, a lost node, a degraded map

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

// The client of node `n` (the map's number), made and connecting when `create` says so;
// nullptr when there is none (yet), or too many nodes.
ngx_http_tailor_redis_t* ngx_http_tailor_redis_cluster_node(ngx_http_tailor_redis_t* rc, int n,
                                                            bool create) noexcept;
bool ngx_http_tailor_redis_node_ready(const ngx_http_tailor_redis_t* node) noexcept;
// The map asked for again within `delay` ms (unless it is due sooner already).
void ngx_http_tailor_redis_cluster_soon(ngx_http_tailor_redis_t* rc, ngx_msec_t delay) noexcept;

// One command to one node, as a cluster op (every op on a node's connection is one); nullptr
// when not sent (the node is not ready, or out of memory).
ngx_http_tailor_redis_op_t* ngx_http_tailor_redis_cluster_node_send(
    ngx_http_tailor_redis_t* node, int argc, const char** argv, const size_t* argvlen,
    ngx_http_tailor_redis_handler_pt handler, void* data, bool nowait) noexcept;

// An op done with: its command freed, then the op.
void ngx_http_tailor_redis_cluster_op_free(ngx_http_tailor_redis_cluster_op_t* cop) noexcept;
// The op's command on the node's connection, counted as any command; false when hiredis
// refused it.
bool ngx_http_tailor_redis_cluster_op_write(ngx_http_tailor_redis_t* node,
                                            ngx_http_tailor_redis_cluster_op_t* cop) noexcept;

// ngx_http_tailor_redis_cluster_map.cpp
void ngx_http_tailor_redis_cluster_refresh(ngx_event_t* ev) noexcept;  // refresh_ev's handler
void ngx_http_tailor_redis_cluster_mark_primaries(ngx_http_tailor_redis_cluster_t* cl);
bool ngx_http_tailor_redis_cluster_degraded(ngx_http_tailor_redis_t* rc) noexcept;
void ngx_http_tailor_redis_cluster_connected(ngx_http_tailor_redis_t* rc) noexcept;
