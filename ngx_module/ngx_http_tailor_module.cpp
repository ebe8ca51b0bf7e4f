// ngx_http_tailor_module: directives, configuration, variables and worker lifecycle.
#include "ngx_http_tailor.h"

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/profile/profile.h"

namespace {

void* ngx_http_tailor_create_main_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_init_main_conf(ngx_conf_t* cf, void* conf) noexcept;
void* ngx_http_tailor_create_loc_conf(ngx_conf_t* cf) noexcept;
char* ngx_http_tailor_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept;
ngx_int_t ngx_http_tailor_preconfiguration(ngx_conf_t* cf) noexcept;
ngx_int_t ngx_http_tailor_postconfiguration(ngx_conf_t* cf) noexcept;
ngx_int_t ngx_http_tailor_init_process(ngx_cycle_t* cycle) noexcept;
void ngx_http_tailor_exit_process(ngx_cycle_t* cycle) noexcept;

char* ngx_http_tailor_redis_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_keys_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_rules_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_cookie_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_cache_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_consent_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;
char* ngx_http_tailor_status_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept;

ngx_conf_num_bounds_t ngx_http_tailor_timeout_bounds = {ngx_conf_check_num_bounds, 1, 60000};

ngx_command_t ngx_http_tailor_commands[] = {
    {ngx_string("tailor"),
     NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_CONF_FLAG,
     ngx_conf_set_flag_slot, NGX_HTTP_LOC_CONF_OFFSET, offsetof(ngx_http_tailor_loc_conf_t, enable),
     nullptr},

    {ngx_string("tailor_redis"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_redis_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_keys"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_http_tailor_keys_directive,
     NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_rules"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_rules_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

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

    {ngx_string("tailor_cache"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_cache_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},

    {ngx_string("tailor_max_profile"), NGX_HTTP_MAIN_CONF | NGX_CONF_TAKE1, ngx_conf_set_size_slot,
     NGX_HTTP_MAIN_CONF_OFFSET, offsetof(ngx_http_tailor_main_conf_t, max_profile), nullptr},

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
    nullptr,                            // create server configuration
    nullptr,                            // merge server configuration
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

namespace {

constexpr time_t kDefaultCookieMaxAge = 365 * 24 * 60 * 60;
constexpr size_t kDefaultMaxProfile = tailor::kMaxProfileBytes;
constexpr size_t kMaxProfileLimit = tailor::kMaxProfileBytesLimit;
constexpr ngx_msec_t kDefaultTimeout = 5;

ngx_str_t ngx_http_tailor_default_cookie_name = ngx_string("tailor_vid");
ngx_str_t ngx_http_tailor_default_cookie_path = ngx_string("/");
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
     *     mcf->keys_file = { 0, NULL };
     *     mcf->keyring = NULL;
     *     mcf->engine = NULL;
     *     mcf->identify_header = { 0, NULL };
     */

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
    if (mcf->max_profile == 0 || mcf->max_profile > kMaxProfileLimit) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_max_profile\" must be between 1 and %uz bytes",
                           kMaxProfileLimit);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (mcf->identify_header.len == 0) {
        mcf->identify_header = ngx_http_tailor_default_identify;
    }

    mcf->identify_lowcase = static_cast<u_char*>(ngx_pnalloc(cf->pool, mcf->identify_header.len));
    if (mcf->identify_lowcase == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    mcf->identify_hash =
        ngx_hash_strlow(mcf->identify_lowcase, mcf->identify_header.data, mcf->identify_header.len);

    return ngx_http_tailor_core_create(cf, mcf);
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
     *     lcf->consent = NULL;
     */

    lcf->enable = NGX_CONF_UNSET;
    lcf->timeout = NGX_CONF_UNSET_MSEC;
    lcf->types_keys = nullptr;
    ngx_http_tailor_popup_init_loc_conf(lcf);
    return lcf;
}

char* ngx_http_tailor_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) noexcept {
    auto* prev = static_cast<ngx_http_tailor_loc_conf_t*>(parent);
    auto* conf = static_cast<ngx_http_tailor_loc_conf_t*>(child);

    ngx_conf_merge_value(conf->enable, prev->enable, 0);
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
            conf->cookie.max_age = kDefaultCookieMaxAge;
            conf->cookie.secure = 0;
            conf->cookie.httponly = 1;
            conf->cookie.samesite = NGX_HTTP_TAILOR_SAMESITE_LAX;
        }
    }

    if (conf->consent == nullptr) {
        conf->consent = prev->consent;
    }

    ngx_http_tailor_popup_merge_loc_conf(prev, conf);

    if (conf->enable) {
        auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
            ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
        mcf->enabled_somewhere = 1;
    }

    return NGX_CONF_OK;
}

char* ngx_http_tailor_redis_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(conf);

    if (mcf->redis != nullptr) {
        return const_cast<char*>("is duplicate");
    }

    mcf->redis = static_cast<ngx_http_tailor_redis_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_redis_conf_t)));
    if (mcf->redis == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    return ngx_http_tailor_redis_parse_conf(cf, &value[1], cf->args->nelts - 1, mcf->redis);
}

