// ngx_http_tailor_directives: the handlers of the tailor_* directives that take more than a
// stock slot; each checks its arguments so `nginx -t` names the file and line of a mistake.
#include "ngx_http_tailor.h"

#include <cstdarg>
#include <string_view>

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_redis.h"
#include "tailor/request/cookie_header.h"
#include "tailor/request/facts_builder.h"

namespace {

bool ngx_http_tailor_starts_with(const ngx_str_t& s, std::string_view prefix) noexcept {
    return ngx_http_tailor_view(s).substr(0, prefix.size()) == prefix;
}

ngx_str_t ngx_http_tailor_after(const ngx_str_t& s, size_t n) noexcept {
    ngx_str_t rest = {s.len - n, s.data + n};
    return rest;
}

}  // namespace

void ngx_http_tailor_conf_pos_set(ngx_conf_t* cf, ngx_http_tailor_conf_pos_t* pos) noexcept {
    if (cf->conf_file == nullptr || cf->conf_file->file.fd == NGX_INVALID_FILE) {
        ngx_str_set(&pos->file, "command line");
        pos->line = 0;
        return;
    }
    pos->file = cf->conf_file->file.name;
    pos->line = cf->conf_file->line;
}

void ngx_http_tailor_conf_log_at(ngx_uint_t level, ngx_conf_t* cf,
                                 const ngx_http_tailor_conf_pos_t* pos, const char* fmt,
                                 ...) noexcept {
    u_char text[NGX_MAX_CONF_ERRSTR];
    va_list args;

    va_start(args, fmt);
    u_char* p = ngx_vslprintf(text, text + sizeof(text), fmt, args);
    va_end(args);

    if (pos == nullptr || pos->file.len == 0) {
        ngx_conf_log_error(level, cf, 0, "%*s", static_cast<size_t>(p - text), text);
        return;
    }
    if (pos->line == 0) {
        ngx_log_error(level, cf->log, 0, "%*s in %V", static_cast<size_t>(p - text), text,
                      &pos->file);
        return;
    }
    // the words ngx_conf_log_error uses, so tools that parse nginx -t read both alike
    ngx_log_error(level, cf->log, 0, "%*s in %V:%ui", static_cast<size_t>(p - text), text,
                  &pos->file, pos->line);
}

char* ngx_http_tailor_enable_directive(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);

    char* rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }
    ngx_http_tailor_conf_pos_set(cf, &lcf->enable_pos);
    return NGX_CONF_OK;
}

char* ngx_http_tailor_redis_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(conf);

    if (mcf->redis != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    ngx_http_tailor_conf_pos_set(cf, &mcf->redis_pos);

    mcf->redis = static_cast<ngx_http_tailor_redis_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_redis_conf_t)));
    if (mcf->redis == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    return ngx_http_tailor_redis_parse_conf(cf, &value[1], cf->args->nelts - 1, mcf->redis);
}

char* ngx_http_tailor_keys_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* sscf = static_cast<ngx_http_tailor_srv_conf_t*>(conf);

    if (sscf->keys_file.data != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    ngx_http_tailor_conf_pos_set(cf, &sscf->keys_pos);

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    sscf->keys_file = value[1];

    if (ngx_conf_full_name(cf->cycle, &sscf->keys_file, 1) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    return ngx_http_tailor_core_load_keys(cf, sscf);
}

char* ngx_http_tailor_rules_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* sscf = static_cast<ngx_http_tailor_srv_conf_t*>(conf);

    if (sscf->rules != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    ngx_http_tailor_conf_pos_set(cf, &sscf->rules_pos);

    // kit=PATH (anywhere, at most once) replaces the kit built into the module;
    // it is moved to the end so the files stay one run of arguments
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    ngx_uint_t n = cf->args->nelts - 1;
    ngx_str_t* kit = nullptr;
    for (ngx_uint_t i = 1; i <= n; i++) {
        if (!ngx_http_tailor_starts_with(value[i], "kit=")) {
            continue;
        }
        if (kit != nullptr || value[i].len == 4) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_rules\": %s \"%V\"",
                               kit != nullptr ? "duplicate" : "empty", &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        ngx_str_t path = ngx_http_tailor_after(value[i], 4);
        value[i] = value[n];
        value[n] = path;
        kit = &value[n];
        n--;
        i--;
    }
    if (n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"tailor_rules\" needs a rule file");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        if (ngx_conf_full_name(cf->cycle, &value[i], 1) != NGX_OK) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    return ngx_http_tailor_core_compile_rules(cf, sscf, &value[1], n, kit);
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
    c->max_age = ngx_http_tailor_default_cookie_max_age;
    c->secure = 0;
    c->httponly = 1;
    c->samesite = NGX_HTTP_TAILOR_SAMESITE_LAX;

    if (!tailor::is_cookie_name(ngx_http_tailor_view(c->name))) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid cookie name \"%V\"", &c->name);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
        ngx_str_t& v = value[i];

        if (ngx_http_tailor_starts_with(v, "max_age=")) {
            ngx_str_t s = ngx_http_tailor_after(v, sizeof("max_age=") - 1);
            time_t t = ngx_parse_time(&s, 1);
            if (t == NGX_ERROR || t == 0) {
                // 0 would expire every cookie at once: a new visitor on every request
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
            c->secure = 1;  // tailor::CookieSecure::kAlways; 0 kAuto: on https only

        } else if (ngx_strcmp(v.data, "no_secure") == 0) {
            c->secure = 2;  // tailor::CookieSecure::kNever

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

void ngx_http_tailor_endpoint_here(ngx_conf_t* cf) noexcept {
    static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_tailor_module))
        ->endpoint = 1;
}

char* ngx_http_tailor_status_directive(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = ngx_http_tailor_status_handler;
    ngx_http_tailor_endpoint_here(cf);
    return NGX_CONF_OK;
}

char* ngx_http_tailor_logged_in_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);

    if (lcf->logged_in != nullptr) {
        return const_cast<char*>("is duplicate");
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    auto* cv = static_cast<ngx_http_complex_value_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_complex_value_t)));
    if (cv == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    ngx_http_compile_complex_value_t ccv;
    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = cv;
    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    lcf->logged_in = cv;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_rule_cookies_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);

    if (lcf->rule_cookies_n != NGX_CONF_UNSET_UINT) {
        return const_cast<char*>("is duplicate");
    }

    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    ngx_uint_t n = cf->args->nelts - 1;

    if (n == 1 && ngx_strcmp(value[1].data, "off") == 0) {
        lcf->rule_cookies = nullptr;
        lcf->rule_cookies_n = 0;
        return NGX_CONF_OK;
    }
    if (n > tailor::kMaxRuleCookies) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "too many cookies: at most %uz",
                           tailor::kMaxRuleCookies);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    auto* names =
        static_cast<std::string_view*>(ngx_palloc(cf->pool, n * sizeof(std::string_view)));
    if (names == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    for (ngx_uint_t i = 0; i < n; i++) {
        std::string_view name = ngx_http_tailor_view(value[i + 1]);
        if (!tailor::is_cookie_name(name)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid cookie name \"%V\"", &value[i + 1]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        names[i] = name;
    }

    lcf->rule_cookies = names;
    lcf->rule_cookies_n = n;
    return NGX_CONF_OK;
}
