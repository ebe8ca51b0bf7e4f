// ngx_http_tailor_events_module: the module, its configuration and worker hooks;
// the directive handlers are ngx_http_tailor_events_directives.cpp, the
// log-phase handler that turns a request into events is
// ngx_http_tailor_events_log.cpp.
#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_redis.h"

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "tailor/events/event.h"
#include "tailor/events/path.h"
#include "tailor/events/spool.h"
#include "tailor/events/stream_shard.h"

namespace {

void* ngx_http_tailor_events_create_main_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_events_init_main_conf(ngx_conf_t* cf, void* conf) noexcept;
void* ngx_http_tailor_events_create_loc_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_events_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
ngx_int_t ngx_http_tailor_events_postconfiguration(ngx_conf_t* cf) noexcept;
ngx_int_t ngx_http_tailor_events_init_module(ngx_cycle_t* cycle) noexcept;
ngx_int_t ngx_http_tailor_events_init_process(ngx_cycle_t* cycle) noexcept;
void ngx_http_tailor_events_exit_process(ngx_cycle_t* cycle) noexcept;
char* ngx_http_tailor_events_enable(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_events_interval_check(ngx_conf_t* cf, void* post, void* data) noexcept;

// checked where the directive is written, so nginx -t names its line
ngx_conf_post_t ngx_http_tailor_events_interval_post = {ngx_http_tailor_events_interval_check};
ngx_conf_num_bounds_t ngx_http_tailor_events_batch_bounds = {ngx_conf_check_num_bounds, 1, 4096};
ngx_conf_num_bounds_t ngx_http_tailor_events_shards_bounds = {ngx_conf_check_num_bounds, 1,
                                                              tailor::kMaxStreamShards};
ngx_conf_num_bounds_t ngx_http_tailor_events_queue_bounds = {ngx_conf_check_num_bounds, 16,
                                                             1048576};

ngx_command_t ngx_http_tailor_events_commands[] = {
    {ngx_string("tailor_events"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_http_tailor_events_enable, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(ngx_http_tailor_events_loc_conf_t, enable), nullptr},

    {ngx_string("tailor_event"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_events_event, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_events_stream"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12,
     ngx_http_tailor_events_stream, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_events_stream_shards"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     offsetof(ngx_http_tailor_events_main_conf_t, shards), &ngx_http_tailor_events_shards_bounds},

    {ngx_string("tailor_events_replica_wait"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_http_tailor_events_replica_wait, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_events_spool"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_events_spool, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_events_batch"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_num_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(ngx_http_tailor_events_main_conf_t, batch),
     &ngx_http_tailor_events_batch_bounds},

    {ngx_string("tailor_events_batch_visitors"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_num_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     offsetof(ngx_http_tailor_events_main_conf_t, batch_visitors),
     &ngx_http_tailor_events_batch_bounds},

    {ngx_string("tailor_events_watch"), NGX_HTTP_MAIN_CONF | NGX_CONF_FLAG, ngx_conf_set_flag_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(ngx_http_tailor_events_main_conf_t, watch), nullptr},

    {ngx_string("tailor_events_flush_interval"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     offsetof(ngx_http_tailor_events_main_conf_t, interval), &ngx_http_tailor_events_interval_post},

    {ngx_string("tailor_events_queue"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_num_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(ngx_http_tailor_events_main_conf_t, queue),
     &ngx_http_tailor_events_queue_bounds},

    {ngx_string("tailor_events_live"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_events_live, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_event_strip"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_events_strip, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_event_params"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_events_params, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_events_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     ngx_http_tailor_events_status, 0, 0, nullptr},

    {ngx_string("tailor_events_upstream_header"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE12,
     ngx_http_tailor_events_upstream_header, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    ngx_null_command};

ngx_http_module_t ngx_http_tailor_events_module_ctx = {
    nullptr,                                   // preconfiguration
    ngx_http_tailor_events_postconfiguration,  // postconfiguration
    ngx_http_tailor_events_create_main_conf,   // create main configuration
    ngx_http_tailor_events_init_main_conf,     // init main configuration
    nullptr,                                   // create server configuration
    nullptr,                                   // merge server configuration
    ngx_http_tailor_events_create_loc_conf,    // create location configuration
    ngx_http_tailor_events_merge_loc_conf      // merge location configuration
};

}  // namespace

ngx_module_t ngx_http_tailor_events_module = {NGX_MODULE_V1,
                                              &ngx_http_tailor_events_module_ctx,  // module context
                                              ngx_http_tailor_events_commands,  // module directives
                                              NGX_HTTP_MODULE,                  // module type
                                              nullptr,                          // init master
                                              ngx_http_tailor_events_init_module,   // init module
                                              ngx_http_tailor_events_init_process,  // init process
                                              nullptr,                              // init thread
                                              nullptr,                              // exit thread
                                              ngx_http_tailor_events_exit_process,  // exit process
                                              nullptr,                              // exit master
                                              NGX_MODULE_V1_PADDING};

namespace {

constexpr ngx_uint_t kDefaultMaxlen = 1000000;
constexpr ngx_uint_t kDefaultClusterShards = 8;
constexpr ngx_msec_t kDefaultClusterReplicaWait = 50;
constexpr size_t kDefaultSpoolMax = 64 * 1024 * 1024;
constexpr size_t kDefaultSpoolSegment = 4 * 1024 * 1024;
constexpr ngx_uint_t kDefaultBatch = 256;
constexpr ngx_uint_t kDefaultBatchVisitors = 16;
constexpr ngx_msec_t kDefaultInterval = 10;
constexpr ngx_uint_t kDefaultQueue = 32768;

ngx_str_t ngx_http_tailor_events_default_stream = ngx_string("tailor:events");
ngx_str_t ngx_http_tailor_events_default_spool = ngx_string("tailor-spool");

void ngx_http_tailor_events_free_strip(void* data) noexcept {
    delete static_cast<tailor::SensitiveQuery*>(data);
}

// Configuration.

// "tailor_events": a flag that remembers where it is written, for the checks
// made once every directive is known (postconfiguration).
char* ngx_http_tailor_events_enable(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    auto* elcf = static_cast<ngx_http_tailor_events_loc_conf_t*>(conf);
    char* rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv == NGX_CONF_OK) {
        ngx_http_tailor_conf_pos_set(cf, &elcf->enable_pos);
    }
    return rv;
}

void* ngx_http_tailor_events_create_main_conf(ngx_conf_t* cf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_events_main_conf_t)));
    if (emcf == nullptr) {
        return nullptr;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     emcf->stream = { 0, NULL };
     *     emcf->spool = NULL;
     *     emcf->spool_off = 0;
     *     emcf->spool_default = 0;
     *     emcf->spool_sync = 0;  (SpoolSync::kNone)
     *     emcf->enabled_somewhere = 0;
     *     emcf->upstream_header = { 0, NULL };
     *     emcf->upstream_lowcase = NULL;
     *     emcf->upstream_pos = { { 0, NULL }, 0 };
     */

    emcf->maxlen = NGX_CONF_UNSET_UINT;
    emcf->shards = NGX_CONF_UNSET_UINT;
    emcf->replica_wait = NGX_CONF_UNSET_MSEC;
    emcf->spool_max = NGX_CONF_UNSET_SIZE;
    emcf->spool_segment = NGX_CONF_UNSET_SIZE;
    emcf->batch = NGX_CONF_UNSET_UINT;
    emcf->batch_visitors = NGX_CONF_UNSET_UINT;
    emcf->watch = NGX_CONF_UNSET;
    emcf->interval = NGX_CONF_UNSET_MSEC;
    emcf->queue = NGX_CONF_UNSET_UINT;
    emcf->live_ttl = NGX_CONF_UNSET;
    emcf->viewed_cap = NGX_CONF_UNSET_UINT;
    emcf->cart_cap = NGX_CONF_UNSET_UINT;
    emcf->money_scale = NGX_CONF_UNSET_UINT;
    emcf->session_gap = NGX_CONF_UNSET;
    emcf->upstream_max = NGX_CONF_UNSET_SIZE;

    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == nullptr) {
        return nullptr;
    }
    emcf->strip = new (std::nothrow) tailor::SensitiveQuery();
    if (emcf->strip == nullptr) {
        return nullptr;
    }
    cln->handler = ngx_http_tailor_events_free_strip;
    cln->data = emcf->strip;
    return emcf;
}

char* ngx_http_tailor_events_init_main_conf(ngx_conf_t* cf, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);

    if (emcf->stream.len == 0) {
        emcf->stream = ngx_http_tailor_events_default_stream;
    }
    ngx_conf_init_uint_value(emcf->maxlen, kDefaultMaxlen);
    ngx_conf_init_size_value(emcf->spool_max, kDefaultSpoolMax);
    ngx_conf_init_size_value(emcf->spool_segment, kDefaultSpoolSegment);
    ngx_conf_init_uint_value(emcf->batch, kDefaultBatch);
    ngx_conf_init_uint_value(emcf->batch_visitors, kDefaultBatchVisitors);
    ngx_conf_init_value(emcf->watch, 1);
    ngx_conf_init_msec_value(emcf->interval, kDefaultInterval);
    ngx_conf_init_uint_value(emcf->queue, kDefaultQueue);
    ngx_conf_init_value(emcf->live_ttl, 90 * 24 * 3600);
    ngx_conf_init_uint_value(emcf->viewed_cap, 20);
    ngx_conf_init_uint_value(emcf->cart_cap, 50);
    ngx_conf_init_uint_value(emcf->money_scale, 100);
    ngx_conf_init_value(emcf->session_gap, 30 * 60);

    // a configured spool only (the default one is added later, with the defaults):
    // max_size and segment_size are checked against each other once both are
    // known, and the error names the tailor_events_spool line, not http{}'s end
    if (emcf->spool != nullptr &&
        (emcf->spool_segment > emcf->spool_max / 2 ||
         emcf->spool_segment <
             tailor::kSpoolSegmentHeaderBytes + 64 * 1024 + tailor::kSpoolFrameHeaderBytes)) {
        ngx_http_tailor_conf_pos_t pos = {
            {ngx_strlen(emcf->spool->conf_file), emcf->spool->conf_file}, emcf->spool->line};
        ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &pos,
                                    "\"tailor_events_spool\" segment_size must be at least 72k "
                                    "and at most half of max_size");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}

char* ngx_http_tailor_events_interval_check(ngx_conf_t* cf, void*, void* data) noexcept {
    if (*static_cast<ngx_msec_t*>(data) == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_events_flush_interval\" must be > 0");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

void* ngx_http_tailor_events_create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* elcf = static_cast<ngx_http_tailor_events_loc_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_events_loc_conf_t)));
    if (elcf == nullptr) {
        return nullptr;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     elcf->events = NULL;
     */

    elcf->enable = NGX_CONF_UNSET;
    return elcf;
}

char* ngx_http_tailor_events_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<ngx_http_tailor_events_loc_conf_t*>(parent);
    auto* conf = static_cast<ngx_http_tailor_events_loc_conf_t*>(child);

    bool enabled_here = conf->enable != NGX_CONF_UNSET;
    if (!enabled_here) {
        conf->enable_pos = prev->enable_pos;
    }
    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    bool declared_here = conf->events != nullptr;
    if (conf->events == nullptr) {
        conf->events = prev->events;
    }

    if (!conf->enable) {
        return NGX_CONF_OK;
    }

    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_events_module));
    emcf->enabled_somewhere = 1;
    if (emcf->enabled_pos.file.len == 0) {
        emcf->enabled_pos = conf->enable_pos;
    }

    // the main module's location confs are merged already (it comes first)
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_tailor_module));
    if (declared_here && !lcf->enable) {
        ngx_http_tailor_conf_log_at(NGX_LOG_WARN, cf, &conf->event_pos,
                                    "\"tailor_event\" has no effect where \"tailor\" is off: "
                                    "the visitor is not known there");
    }
    // "tailor_events on" written in a location (the server level's conf has no
    // name) where tailor is off and no beacon runs: nothing there knows a visitor
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    if (enabled_here && !declared_here && !lcf->enable && lcf->beacon_pos.file.len == 0 &&
        clcf->name.len != 0) {
        ngx_http_tailor_conf_log_at(NGX_LOG_WARN, cf, &conf->enable_pos,
                                    "\"tailor_events on\" has no effect where \"tailor\" is "
                                    "off: the visitor is not known there");
    }

