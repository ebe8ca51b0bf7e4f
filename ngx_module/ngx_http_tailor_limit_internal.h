// ngx_http_tailor_limit_module, what its request-time half (ngx_http_tailor_limit.cpp) and its
// configuration (ngx_http_tailor_limit_conf.cpp) share: the zone, its buckets, the confs.
#pragma once

#include "ngx_http_tailor.h"

#include "ngx_http_tailor_log_limit.h"
#include "tailor/request/client_limit.h"

extern "C" ngx_module_t ngx_http_tailor_limit_module;

enum ngx_http_tailor_limit_use_e : ngx_uint_t {
    NGX_HTTP_TAILOR_LIMIT_NEW_ID = 0,
    NGX_HTTP_TAILOR_LIMIT_BEACON,
    NGX_HTTP_TAILOR_LIMIT_USES
};

inline constexpr const char* ngx_http_tailor_limit_use_names[NGX_HTTP_TAILOR_LIMIT_USES] = {
    "new_id", "beacon"};

inline constexpr size_t kZoneNameMax = 64;

// The shared part of a zone: the buckets and the zone's counters, summed over
// the workers because they live here (updated under the zone's mutex).
struct ngx_http_tailor_limit_sh_t {
    ngx_rbtree_t rbtree;
    ngx_rbtree_node_t sentinel;
    ngx_queue_t queue;  // least recently seen client last
    ngx_atomic_t passed[NGX_HTTP_TAILOR_LIMIT_USES];
    ngx_atomic_t rejected[NGX_HTTP_TAILOR_LIMIT_USES];
    ngx_atomic_t evicted;  // clients forgotten while still held back
    ngx_atomic_t clients;  // buckets in the tree
};

// A client's bucket; starts at the rbtree node's color field, as in limit_req.
struct ngx_http_tailor_limit_node_t {
    u_char color;
    u_char len;
    u_char key[sizeof(tailor::ClientKey::bytes)];
    ngx_queue_t queue;
    uint64_t tat_us;  // tailor::ClientBucket
};

// A zone as the configuration knows it; the workers inherit it with the cycle.
struct ngx_http_tailor_limit_zone_t {
    ngx_str_t name;
    ngx_shm_zone_t* shm_zone;  // null: referenced, not (yet) defined
    ngx_http_tailor_limit_sh_t* sh;
    ngx_slab_pool_t* shpool;
    tailor::ClientRate rate;
    ngx_str_t rate_text;                  // as written, for logs
    ngx_flag_t dry_run;                   // count and log, refuse nothing
    ngx_http_tailor_conf_pos_t used_pos;  // the first reference, for "unknown zone"
    ngx_http_tailor_log_limit_t log_limit[NGX_HTTP_TAILOR_LIMIT_USES];  // per worker
};

struct ngx_http_tailor_limit_main_conf_t {
    ngx_array_t zones;  // of ngx_http_tailor_limit_zone_t*
};

struct ngx_http_tailor_limit_loc_conf_t {
    ngx_http_tailor_limit_zone_t* zone[NGX_HTTP_TAILOR_LIMIT_USES];  // null: off
};

// Orders buckets by the hash of the client key, then the key (ngx_rbtree_init).
void ngx_http_tailor_limit_insert_value(ngx_rbtree_node_t* temp, ngx_rbtree_node_t* node,
                                        ngx_rbtree_node_t* sentinel) noexcept;
