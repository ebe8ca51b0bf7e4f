// The pop-up endpoints' configuration: tailor_popup_runtime, tailor_popup_beacon,
// tailor_popup_urls and their inheritance (ngx_http_tailor_popup.cpp has the handlers).
#include "ngx_http_tailor.h"

#include "tailor/popup/token.h"

namespace {

constexpr ngx_uint_t kDefaultBeaconRate = 30;  // per visitor per minute
constexpr time_t kDefaultCapsTtl = 365 * 24 * 3600;
constexpr ngx_msec_t kDefaultBeaconTimeout = 1000;
constexpr time_t kMinTokenMaxAge = 60;
constexpr time_t kMaxTokenMaxAge = 7 * 24 * 3600;

ngx_http_core_loc_conf_t* ngx_http_tailor_popup_core_conf(ngx_conf_t* cf) noexcept {
    return static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
}

// rate=30r/m or rate=2r/s, like limit_req.
bool ngx_http_tailor_popup_parse_rate(ngx_str_t v, ngx_http_tailor_loc_conf_t* lcf) noexcept {
    if (v.len < 4 || v.data[v.len - 3] != 'r' || v.data[v.len - 2] != '/') {
        return false;
    }
    u_char unit = v.data[v.len - 1];
    if (unit != 'm' && unit != 's') {
        return false;
    }
    ngx_int_t n = ngx_atoi(v.data, v.len - 3);
    if (n == NGX_ERROR || n < 1 || n > 100000) {
        return false;
    }
    lcf->beacon_rate = static_cast<ngx_uint_t>(n);
    lcf->beacon_window = unit == 'm' ? 60 : 1;
    return true;
}

}  // namespace

char* ngx_http_tailor_popup_runtime_directive(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    ngx_http_tailor_endpoint_here(cf);
    ngx_http_tailor_popup_core_conf(cf)->handler = ngx_http_tailor_popup_runtime_handler;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_popup_beacon_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        ngx_str_t v = value[i];
        if (v.len > 5 && ngx_strncmp(v.data, "rate=", 5) == 0) {
            v.data += 5;
            v.len -= 5;
            if (!ngx_http_tailor_popup_parse_rate(v, lcf)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\" in \"tailor_popup_beacon\": expected "
                                   "N r/m or N r/s, e.g. rate=30r/m (1..100000)",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
        } else if (v.len > 9 && ngx_strncmp(v.data, "caps_ttl=", 9) == 0) {
            v.data += 9;
            v.len -= 9;
            time_t ttl = ngx_parse_time(&v, 1);
            if (ttl == NGX_ERROR || ttl < 60 || ttl > 10 * 365 * 24 * 3600) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid caps_ttl \"%V\" in \"tailor_popup_beacon\": "
                                   "a time from 1m to 3650d, e.g. caps_ttl=365d",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            lcf->caps_ttl = ttl;
        } else if (v.len > 8 && ngx_strncmp(v.data, "timeout=", 8) == 0) {
            v.data += 8;
            v.len -= 8;
            ngx_int_t ms = ngx_parse_time(&v, 0);
            if (ms == NGX_ERROR || ms < 1 || ms > 60000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid timeout \"%V\" in \"tailor_popup_beacon\": "
                                   "1ms to 60s, e.g. timeout=1s",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            lcf->beacon_timeout = static_cast<ngx_msec_t>(ms);
        } else if (v.len > 14 && ngx_strncmp(v.data, "token_max_age=", 14) == 0) {
            v.data += 14;
            v.len -= 14;
            time_t age = ngx_parse_time(&v, 1);
            if (age == NGX_ERROR || age < kMinTokenMaxAge || age > kMaxTokenMaxAge) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid token_max_age \"%V\" in \"tailor_popup_beacon\": "
                                   "a time from 1m to 7d, e.g. token_max_age=6h",
                                   &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            lcf->token_max_age = age;
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" in \"tailor_popup_beacon\" (known: "
                               "rate=, caps_ttl=, timeout=, token_max_age=)",
                               &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    ngx_http_tailor_endpoint_here(cf);
    ngx_http_tailor_conf_pos_set(cf, &lcf->beacon_pos);
    ngx_http_tailor_popup_core_conf(cf)->handler = ngx_http_tailor_popup_beacon_handler;
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
    mcf->beacon_somewhere = 1;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_popup_urls_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    if (lcf->popup_runtime_path.data != nullptr) {
        return const_cast<char*>("is duplicate");
    }
    for (ngx_uint_t i = 1; i <= 2; i++) {
        if (value[i].len == 0 || value[i].data[0] != '/') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tailor_popup_urls\" takes two paths on this site, each "
                               "starting with \"/\", got \"%V\"",
                               &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    lcf->popup_runtime_path = value[1];
    lcf->popup_beacon_path = value[2];
    return NGX_CONF_OK;
}

void ngx_http_tailor_popup_init_loc_conf(ngx_http_tailor_loc_conf_t* lcf) noexcept {
    lcf->beacon_rate = NGX_CONF_UNSET_UINT;
    lcf->beacon_window = NGX_CONF_UNSET_UINT;
    lcf->caps_ttl = NGX_CONF_UNSET;
    lcf->beacon_timeout = NGX_CONF_UNSET_MSEC;
    lcf->token_max_age = NGX_CONF_UNSET;
}

void ngx_http_tailor_popup_merge_loc_conf(ngx_http_tailor_loc_conf_t* prev,
                                          ngx_http_tailor_loc_conf_t* conf) noexcept {
    if (conf->popup_runtime_path.data == nullptr) {
        conf->popup_runtime_path = prev->popup_runtime_path;
        conf->popup_beacon_path = prev->popup_beacon_path;
    }
    ngx_conf_merge_uint_value(conf->beacon_rate, prev->beacon_rate, kDefaultBeaconRate);
    ngx_conf_merge_uint_value(conf->beacon_window, prev->beacon_window, 60);
    ngx_conf_merge_value(conf->caps_ttl, prev->caps_ttl, kDefaultCapsTtl);
    ngx_conf_merge_msec_value(conf->beacon_timeout, prev->beacon_timeout, kDefaultBeaconTimeout);
    ngx_conf_merge_value(conf->token_max_age, prev->token_max_age,
                         static_cast<time_t>(tailor::kDefaultPopupTokenMaxAge));
}
