// ngx_http_tailor_module: directives, configuration, variables and worker lifecycle.
#include "ngx_http_tailor.h"

#include <algorithm>
#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/engine/engine.h"
#include "tailor/profile/profile.h"

namespace {

void* ngx_http_tailor_create_main_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_init_main_conf(ngx_conf_t* cf, void* conf) noexcept;
void* ngx_http_tailor_create_srv_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_merge_srv_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
void* ngx_http_tailor_create_loc_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
char* ngx_http_tailor_check_loc_conf(ngx_conf_t* cf, ngx_http_tailor_loc_conf_t* conf) noexcept;
ngx_int_t ngx_http_tailor_preconfiguration(ngx_conf_t* cf) noexcept;
ngx_int_t ngx_http_tailor_postconfiguration(ngx_conf_t* cf) noexcept;
ngx_int_t ngx_http_tailor_init_process(ngx_cycle_t* cycle) noexcept;
void ngx_http_tailor_exit_process(ngx_cycle_t* cycle) noexcept;

char* ngx_http_tailor_max_profile_check(ngx_conf_t* cf, void* post, void* data) noexcept;

ngx_conf_num_bounds_t ngx_http_tailor_timeout_bounds = {ngx_conf_check_num_bounds, 1, 60000};
// checked where it is written, so nginx -t names its line
ngx_conf_post_t ngx_http_tailor_max_profile_post = {ngx_http_tailor_max_profile_check};

ngx_command_t ngx_http_tailor_commands[] = {
    {ngx_string("tailor"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_http_tailor_enable_directive, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(ngx_http_tailor_loc_conf_t, enable), nullptr},

    {ngx_string("tailor_redis"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_redis_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_keys"), NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_CONF_TAKE1,
     ngx_http_tailor_keys_directive, NGX_HTTP_SRV_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_rules"), NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_rules_directive, NGX_HTTP_SRV_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_timeout"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_msec_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(ngx_http_tailor_loc_conf_t, timeout), &ngx_http_tailor_timeout_bounds},

    {ngx_string("tailor_types"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_1MORE,
     ngx_http_types_slot, NGX_HTTP_LOC_CONF_OFFSET,
     offsetof(ngx_http_tailor_loc_conf_t, types_keys), &ngx_http_tailor_default_types[0]},

    {ngx_string("tailor_cookie"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_cookie_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_consent"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE12,
     ngx_http_tailor_consent_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_logged_in"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE1,
     ngx_http_tailor_logged_in_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_rule_cookies"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_rule_cookies_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_cache"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_cache_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_max_profile"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_size_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(ngx_http_tailor_main_conf_t, max_profile),
     &ngx_http_tailor_max_profile_post},

    {ngx_string("tailor_identify_header"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1,
     ngx_conf_set_str_slot, NGX_HTTP_MAIN_CONF_OFFSET,
     offsetof(ngx_http_tailor_main_conf_t, identify_header), nullptr},

    {ngx_string("tailor_status"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     ngx_http_tailor_status_directive, 0, 0, nullptr},

    {ngx_string("tailor_popup_runtime"), NGX_HTTP_LOC_CONF | NGX_CONF_NOARGS,
     ngx_http_tailor_popup_runtime_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_popup_beacon"), NGX_HTTP_LOC_CONF | NGX_CONF_ANY,
     ngx_http_tailor_popup_beacon_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_popup_urls"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_TAKE2,
     ngx_http_tailor_popup_urls_directive, NGX_HTTP_LOC_CONF_OFFSET, 0, nullptr},

    ngx_null_command};

ngx_http_module_t ngx_http_tailor_module_ctx = {
    ngx_http_tailor_preconfiguration,   // preconfiguration
    ngx_http_tailor_postconfiguration,  // postconfiguration
    ngx_http_tailor_create_main_conf,   // create main configuration
    ngx_http_tailor_init_main_conf,     // init main configuration
    ngx_http_tailor_create_srv_conf,    // create server configuration
    ngx_http_tailor_merge_srv_conf,     // merge server configuration
    ngx_http_tailor_create_loc_conf,    // create location configuration
    ngx_http_tailor_merge_loc_conf      // merge location configuration
};

}  // namespace

ngx_module_t ngx_http_tailor_module = {NGX_MODULE_V1,
                                       &ngx_http_tailor_module_ctx,   // module context
                                       ngx_http_tailor_commands,      // module directives
                                       NGX_HTTP_MODULE,               // module type
                                       nullptr,                       // init master
                                       nullptr,                       // init module
                                       ngx_http_tailor_init_process,  // init process
                                       nullptr,                       // init thread
                                       nullptr,                       // exit thread
                                       ngx_http_tailor_exit_process,  // exit process
                                       nullptr,                       // exit master
                                       NGX_MODULE_V1_PADDING};

ngx_str_t ngx_http_tailor_default_types[] = {ngx_string("text/html"), ngx_null_string};
ngx_str_t ngx_http_tailor_default_cookie_path = ngx_string("/");

namespace {

constexpr size_t kDefaultMaxProfile = tailor::kMaxProfileBytes;
constexpr size_t kMaxProfileLimit = tailor::kMaxProfileBytesLimit;
constexpr ngx_msec_t kDefaultTimeout = 5;

ngx_str_t ngx_http_tailor_default_cookie_name = ngx_string("tailor_vid");
ngx_str_t ngx_http_tailor_default_identify = ngx_string("X-Tailor-Identify");

void* ngx_http_tailor_create_main_conf(ngx_conf_t* cf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_main_conf_t)));
    if (mcf == nullptr) {
        return nullptr;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->redis = NULL;
     *     mcf->identify_header = { 0, NULL };
     *     mcf->series = NULL;
     *     mcf->redis_pos = { { 0, NULL }, 0 };
     *     mcf->internal_headers = { {}, 0, 0 };
     */

    if (ngx_array_init(&mcf->engines, cf->pool, 2, sizeof(tailor::Engine*)) != NGX_OK) {
        return nullptr;
    }
    mcf->cache_size = NGX_CONF_UNSET_UINT;
    mcf->cache_ttl = NGX_CONF_UNSET_MSEC;
    mcf->max_profile = NGX_CONF_UNSET_SIZE;
    return mcf;
}

char* ngx_http_tailor_init_main_conf(ngx_conf_t* cf, void* conf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(conf);

    ngx_conf_init_uint_value(mcf->cache_size, 0);
    ngx_conf_init_msec_value(mcf->cache_ttl, 1000);
    ngx_conf_init_size_value(mcf->max_profile, kDefaultMaxProfile);

    if (mcf->identify_header.len == 0) {
        mcf->identify_header = ngx_http_tailor_default_identify;
    }

    mcf->identify_lowcase = static_cast<u_char*>(ngx_pnalloc(cf->pool, mcf->identify_header.len));
    if (mcf->identify_lowcase == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    ngx_strlow(mcf->identify_lowcase, mcf->identify_header.data, mcf->identify_header.len);
    if (ngx_http_tailor_add_internal_header(
            cf, {mcf->identify_header.len, mcf->identify_lowcase}) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    // http{}'s engine, which every server without its own tailor_rules uses
    auto* sscf = static_cast<ngx_http_tailor_srv_conf_t*>(
        ngx_http_conf_get_module_srv_conf(cf, ngx_http_tailor_module));
    return ngx_http_tailor_core_create_engine(cf, mcf, sscf);
}

void* ngx_http_tailor_create_srv_conf(ngx_conf_t* cf) noexcept {
    auto* sscf = static_cast<ngx_http_tailor_srv_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_srv_conf_t)));

    /*
     * set by ngx_pcalloc():
     *
     *     sscf->keys_file = { 0, NULL };
     *     sscf->keyring = NULL;
     *     sscf->rules = NULL;
     *     sscf->engine = NULL;
     *     sscf->series = NULL;
     *     sscf->keys_pos = { { 0, NULL }, 0 };
     *     sscf->rules_pos = { { 0, NULL }, 0 };
     */

    return sscf;
}

char* ngx_http_tailor_merge_srv_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<ngx_http_tailor_srv_conf_t*>(parent);
    auto* conf = static_cast<ngx_http_tailor_srv_conf_t*>(child);

    if (conf->keyring == nullptr) {
        conf->keys_file = prev->keys_file;
        conf->keyring = prev->keyring;
        conf->keys_pos = prev->keys_pos;
    }

    if (conf->rules == nullptr) {
        conf->engine = prev->engine;
        conf->series = prev->series;
        conf->rules_pos = prev->rules_pos;
        return NGX_CONF_OK;
    }

    // this server's own pack
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
    return ngx_http_tailor_core_create_engine(cf, mcf, conf);
}

char* ngx_http_tailor_max_profile_check(ngx_conf_t* cf, void*, void* data) noexcept {
    size_t size = *static_cast<size_t*>(data);
    if (size == 0 || size > kMaxProfileLimit) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_max_profile\" must be between 1 and %uz bytes",
                           kMaxProfileLimit);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

void* ngx_http_tailor_create_loc_conf(ngx_conf_t* cf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_loc_conf_t)));
    if (lcf == nullptr) {
        return nullptr;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     lcf->types = { NULL };
     *     lcf->cookie.name = { 0, NULL };
     *     lcf->cookie.domain = { 0, NULL };
     *     lcf->cookie.path = { 0, NULL };
     *     lcf->cookie_set = 0;
     *     lcf->endpoint = 0;
     *     lcf->consent = NULL;
     *     lcf->logged_in = NULL;
     *     lcf->rule_cookies = NULL;
     */

    lcf->enable = NGX_CONF_UNSET;
    lcf->timeout = NGX_CONF_UNSET_MSEC;
    lcf->types_keys = nullptr;
    lcf->rule_cookies_n = NGX_CONF_UNSET_UINT;
    ngx_http_tailor_popup_init_loc_conf(lcf);
    return lcf;
}

char* ngx_http_tailor_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<ngx_http_tailor_loc_conf_t*>(parent);
    auto* conf = static_cast<ngx_http_tailor_loc_conf_t*>(child);

