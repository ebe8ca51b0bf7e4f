// ngx_http_tailor_limit_module: its directives (tailor_limit_zone, tailor_limit_new_ids,
// tailor_limit_beacon), its confs and the zones' shared memory (docs/directives.md).
#include "ngx_http_tailor_limit_internal.h"

#include <cinttypes>

namespace {

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
