// ngx_http_tailor_limit_module: per-client limits on new visitor ids and beacons.
//
// Shaped like limit_req: each tailor_limit_zone is a shared-memory slab with
// a red-black tree of client buckets (hash of the client's key, then the key)
// and an LRU queue; a lookup frees up to two idle buckets from the LRU tail,
// and a full zone forgets its least recently seen client. The math (GCRA)
// and the client's key (the address, an IPv6 client by its /64) are core's:
// tailor/request/client_limit.h. The glue only locks, looks up and counts.
#include "ngx_http_tailor_limit.h"

#include <array>
#include <cinttypes>
#include <cstdarg>
#include <iterator>
#include <optional>

#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_metrics.h"
#include "tailor/request/client_limit.h"

extern "C" ngx_module_t ngx_http_tailor_limit_module;

namespace {

enum ngx_http_tailor_limit_use_e : ngx_uint_t {
    NGX_HTTP_TAILOR_LIMIT_NEW_ID = 0,
    NGX_HTTP_TAILOR_LIMIT_BEACON,
    NGX_HTTP_TAILOR_LIMIT_USES
};

constexpr const char* ngx_http_tailor_limit_use_names[NGX_HTTP_TAILOR_LIMIT_USES] = {"new_id",
                                                                                     "beacon"};

constexpr size_t kZoneNameMax = 64;

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

void* ngx_http_tailor_limit_create_main_conf(ngx_conf_t* cf) noexcept;
void* ngx_http_tailor_limit_create_loc_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_limit_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
ngx_int_t ngx_http_tailor_limit_postconfiguration(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_limit_zone_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_limit_use_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

ngx_command_t ngx_http_tailor_limit_commands[] = {
    {ngx_string("tailor_limit_zone"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_limit_zone_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_limit_new_ids"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_tailor_limit_use_directive, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(ngx_http_tailor_limit_loc_conf_t, zone[NGX_HTTP_TAILOR_LIMIT_NEW_ID]), nullptr},

    {ngx_string("tailor_limit_beacon"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_tailor_limit_use_directive, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(ngx_http_tailor_limit_loc_conf_t, zone[NGX_HTTP_TAILOR_LIMIT_BEACON]), nullptr},

    ngx_null_command};

ngx_http_module_t ngx_http_tailor_limit_module_ctx = {
    nullptr,                                  // preconfiguration
    ngx_http_tailor_limit_postconfiguration,  // postconfiguration
    ngx_http_tailor_limit_create_main_conf,   // create main configuration
    nullptr,                                  // init main configuration
    nullptr,                                  // create server configuration
    nullptr,                                  // merge server configuration
    ngx_http_tailor_limit_create_loc_conf,    // create location configuration
    ngx_http_tailor_limit_merge_loc_conf      // merge location configuration
};

}  // namespace

ngx_module_t ngx_http_tailor_limit_module = {NGX_MODULE_V1,
                                             &ngx_http_tailor_limit_module_ctx,  // module context
                                             ngx_http_tailor_limit_commands,  // module directives
                                             NGX_HTTP_MODULE,                 // module type
                                             nullptr,                         // init master
                                             nullptr,                         // init module
                                             nullptr,                         // init process
                                             nullptr,                         // init thread
                                             nullptr,                         // exit thread
                                             nullptr,                         // exit process
                                             nullptr,                         // exit master
                                             NGX_MODULE_V1_PADDING};

namespace {

// The configuration whose tailor_status request is being rendered (render runs
// inside ngx_http_tailor_send_metrics, synchronously).
const ngx_http_tailor_limit_main_conf_t* ngx_http_tailor_limit_status_conf;

// Request time.

ngx_http_tailor_limit_node_t* ngx_http_tailor_limit_data(ngx_rbtree_node_t* node) noexcept {
    return reinterpret_cast<ngx_http_tailor_limit_node_t*>(&node->color);
}

ngx_rbtree_node_t* ngx_http_tailor_limit_tree_node(ngx_http_tailor_limit_node_t* lnode) noexcept {
    return reinterpret_cast<ngx_rbtree_node_t*>(reinterpret_cast<u_char*>(lnode) -
                                                offsetof(ngx_rbtree_node_t, color));
}

void ngx_http_tailor_limit_insert_value(ngx_rbtree_node_t* temp, ngx_rbtree_node_t* node,
                                        ngx_rbtree_node_t* sentinel) noexcept {
    ngx_rbtree_node_t** p;

    for (;;) {
        if (node->key < temp->key) {
            p = &temp->left;
        } else if (node->key > temp->key) {
            p = &temp->right;
        } else {
            ngx_http_tailor_limit_node_t* ln = ngx_http_tailor_limit_data(node);
            ngx_http_tailor_limit_node_t* lt = ngx_http_tailor_limit_data(temp);
            p = ngx_memn2cmp(ln->key, lt->key, ln->len, lt->len) < 0 ? &temp->left : &temp->right;
        }
        if (*p == sentinel) {
            break;
        }
        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}

// The client's key from the address nginx holds for it (realip's, when it
// replaced the peer's); false for a client without one (a unix socket).
bool ngx_http_tailor_limit_client(ngx_http_request_t* r, tailor::ClientKey* key) noexcept {
    const sockaddr* sa = r->connection->sockaddr;
    switch (sa->sa_family) {
        case AF_INET: {
            std::array<unsigned char, 4> a;
            ngx_memcpy(a.data(), &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, a.size());
            *key = tailor::client_key_ipv4(a);
            return true;
        }
#if (NGX_HAVE_INET6)
        case AF_INET6: {
            std::array<unsigned char, 16> a;
            ngx_memcpy(a.data(), reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr.s6_addr,
                       a.size());
            *key = tailor::client_key_ipv6(a);
            return true;
        }
#endif
        default:
            return false;
    }
}

// Frees up to two buckets from the LRU tail that hold nothing back any more;
// with `force`, the tail's first one whatever it holds (the zone is full).
// Called with the zone locked.
void ngx_http_tailor_limit_expire(ngx_http_tailor_limit_zone_t* zone, uint64_t now_us,
                                  bool force) noexcept {
    ngx_http_tailor_limit_sh_t* sh = zone->sh;

    for (ngx_uint_t n = 0; n < 2; n++) {
        if (ngx_queue_empty(&sh->queue)) {
            return;
        }
        ngx_queue_t* q = ngx_queue_last(&sh->queue);
        auto* lnode = ngx_queue_data(q, ngx_http_tailor_limit_node_t, queue);
        const bool idle = tailor::client_bucket_idle(tailor::ClientBucket{lnode->tat_us}, now_us);
        if (!idle) {
            if (!force || n > 0) {
                return;
            }
            sh->evicted++;
        }
        ngx_queue_remove(q);
        ngx_rbtree_node_t* node = ngx_http_tailor_limit_tree_node(lnode);
        ngx_rbtree_delete(&sh->rbtree, node);
        ngx_slab_free_locked(zone->shpool, node);
        sh->clients--;
    }
}

// The client's bucket, made the most recently seen; null when absent.
ngx_http_tailor_limit_node_t* ngx_http_tailor_limit_lookup(ngx_http_tailor_limit_zone_t* zone,
                                                           uint32_t hash,
                                                           const tailor::ClientKey& key) noexcept {
    ngx_http_tailor_limit_sh_t* sh = zone->sh;
    ngx_rbtree_node_t* node = sh->rbtree.root;
    ngx_rbtree_node_t* sentinel = sh->rbtree.sentinel;

    while (node != sentinel) {
        if (hash < node->key) {
            node = node->left;
            continue;
        }
        if (hash > node->key) {
            node = node->right;
            continue;
        }
        ngx_http_tailor_limit_node_t* lnode = ngx_http_tailor_limit_data(node);
        ngx_int_t rc =
            ngx_memn2cmp(const_cast<u_char*>(key.bytes.data()), lnode->key, key.size, lnode->len);
        if (rc == 0) {
            ngx_queue_remove(&lnode->queue);
            ngx_queue_insert_head(&sh->queue, &lnode->queue);
            return lnode;
        }
        node = rc < 0 ? node->left : node->right;
    }
    return nullptr;
}

// A fresh bucket for the client; when the zone is full, its least recently
// seen client is forgotten first. Null only if even then there is no room.
ngx_http_tailor_limit_node_t* ngx_http_tailor_limit_add(ngx_http_tailor_limit_zone_t* zone,
                                                        uint32_t hash, const tailor::ClientKey& key,
                                                        uint64_t now_us) noexcept {
    const size_t size = offsetof(ngx_rbtree_node_t, color) + sizeof(ngx_http_tailor_limit_node_t);

    auto* node = static_cast<ngx_rbtree_node_t*>(ngx_slab_alloc_locked(zone->shpool, size));
    if (node == nullptr) {
        ngx_http_tailor_limit_expire(zone, now_us, true);
        node = static_cast<ngx_rbtree_node_t*>(ngx_slab_alloc_locked(zone->shpool, size));
        if (node == nullptr) {
            return nullptr;
        }
    }

    node->key = hash;
    ngx_http_tailor_limit_node_t* lnode = ngx_http_tailor_limit_data(node);
    lnode->len = key.size;
    ngx_memcpy(lnode->key, key.bytes.data(), key.size);
    lnode->tat_us = 0;
    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &lnode->queue);
    zone->sh->clients++;
    return lnode;
}

void ngx_http_tailor_limit_log(ngx_http_tailor_limit_zone_t* zone, ngx_uint_t use, ngx_log_t* log,
                               const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(&zone->log_limit[use], NGX_LOG_WARN, log, "tailor: ", fmt, args);
    va_end(args);
}

ngx_int_t ngx_http_tailor_limit_take(ngx_http_request_t* r, ngx_uint_t use) noexcept {
    auto* llcf = static_cast<ngx_http_tailor_limit_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_limit_module));
    ngx_http_tailor_limit_zone_t* zone = llcf->zone[use];
    if (zone == nullptr || zone->sh == nullptr) {
        return NGX_OK;
    }

    tailor::ClientKey key;
    if (!ngx_http_tailor_limit_client(r, &key)) {
        return NGX_OK;
    }
    const uint32_t hash = ngx_crc32_short(key.bytes.data(), key.size);
    // ngx_current_msec is the monotonic clock every worker reads
    const uint64_t now_us = static_cast<uint64_t>(ngx_current_msec) * 1000;

    ngx_shmtx_lock(&zone->shpool->mutex);

    ngx_http_tailor_limit_expire(zone, now_us, false);
    ngx_http_tailor_limit_node_t* lnode = ngx_http_tailor_limit_lookup(zone, hash, key);
    if (lnode == nullptr) {
        lnode = ngx_http_tailor_limit_add(zone, hash, key, now_us);
    }

    tailor::ClientLimitVerdict verdict = tailor::ClientLimitVerdict::kPass;
    if (lnode != nullptr) {
        tailor::ClientBucket bucket{lnode->tat_us};
        verdict = tailor::client_limit_take(&bucket, zone->rate, now_us);
        lnode->tat_us = bucket.tat_us;
    }
    if (verdict == tailor::ClientLimitVerdict::kPass) {
        zone->sh->passed[use]++;
    } else {
        zone->sh->rejected[use]++;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (lnode == nullptr) {
        // cannot happen with a zone of 8 pages or more: one bucket always fits
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "tailor: no room for a client in tailor_limit_zone \"%V\"", &zone->name);
        return NGX_OK;
    }
    if (verdict == tailor::ClientLimitVerdict::kPass) {
        return NGX_OK;
    }

    if (zone->dry_run) {
        ngx_http_tailor_limit_log(
            zone, use, r->connection->log,
            "a client is over tailor_limit_zone \"%V\" (%V burst=%uD) "
            "for a %s, dry run: let through",
            &zone->name, &zone->rate_text, zone->rate.burst,
            use == NGX_HTTP_TAILOR_LIMIT_NEW_ID ? "new visitor id" : "pop-up beacon");
        return NGX_OK;
    }
    if (use == NGX_HTTP_TAILOR_LIMIT_NEW_ID) {
        ngx_http_tailor_limit_log(zone, use, r->connection->log,
                                  "limiting new visitor ids by zone \"%V\" (%V burst=%uD): the "
                                  "page goes out without one",
                                  &zone->name, &zone->rate_text, zone->rate.burst);
    } else {
        ngx_http_tailor_limit_log(zone, use, r->connection->log,
                                  "limiting pop-up beacons by zone \"%V\" (%V burst=%uD): 429",
                                  &zone->name, &zone->rate_text, zone->rate.burst);
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_BEACONS_LIMITED);
    }
    return NGX_BUSY;
}

// Configuration.

ngx_int_t ngx_http_tailor_limit_init_zone(ngx_shm_zone_t* shm_zone, void* data) noexcept {
    auto* zone = static_cast<ngx_http_tailor_limit_zone_t*>(shm_zone->data);
    auto* old = static_cast<ngx_http_tailor_limit_zone_t*>(data);

    if (old != nullptr) {
        // a reload with the same name and size: the clients' buckets carry on
        zone->sh = old->sh;
        zone->shpool = old->shpool;
        return NGX_OK;
    }

    zone->shpool = reinterpret_cast<ngx_slab_pool_t*>(shm_zone->shm.addr);
    if (shm_zone->shm.exists) {
        zone->sh = static_cast<ngx_http_tailor_limit_sh_t*>(zone->shpool->data);
        return NGX_OK;
    }

    zone->sh = static_cast<ngx_http_tailor_limit_sh_t*>(
        ngx_slab_calloc(zone->shpool, sizeof(ngx_http_tailor_limit_sh_t)));
    if (zone->sh == nullptr) {
        return NGX_ERROR;
    }
    zone->shpool->data = zone->sh;
    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel, ngx_http_tailor_limit_insert_value);
    ngx_queue_init(&zone->sh->queue);

    size_t len = sizeof(" in tailor_limit_zone \"\"") + shm_zone->shm.name.len;
    zone->shpool->log_ctx = static_cast<u_char*>(ngx_slab_alloc(zone->shpool, len));
    if (zone->shpool->log_ctx == nullptr) {
        return NGX_ERROR;
    }
    ngx_sprintf(zone->shpool->log_ctx, " in tailor_limit_zone \"%V\"%Z", &shm_zone->shm.name);
    // a full zone is expected under attack: it forgets its oldest client, quietly
    zone->shpool->log_nomem = 0;
    return NGX_OK;
}

void* ngx_http_tailor_limit_create_main_conf(ngx_conf_t* cf) noexcept {
    auto* lmcf = static_cast<ngx_http_tailor_limit_main_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_limit_main_conf_t)));
    if (lmcf == nullptr) {
        return nullptr;
    }
    if (ngx_array_init(&lmcf->zones, cf->pool, 2, sizeof(ngx_http_tailor_limit_zone_t*)) !=
        NGX_OK) {
        return nullptr;
    }
    return lmcf;
}