    if (conf->enable == NGX_CONF_UNSET) {
        conf->enable_pos = prev->enable_pos;
    }
    ngx_conf_merge_value(conf->enable, prev->enable, 0);
    if (conf->endpoint) {
        conf->enable = 0;  // a metrics scrape or a beacon is no visitor's page view
    }
    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, kDefaultTimeout);

    if (ngx_http_merge_types(cf, &conf->types_keys, &conf->types, &prev->types_keys, &prev->types,
                             ngx_http_tailor_default_types) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (!conf->cookie_set) {
        if (prev->cookie_set) {
            conf->cookie = prev->cookie;
            conf->cookie_set = 1;
        } else {
            conf->cookie.name = ngx_http_tailor_default_cookie_name;
            conf->cookie.path = ngx_http_tailor_default_cookie_path;
            conf->cookie.max_age = ngx_http_tailor_default_cookie_max_age;
            conf->cookie.secure = 0;
            conf->cookie.httponly = 1;
            conf->cookie.samesite = NGX_HTTP_TAILOR_SAMESITE_LAX;
        }
    }

    if (conf->consent == nullptr) {
        conf->consent = prev->consent;
    }
    if (conf->logged_in == nullptr) {
        conf->logged_in = prev->logged_in;
    }
    if (conf->rule_cookies_n == NGX_CONF_UNSET_UINT) {
        conf->rule_cookies = prev->rule_cookies;
        conf->rule_cookies_n =
            prev->rule_cookies_n == NGX_CONF_UNSET_UINT ? 0 : prev->rule_cookies_n;
    }

    ngx_http_tailor_popup_merge_loc_conf(prev, conf);

    return ngx_http_tailor_check_loc_conf(cf, conf);
}