    return NGX_CONF_OK;
}

// Events are never lost by default: without "tailor_events_spool", the spool is
// <prefix>/tailor-spool. Unlike a configured one (ngx_add_path, whose failure stops
// nginx), it is created at init_module, and a prefix nginx cannot write to costs the
// spool, with a warning, not the start.
ngx_int_t ngx_http_tailor_events_default_spool_path(ngx_conf_t* cf,
                                                    ngx_http_tailor_events_main_conf_t* emcf) {
    auto* path = static_cast<ngx_path_t*>(ngx_pcalloc(cf->pool, sizeof(ngx_path_t)));
    if (path == nullptr) {
        return NGX_ERROR;
    }
    path->name = ngx_http_tailor_events_default_spool;
    if (ngx_conf_full_name(cf->cycle, &path->name, 0) != NGX_OK) {
        return NGX_ERROR;
    }
    emcf->spool = path;
    emcf->spool_default = 1;
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_events_postconfiguration(ngx_conf_t* cf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_events_module));

    if (ngx_http_tailor_events_init_zone(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    // the upstream's event header stays internal even where events are off
    if (ngx_http_tailor_events_upstream_init(cf, emcf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!emcf->enabled_somewhere) {
        return NGX_OK;
    }

    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
    if (mcf->redis == nullptr) {
        ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &emcf->enabled_pos,
                                    "\"tailor_events on\" needs \"tailor_redis\" to deliver "
                                    "events");
        return NGX_ERROR;
    }
    // a Redis Cluster: the stream is sharded and each batch split by slot (ClusterBatch)
    ngx_conf_init_uint_value(emcf->shards, mcf->redis->cluster ? kDefaultClusterShards : 1);
    ngx_conf_init_msec_value(emcf->replica_wait,
                             mcf->redis->cluster ? kDefaultClusterReplicaWait : 0);
    // events are about a known visitor: only "tailor on" (pages) and the pop-up
    // beacon know one, so without either nothing could ever be emitted
    if (!mcf->enabled_somewhere && !mcf->beacon_somewhere) {
        ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &emcf->enabled_pos,
                                    "\"tailor_events on\" has no effect: no location has "
                                    "\"tailor on\" or \"tailor_popup_beacon\", so no visitor "
                                    "is known");
        return NGX_ERROR;
    }

    if (emcf->spool == nullptr && !emcf->spool_off &&
        ngx_http_tailor_events_default_spool_path(cf, emcf) != NGX_OK) {
        return NGX_ERROR;
    }

    auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto* h = static_cast<ngx_http_handler_pt*>(
        ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    *h = ngx_http_tailor_events_log_handler;
    return NGX_OK;
}

// Creates the default spool directory, in the master (root, when nginx starts as root), and
// gives it to the workers' user, as ngx_create_paths() does for configured paths.
ngx_int_t ngx_http_tailor_events_init_module(ngx_cycle_t* cycle) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tailor_events_module));
    if (emcf == nullptr || !emcf->enabled_somewhere || !emcf->spool_default ||
        emcf->spool == nullptr) {
        return NGX_OK;
    }

    ngx_str_t* name = &emcf->spool->name;
    char dir[NGX_MAX_PATH];
    if (name->len >= sizeof(dir)) {
        return NGX_OK;
    }
    ngx_memcpy(dir, name->data, name->len);
    dir[name->len] = '\0';

    if (ngx_create_dir(dir, 0700) == NGX_FILE_ERROR && ngx_errno != NGX_EEXIST) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, ngx_errno,
                      "tailor events: the default spool \"%s\" was not created: events are "
                      "dropped while redis is away and the queue is full; set "
                      "\"tailor_events_spool\" to a writable directory (or \"off\")",
                      dir);
        return NGX_OK;
    }

    auto* ccf = reinterpret_cast<ngx_core_conf_t*>(ngx_get_conf(cycle->conf_ctx, ngx_core_module));
    if (geteuid() == 0 && ccf != nullptr &&
        ccf->user != static_cast<ngx_uid_t>(NGX_CONF_UNSET_UINT) &&
        chown(dir, ccf->user, static_cast<gid_t>(-1)) == -1) {
        ngx_log_error(NGX_LOG_WARN, cycle->log, ngx_errno,
                      "tailor events: chown() of the default spool \"%s\" failed", dir);
    }
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_events_init_process(ngx_cycle_t* cycle) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tailor_events_module));
    if (emcf == nullptr || !emcf->enabled_somewhere) {
        return NGX_OK;
    }
    if (ngx_process != NGX_PROCESS_WORKER && ngx_process != NGX_PROCESS_SINGLE) {
        return NGX_OK;
    }
    return ngx_http_tailor_events_init_worker(cycle, emcf);
}

void ngx_http_tailor_events_exit_process(ngx_cycle_t* cycle) noexcept {
    ngx_http_tailor_events_exit_worker(cycle);
}

}  // namespace