void* ngx_http_tailor_limit_create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* llcf = static_cast<ngx_http_tailor_limit_loc_conf_t*>(
        ngx_palloc(cf->pool, sizeof(ngx_http_tailor_limit_loc_conf_t)));
    if (llcf == nullptr) {
        return nullptr;
    }
    for (auto& z : llcf->zone) {
        z = static_cast<ngx_http_tailor_limit_zone_t*>(NGX_CONF_UNSET_PTR);
    }
    return llcf;
}

char* ngx_http_tailor_limit_merge_loc_conf(ngx_conf_t*, void* parent, void* child) noexcept {
    auto* prev = static_cast<ngx_http_tailor_limit_loc_conf_t*>(parent);
    auto* conf = static_cast<ngx_http_tailor_limit_loc_conf_t*>(child);
    for (ngx_uint_t i = 0; i < NGX_HTTP_TAILOR_LIMIT_USES; i++) {
        ngx_conf_merge_ptr_value(conf->zone[i], prev->zone[i], nullptr);
    }
    return NGX_CONF_OK;
}

// Every zone a directive names must be defined somewhere in http{}.
ngx_int_t ngx_http_tailor_limit_postconfiguration(ngx_conf_t* cf) noexcept {
    auto* lmcf = static_cast<ngx_http_tailor_limit_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_limit_module));
    auto** zones = static_cast<ngx_http_tailor_limit_zone_t**>(lmcf->zones.elts);
    for (ngx_uint_t i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->shm_zone == nullptr) {
            ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &zones[i]->used_pos,
                                        "unknown tailor_limit_zone \"%V\"", &zones[i]->name);
            return NGX_ERROR;
        }
    }
    return NGX_OK;
}