// The checks that involve directives of other levels, made where they meet: this
// location's server's keyring and pack (cf->ctx is that server's while merging).
char* ngx_http_tailor_check_loc_conf(ngx_conf_t* cf, ngx_http_tailor_loc_conf_t* conf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
    auto* sscf = static_cast<ngx_http_tailor_srv_conf_t*>(
        ngx_http_conf_get_module_srv_conf(cf, ngx_http_tailor_module));

    if (conf->enable) {
        mcf->enabled_somewhere = 1;
        if (sscf->keyring == nullptr) {
            ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &conf->enable_pos,
                                        "\"tailor on\" needs \"tailor_keys\" in its server or "
                                        "in http to sign visitor cookies");
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    if (conf->beacon_pos.file.len == 0) {
        return NGX_CONF_OK;
    }
    // the beacon answers for the pack and keys of its own server
    if (sscf->keyring == nullptr) {
        ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &conf->beacon_pos,
                                    "\"tailor_popup_beacon\" needs \"tailor_keys\" in its "
                                    "server or in http to check visitor cookies");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (mcf->redis == nullptr) {
        ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &conf->beacon_pos,
                                    "\"tailor_popup_beacon\" needs \"tailor_redis\" to record "
                                    "the caps");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (sscf->engine == nullptr || !sscf->engine->has_rules()) {
        ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &conf->beacon_pos,
                                    "\"tailor_popup_beacon\" needs \"tailor_rules\" in its "
                                    "server or in http: without a pack there is no pop-up to "
                                    "report on");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    return NGX_CONF_OK;
}

ngx_int_t ngx_http_tailor_preconfiguration(ngx_conf_t* cf) noexcept {
    return ngx_http_tailor_add_variables(cf);
}

ngx_int_t ngx_http_tailor_postconfiguration(ngx_conf_t* cf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));

    if (ngx_http_tailor_metrics_init_zone(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    // every pack is compiled and merged by now: the set of series is known
    if (ngx_http_tailor_series_init_zone(cf, mcf) != NGX_OK) {
        return NGX_ERROR;
    }

    auto* cmcf = static_cast<ngx_http_core_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module));
    auto* h = static_cast<ngx_http_handler_pt*>(
        ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    *h = ngx_http_tailor_access_handler;

    h = static_cast<ngx_http_handler_pt*>(
        ngx_array_push(&cmcf->phases[NGX_HTTP_POST_READ_PHASE].handlers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    *h = ngx_http_tailor_post_read_handler;

    return ngx_http_tailor_filter_init(cf);
}

ngx_int_t ngx_http_tailor_init_process(ngx_cycle_t* cycle) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tailor_module));
    if (mcf == nullptr) {
        return NGX_OK;
    }
    return ngx_http_tailor_core_init_worker(cycle, mcf);
}

void ngx_http_tailor_exit_process(ngx_cycle_t*) noexcept {
    ngx_http_tailor_core_exit_worker();
    ngx_http_tailor_series_exit_worker();
}

}  // namespace

ngx_int_t ngx_http_tailor_add_internal_header(ngx_conf_t* cf, ngx_str_t lowcase) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
    ngx_http_tailor_internal_headers_t& internal = mcf->internal_headers;
    if (internal.count == NGX_HTTP_TAILOR_MAX_INTERNAL_HEADERS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "tailor: too many internal headers");
        return NGX_ERROR;
    }
    internal.lowcase[internal.count++] = lowcase;
    internal.lengths |= uint64_t{1} << std::min<size_t>(lowcase.len, 63);
    return NGX_OK;
}
