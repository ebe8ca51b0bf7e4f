// ngx_http_tailor_limit_module: per-client limits on new visitor ids and beacons.
//
// Shaped like limit_req: each tailor_limit_zone is a shared-memory slab with
// a red-black tree of client buckets (hash of the client's key, then the key)
// and an LRU queue; a lookup frees up to two idle buckets from the LRU tail,
// and a full zone forgets its least recently seen client. The math (GCRA)
// and the client's key (the address, an IPv6 client by its /64) are core's:
// tailor/request/client_limit.h. The glue only locks, looks up and counts.
#include "ngx_http_tailor_limit.h"
#include "ngx_http_tailor_limit_internal.h"

#include <array>
#include <cinttypes>
#include <cstdarg>
#include <iterator>
#include <optional>

#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_metrics.h"
#include "tailor/request/client_limit.h"

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

}  // namespace

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

namespace {

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