// The zone called `name`, added (undefined) when no directive named it yet.
ngx_http_tailor_limit_zone_t* ngx_http_tailor_limit_zone_get(
    ngx_conf_t* cf, ngx_http_tailor_limit_main_conf_t* lmcf, ngx_str_t name) noexcept {
    auto** zones = static_cast<ngx_http_tailor_limit_zone_t**>(lmcf->zones.elts);
    for (ngx_uint_t i = 0; i < lmcf->zones.nelts; i++) {
        if (zones[i]->name.len == name.len &&
            ngx_strncmp(zones[i]->name.data, name.data, name.len) == 0) {
            return zones[i];
        }
    }

    auto* zone = static_cast<ngx_http_tailor_limit_zone_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_limit_zone_t)));
    if (zone == nullptr) {
        return nullptr;
    }
    /*
     * set by ngx_pcalloc():
     *
     *     zone->shm_zone = NULL;
     *     zone->sh = NULL;
     *     zone->shpool = NULL;
     *     zone->used_pos = { { 0, NULL }, 0 };
     *     zone->dry_run = 0;
     *     zone->log_limit = { { 0, 0 }, { 0, 0 } };
     */
    zone->name = name;
    zone->rate = tailor::ClientRate{};

    auto** slot = static_cast<ngx_http_tailor_limit_zone_t**>(ngx_array_push(&lmcf->zones));
    if (slot == nullptr) {
        return nullptr;
    }
    *slot = zone;
    return zone;
}