char* ngx_http_tailor_keys_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(conf);

    if (mcf->keys_file.data != nullptr) {
        return const_cast<char*>("is duplicate");
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    mcf->keys_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &mcf->keys_file, 1) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    return ngx_http_tailor_core_load_keys(cf, mcf);
}

char* ngx_http_tailor_rules_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(conf);

    if (mcf->rules != nullptr) {
        return const_cast<char*>("is duplicate");
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        if (ngx_conf_full_name(cf->cycle, &value[i], 1) != NGX_OK) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    return ngx_http_tailor_core_compile_rules(cf, mcf, &value[1], cf->args->nelts - 1);
}

bool ngx_http_tailor_starts_with(const ngx_str_t& s, std::string_view prefix) noexcept {
    return ngx_http_tailor_view(s).substr(0, prefix.size()) == prefix;
}

ngx_str_t ngx_http_tailor_after(const ngx_str_t& s, size_t n) noexcept {
    ngx_str_t rest = {s.len - n, s.data + n};
    return rest;
}

char* ngx_http_tailor_cookie_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);

    if (lcf->cookie_set) {
        return const_cast<char*>("is duplicate");
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    ngx_http_tailor_cookie_conf_t* c = &lcf->cookie;

    c->name = value[1];
    c->path = ngx_http_tailor_default_cookie_path;
    c->max_age = kDefaultCookieMaxAge;
    c->secure = 0;
    c->httponly = 1;
    c->samesite = NGX_HTTP_TAILOR_SAMESITE_LAX;

    for (u_char* p = c->name.data; p < c->name.data + c->name.len; p++) {
        if (*p <= ' ' || *p >= 0x7f || ngx_strchr("()<>@,;:\\\"/[]?={}", *p) != nullptr) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid cookie name \"%V\"", &c->name);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    if (c->name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty cookie name");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
        ngx_str_t& v = value[i];

        if (ngx_http_tailor_starts_with(v, "max_age=")) {
            ngx_str_t s = ngx_http_tailor_after(v, sizeof("max_age=") - 1);
            time_t t = ngx_parse_time(&s, 1);
            if (t == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid max_age \"%V\"", &s);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            c->max_age = t;

        } else if (ngx_http_tailor_starts_with(v, "domain=")) {
            c->domain = ngx_http_tailor_after(v, sizeof("domain=") - 1);

        } else if (ngx_http_tailor_starts_with(v, "path=")) {
            c->path = ngx_http_tailor_after(v, sizeof("path=") - 1);
            if (c->path.len == 0 || c->path.data[0] != '/') {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "cookie path must start with \"/\"");
                return static_cast<char*>(NGX_CONF_ERROR);
            }

        } else if (ngx_strcmp(v.data, "secure") == 0) {
            c->secure = 1;

        } else if (ngx_strcmp(v.data, "httponly") == 0) {
            c->httponly = 1;

        } else if (ngx_strcmp(v.data, "no_httponly") == 0) {
            c->httponly = 0;

        } else if (ngx_strcmp(v.data, "samesite=lax") == 0) {
            c->samesite = NGX_HTTP_TAILOR_SAMESITE_LAX;

        } else if (ngx_strcmp(v.data, "samesite=strict") == 0) {
            c->samesite = NGX_HTTP_TAILOR_SAMESITE_STRICT;

        } else if (ngx_strcmp(v.data, "samesite=none") == 0) {
            c->samesite = NGX_HTTP_TAILOR_SAMESITE_NONE;
            c->secure = 1;  // browsers reject SameSite=None without Secure

        } else if (ngx_strcmp(v.data, "samesite=off") == 0) {
            c->samesite = NGX_HTTP_TAILOR_SAMESITE_OMIT;

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &v);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    for (u_char* p = c->domain.data; p < c->domain.data + c->domain.len; p++) {
        if (*p <= ' ' || *p == ';' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid cookie domain \"%V\"", &c->domain);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    for (u_char* p = c->path.data; p < c->path.data + c->path.len; p++) {
        if (*p <= ' ' || *p == ';' || *p >= 0x7f) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid cookie path \"%V\"", &c->path);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    lcf->cookie_set = 1;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_cache_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(conf);

    if (mcf->cache_size != NGX_CONF_UNSET_UINT) {
        return const_cast<char*>("is duplicate");
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        mcf->cache_size = 0;
        return NGX_CONF_OK;
    }

    mcf->cache_size = 0;
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        ngx_str_t& v = value[i];

        if (ngx_http_tailor_starts_with(v, "size=")) {
            ngx_str_t s = ngx_http_tailor_after(v, sizeof("size=") - 1);
            ngx_int_t n = ngx_atoi(s.data, s.len);
            if (n <= 0 || n > 1000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid cache size \"%V\": expected 1..1000000 entries", &s);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            mcf->cache_size = static_cast<ngx_uint_t>(n);

        } else if (ngx_http_tailor_starts_with(v, "ttl=")) {
            ngx_str_t s = ngx_http_tailor_after(v, sizeof("ttl=") - 1);
            ngx_int_t ms = ngx_parse_time(&s, 0);
            if (ms == NGX_ERROR || ms <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid cache ttl \"%V\"", &s);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            mcf->cache_ttl = static_cast<ngx_msec_t>(ms);

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &v);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    if (mcf->cache_size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_cache\" needs size=N or off");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    return NGX_CONF_OK;
}

char* ngx_http_tailor_consent_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);

    if (lcf->consent != nullptr) {
        return const_cast<char*>("is duplicate");
    }

    auto* consent = static_cast<ngx_http_tailor_consent_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_consent_conf_t)));
    if (consent == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    consent->spec = value[1];
    consent->honor_gpc = 1;

    if (cf->args->nelts == 3) {
        if (ngx_strcmp(value[2].data, "gpc=off") == 0) {
            consent->honor_gpc = 0;
        } else if (ngx_strcmp(value[2].data, "gpc=on") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[2]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    char* rv = ngx_http_tailor_core_parse_consent(cf, consent);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    lcf->consent = consent;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_status_directive(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = ngx_http_tailor_status_handler;
    return NGX_CONF_OK;
}

// Variables.

ngx_int_t ngx_http_tailor_set_variable(ngx_http_variable_value_t* v, std::string_view s) noexcept {
    if (s.empty()) {
        v->not_found = 1;
        return NGX_OK;
    }
    v->len = static_cast<unsigned>(s.size());
    v->valid = 1;
    v->no_cacheable = 0;
    v->not_found = 0;
    v->data = reinterpret_cast<u_char*>(const_cast<char*>(s.data()));
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_vid_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                                       uintptr_t) noexcept {
    ngx_http_tailor_ctx_t* ctx = ngx_http_tailor_get_ctx(r->main);
    if (ctx == nullptr) {
        v->not_found = 1;
        return NGX_OK;
    }
    return ngx_http_tailor_set_variable(v, ngx_http_tailor_view(ctx->vid));
}

ngx_int_t ngx_http_tailor_status_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                                          uintptr_t) noexcept {
    ngx_http_tailor_ctx_t* ctx = ngx_http_tailor_get_ctx(r->main);
    if (ctx == nullptr) {
        v->not_found = 1;
        return NGX_OK;
    }
    return ngx_http_tailor_set_variable(v, tailor::outcome_name(ctx->outcome));
}

ngx_int_t ngx_http_tailor_segment_variable(ngx_http_request_t* r, ngx_http_variable_value_t* v,
                                           uintptr_t) noexcept {
    ngx_http_tailor_ctx_t* ctx = ngx_http_tailor_get_ctx(r->main);
    if (ctx == nullptr || ctx->personalization == nullptr) {
        v->not_found = 1;
        return NGX_OK;
    }
    return ngx_http_tailor_set_variable(v, ngx_http_tailor_core_segment(ctx->personalization));
}

ngx_http_variable_t ngx_http_tailor_vars[] = {
    {ngx_string("tailor_vid"), nullptr, ngx_http_tailor_vid_variable, 0, NGX_HTTP_VAR_NOCACHEABLE,
     0},
    {ngx_string("tailor_status"), nullptr, ngx_http_tailor_status_variable, 0,
     NGX_HTTP_VAR_NOCACHEABLE, 0},
    {ngx_string("tailor_segment"), nullptr, ngx_http_tailor_segment_variable, 0,
     NGX_HTTP_VAR_NOCACHEABLE, 0},
    ngx_http_null_variable};

ngx_int_t ngx_http_tailor_preconfiguration(ngx_conf_t* cf) noexcept {
    for (ngx_http_variable_t* v = ngx_http_tailor_vars; v->name.len; v++) {
        ngx_http_variable_t* var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == nullptr) {
            return NGX_ERROR;
        }
        var->get_handler = v->get_handler;
        var->data = v->data;
    }
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_postconfiguration(ngx_conf_t* cf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));

    if (ngx_http_tailor_metrics_init_zone(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    if (mcf->enabled_somewhere && mcf->keyring == nullptr) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor on\" needs \"tailor_keys\" to sign visitor cookies");
        return NGX_ERROR;
    }

    if (mcf->beacon_somewhere && (mcf->keyring == nullptr || mcf->redis == nullptr)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_popup_beacon\" needs \"tailor_keys\" to check visitor "
                           "cookies and \"tailor_redis\" to record the caps");
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

void ngx_http_tailor_exit_process(ngx_cycle_t* cycle) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tailor_module));
    if (mcf == nullptr) {
        return;
    }
    ngx_http_tailor_core_exit_worker(cycle, mcf);
}

}  // namespace