bool ngx_http_tailor_limit_valid_name(ngx_str_t name) noexcept {
    if (name.len == 0 || name.len > kZoneNameMax) {
        return false;
    }
    // a metric label value and a log word: nothing to escape in either
    for (size_t i = 0; i < name.len; i++) {
        u_char c = name.data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-')) {
            return false;
        }
    }
    return true;
}

// tailor_limit_zone name:size rate=Nr/s|Nr/m [burst=N] [dry_run];
char* ngx_http_tailor_limit_zone_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lmcf = static_cast<ngx_http_tailor_limit_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    u_char* colon = ngx_strlchr(value[1].data, value[1].data + value[1].len, ':');
    if (colon == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\" in \"tailor_limit_zone\": expected name:size, "
                           "e.g. new_ids:10m",
                           &value[1]);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    ngx_str_t name = {static_cast<size_t>(colon - value[1].data), value[1].data};
    ngx_str_t size_text = {value[1].len - name.len - 1, colon + 1};

    if (!ngx_http_tailor_limit_valid_name(name)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\" in \"tailor_limit_zone\": 1 to %uz of "
                           "A-Z a-z 0-9 _ -",
                           &name, kZoneNameMax);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    ssize_t size = ngx_parse_size(&size_text);
    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\" in \"tailor_limit_zone\"", &size_text);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (size < static_cast<ssize_t>(8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "tailor_limit_zone \"%V\" is too small: at least %uzk", &name,
                           8 * ngx_pagesize / 1024);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    std::optional<tailor::ClientRate> rate;
    ngx_str_t rate_text = ngx_null_string;
    uint32_t burst = 0;
    bool dry_run = false;
    for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
        ngx_str_t v = value[i];
        if (v.len == 7 && ngx_strncmp(v.data, "dry_run", 7) == 0) {
            dry_run = true;
        } else if (v.len > 5 && ngx_strncmp(v.data, "rate=", 5) == 0) {
            rate_text = {v.len - 5, v.data + 5};
            rate = tailor::parse_client_rate(ngx_http_tailor_view(rate_text));
            if (!rate) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\" in \"tailor_limit_zone\": expected "
                                   "N r/s or N r/m, e.g. rate=10r/m (1..%uD)",
                                   &value[i], tailor::kMaxClientRequests);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
        } else if (v.len > 6 && ngx_strncmp(v.data, "burst=", 6) == 0) {
            std::optional<uint32_t> b =
                tailor::parse_client_burst(ngx_http_tailor_view(ngx_str_t{v.len - 6, v.data + 6}));
            if (!b) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\" in \"tailor_limit_zone\": 0..%uD",
                                   &value[i], tailor::kMaxClientBurst);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            burst = *b;
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"tailor_limit_zone\" (known: "
                               "rate=, burst=, dry_run)",
                               &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    if (!rate) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_limit_zone\" \"%V\" needs rate=, e.g. rate=10r/m", &name);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    ngx_http_tailor_limit_zone_t* zone = ngx_http_tailor_limit_zone_get(cf, lmcf, name);
    if (zone == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (zone->shm_zone != nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "duplicate tailor_limit_zone \"%V\"", &name);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    zone->rate = *rate;
    zone->rate.burst = burst;
    zone->rate_text = rate_text;
    zone->dry_run = dry_run;

    ngx_shm_zone_t* shm_zone =
        ngx_shared_memory_add(cf, &name, static_cast<size_t>(size), &ngx_http_tailor_limit_module);
    if (shm_zone == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (shm_zone->data != nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "duplicate tailor_limit_zone \"%V\"", &name);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    shm_zone->init = ngx_http_tailor_limit_init_zone;
    shm_zone->data = zone;
    zone->shm_zone = shm_zone;
    return NGX_CONF_OK;
}

// tailor_limit_new_ids zone | off; tailor_limit_beacon zone | off;
char* ngx_http_tailor_limit_use_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    auto** field =
        reinterpret_cast<ngx_http_tailor_limit_zone_t**>(static_cast<char*>(conf) + cmd->offset);
    if (*field != NGX_CONF_UNSET_PTR) {
        return const_cast<char*>("is duplicate");
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        *field = nullptr;
        return NGX_CONF_OK;
    }
    if (!ngx_http_tailor_limit_valid_name(value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid zone name \"%V\" in \"%V\"", &value[1],
                           &cmd->name);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    auto* lmcf = static_cast<ngx_http_tailor_limit_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_limit_module));
    ngx_http_tailor_limit_zone_t* zone = ngx_http_tailor_limit_zone_get(cf, lmcf, value[1]);
    if (zone == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (zone->used_pos.file.len == 0) {
        ngx_http_tailor_conf_pos_set(cf, &zone->used_pos);
    }
    *field = zone;
    return NGX_CONF_OK;
}

}  // namespace

ngx_int_t ngx_http_tailor_limit_new_id(ngx_http_request_t* r) noexcept {
    return ngx_http_tailor_limit_take(r, NGX_HTTP_TAILOR_LIMIT_NEW_ID);
}

ngx_int_t ngx_http_tailor_limit_beacon(ngx_http_request_t* r) noexcept {
    return ngx_http_tailor_limit_take(r, NGX_HTTP_TAILOR_LIMIT_BEACON);
}

size_t ngx_http_tailor_limit_status_begin(ngx_http_request_t* r) noexcept {
    ngx_http_tailor_limit_status_conf = static_cast<ngx_http_tailor_limit_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_limit_module));
    // the HELP and TYPE lines, then a few samples per zone, each under 200 bytes
    return 1024 + ngx_http_tailor_limit_status_conf->zones.nelts * 1024;
}

void ngx_http_tailor_limit_render_status(u_char** pos, u_char* end) noexcept {
    const ngx_http_tailor_limit_main_conf_t* lmcf = ngx_http_tailor_limit_status_conf;
    ngx_http_tailor_limit_status_conf = nullptr;

    const ngx_uint_t n = lmcf != nullptr ? lmcf->zones.nelts : 0;
    auto** zones =
        lmcf != nullptr ? static_cast<ngx_http_tailor_limit_zone_t**>(lmcf->zones.elts) : nullptr;

    struct family_t {
        const char* name;
        const char* type;
        const char* help;
    };
    static constexpr family_t kFamilies[] = {
        {"tailor_limit_passed_total", "counter",
         "Requests a tailor_limit_zone let through, by zone and use (new_id: a page that mints "
         "a visitor id; beacon: a pop-up beacon)."},
        {"tailor_limit_rejected_total", "counter",
         "Requests over their client's limit, by zone and use: pages served without a new id, "
         "beacons answered 429 (a dry_run zone lets them through)."},
        {"tailor_limit_evicted_total", "counter",
         "Clients a full tailor_limit_zone forgot while it still held them back."},
        {"tailor_limit_clients", "gauge", "Clients a tailor_limit_zone holds now."},
    };

    for (size_t f = 0; f < std::size(kFamilies); f++) {
        ngx_http_tailor_status_print(pos, end, "# HELP %s %s\n# TYPE %s %s\n", kFamilies[f].name,
                                     kFamilies[f].help, kFamilies[f].name, kFamilies[f].type);
        for (ngx_uint_t i = 0; i < n; i++) {
            const ngx_http_tailor_limit_sh_t* sh = zones[i]->sh;
            if (sh == nullptr) {
                continue;
            }
            const int nlen = static_cast<int>(zones[i]->name.len);
            const char* name = reinterpret_cast<const char*>(zones[i]->name.data);
            if (f < 2) {
                const ngx_atomic_t* counts = f == 0 ? sh->passed : sh->rejected;
                for (ngx_uint_t u = 0; u < NGX_HTTP_TAILOR_LIMIT_USES; u++) {
                    ngx_http_tailor_status_print(
                        pos, end, "%s{zone=\"%.*s\",use=\"%s\"} %" PRIuPTR "\n", kFamilies[f].name,
                        nlen, name, ngx_http_tailor_limit_use_names[u],
                        static_cast<uintptr_t>(counts[u]));
                }
                continue;
            }
            const ngx_atomic_t v = f == 2 ? sh->evicted : sh->clients;
            ngx_http_tailor_status_print(pos, end, "%s{zone=\"%.*s\"} %" PRIuPTR "\n",
                                         kFamilies[f].name, nlen, name, static_cast<uintptr_t>(v));
        }
    }
}
