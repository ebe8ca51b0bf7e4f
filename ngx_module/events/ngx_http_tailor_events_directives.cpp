// The directives of ngx_http_tailor_events_module that take more than a slot:
// tailor_event, tailor_events_stream, tailor_events_spool, tailor_event_strip,
// tailor_event_params,
// tailor_events_live, tailor_events_status. Everything they refuse, they refuse
// at "nginx -t", with the file and line.
#include "ngx_http_tailor_events.h"

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "tailor/events/event.h"
#include "tailor/events/path.h"
#include "tailor/events/spool.h"
#include "tailor/request/personal_data.h"

namespace {

bool ngx_http_tailor_events_param(const ngx_str_t& v, std::string_view name,
                                  ngx_str_t* value) noexcept {
    std::string_view s = ngx_http_tailor_view(v);
    if (s.size() <= name.size() || s.substr(0, name.size()) != name) {
        return false;
    }
    value->data = v.data + name.size();
    value->len = v.len - name.size();
    return true;
}

}  // namespace

char* ngx_http_tailor_events_event(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* elcf = static_cast<ngx_http_tailor_events_loc_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    if (elcf->event_pos.file.len == 0) {
        ngx_http_tailor_conf_pos_set(cf, &elcf->event_pos);
    }

    std::optional<tailor::EventType> type =
        tailor::parse_event_type(ngx_http_tailor_view(value[1]));
    if (!type) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid event name \"%V\": 1-64 of [A-Za-z0-9 _.-], "
                           "starting with a letter",
                           &value[1]);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    if (*type == tailor::EventType::kIdentify) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"Identify\" events are made by the identity link, not declared");
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    ngx_uint_t nprops = cf->args->nelts - 2;
    if (nprops > tailor::kMaxEventProperties) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "an event has at most %uz properties",
                           tailor::kMaxEventProperties);
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    if (elcf->events == nullptr) {
        elcf->events = ngx_array_create(cf->pool, 1, sizeof(ngx_http_tailor_events_decl_t));
        if (elcf->events == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    auto* decl = static_cast<ngx_http_tailor_events_decl_t*>(ngx_array_push(elcf->events));
    if (decl == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    decl->name = value[1];
    decl->type = static_cast<ngx_uint_t>(*type);
    if (ngx_array_init(&decl->props, cf->pool, nprops ? nprops : 1,
                       sizeof(ngx_http_tailor_events_prop_t)) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }

    for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
        ngx_str_t& arg = value[i];
        u_char* eq = static_cast<u_char*>(ngx_strlchr(arg.data, arg.data + arg.len, '='));
        if (eq == nullptr) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid property \"%V\": expected name=value",
                               &arg);
            return static_cast<char*>(NGX_CONF_ERROR);
        }

        ngx_str_t name = {static_cast<size_t>(eq - arg.data), arg.data};
        ngx_str_t val = {static_cast<size_t>(arg.data + arg.len - eq - 1), eq + 1};

        std::string_view nv = ngx_http_tailor_view(name);
        std::optional<tailor::PropertyKind> kind;
        size_t colon = nv.find(':');
        if (colon != std::string_view::npos) {
            std::string_view k = nv.substr(colon + 1);
            if (k == "number") {
                kind = tailor::PropertyKind::kNumber;
            } else if (k == "string") {
                kind = tailor::PropertyKind::kString;
            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid property type in \"%V\": expected :number or :string",
                                   &arg);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            name.len = colon;
            nv = nv.substr(0, colon);
        }

        tailor::PropertyNameError err = tailor::check_property_name(nv);
        if (err != tailor::PropertyNameError::kOk) {
            std::string_view reason = tailor::property_name_error_reason(err);
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "event property \"%V\" %*s", &name,
                               reason.size(), reason.data());
            return static_cast<char*>(NGX_CONF_ERROR);
        }

        auto* props = static_cast<ngx_http_tailor_events_prop_t*>(decl->props.elts);
        for (ngx_uint_t j = 0; j < decl->props.nelts; j++) {
            if (ngx_http_tailor_view(props[j].name) == nv) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "duplicate event property \"%V\"", &name);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
        }

        auto* prop = static_cast<ngx_http_tailor_events_prop_t*>(ngx_array_push(&decl->props));
        if (prop == nullptr) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        ngx_memzero(prop, sizeof(ngx_http_tailor_events_prop_t));
        prop->name = name;
        prop->kind = static_cast<ngx_uint_t>(kind ? *kind : tailor::default_property_kind(nv));

        // events carry no personal data: refuse what names a person whatever its value
        std::string_view personal = tailor::personal_variable(ngx_http_tailor_view(val));
        if (!personal.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "event property \"%V\" reads \"$%*s\", which identifies a person "
                               "(docs/privacy.md)",
                               &name, personal.size(), personal.data());
            return static_cast<char*>(NGX_CONF_ERROR);
        }

        ngx_http_compile_complex_value_t ccv;
        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));
        ccv.cf = cf;
        ccv.value = &val;
        ccv.complex_value = &prop->value;
        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    return NGX_CONF_OK;
}

char* ngx_http_tailor_events_stream(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    if (emcf->stream.len != 0) {
        return const_cast<char*>("is duplicate");
    }
    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty stream key");
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    emcf->stream = value[1];

    if (cf->args->nelts == 3) {
        ngx_str_t s;
        if (!ngx_http_tailor_events_param(value[2], "maxlen=", &s)) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[2]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        ngx_int_t n = ngx_atoi(s.data, s.len);
        if (n == NGX_ERROR) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid maxlen \"%V\"", &s);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        emcf->maxlen = static_cast<ngx_uint_t>(n);
    }
    return NGX_CONF_OK;
}

// "tailor_events_replica_wait off | time": after each shard's append, WAIT for one replica.
char* ngx_http_tailor_events_replica_wait(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    if (emcf->replica_wait != NGX_CONF_UNSET_MSEC) {
        return const_cast<char*>("is duplicate");
    }
    if (value[1].len == 3 && ngx_strncmp(value[1].data, "off", 3) == 0) {
        emcf->replica_wait = 0;
        return NGX_CONF_OK;
    }
    ngx_msec_int_t ms = ngx_parse_time(&value[1], 0);
    if (ms == NGX_ERROR || ms <= 0 || ms > 10000) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\": \"off\" or a time from 1ms to 10s", &value[1]);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    emcf->replica_wait = static_cast<ngx_msec_t>(ms);
    return NGX_CONF_OK;
}

char* ngx_http_tailor_events_spool(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    if (emcf->spool != nullptr || emcf->spool_off) {
        return const_cast<char*>("is duplicate");
    }
    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        emcf->spool_off = 1;  // events are dropped while Redis is away and the queue is full
        return NGX_CONF_OK;
    }

    auto* path = static_cast<ngx_path_t*>(ngx_pcalloc(cf->pool, sizeof(ngx_path_t)));
    if (path == nullptr) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    path->name = value[1];
    if (path->name.len > 1 && path->name.data[path->name.len - 1] == '/') {
        path->name.len--;
    }
    if (ngx_conf_full_name(cf->cycle, &path->name, 0) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    path->conf_file = cf->conf_file->file.name.data;
    path->line = cf->conf_file->line;

    for (ngx_uint_t i = 2; i < cf->args->nelts; i++) {
        ngx_str_t s;
        if (ngx_http_tailor_events_param(value[i], "max_size=", &s) ||
            ngx_http_tailor_events_param(value[i], "segment_size=", &s)) {
            ssize_t size = ngx_parse_size(&s);
            if (size == NGX_ERROR || size <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid size \"%V\"", &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            if (value[i].data[0] == 'm') {
                emcf->spool_max = static_cast<size_t>(size);
            } else {
                emcf->spool_segment = static_cast<size_t>(size);
            }

        } else if (ngx_strcmp(value[i].data, "sync=none") == 0) {
            emcf->spool_sync = static_cast<ngx_uint_t>(tailor::SpoolSync::kNone);
        } else if (ngx_strcmp(value[i].data, "sync=rotate") == 0) {
            emcf->spool_sync = static_cast<ngx_uint_t>(tailor::SpoolSync::kOnRotate);
        } else if (ngx_strcmp(value[i].data, "sync=always") == 0) {
            emcf->spool_sync = static_cast<ngx_uint_t>(tailor::SpoolSync::kEveryAppend);
        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    // created (and given to the worker user) by nginx before the workers start
    if (ngx_add_path(cf, &path) != NGX_OK) {
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    emcf->spool = path;
    return NGX_CONF_OK;
}

char* ngx_http_tailor_events_strip(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        bool ok = false;
        try {
            ok = emcf->strip->add(ngx_http_tailor_view(value[i]));
        } catch (const std::exception&) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        if (!ok) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid query parameter name \"%V\": 1-%uz bytes", &value[i],
                               tailor::kMaxQueryNameBytes);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    return NGX_CONF_OK;
}

char* ngx_http_tailor_events_params(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        std::string_view why;
        try {
            why = emcf->strip->allow(ngx_http_tailor_view(value[i]));
        } catch (const std::exception&) {
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        if (!why.empty()) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid query parameter name \"%V\": %*s",
                               &value[i], why.size(), why.data());
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }
    return NGX_CONF_OK;
}

char* ngx_http_tailor_events_live(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    if (emcf->live_ttl != NGX_CONF_UNSET) {
        return const_cast<char*>("is duplicate");
    }

    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        ngx_str_t s;
        if (ngx_http_tailor_events_param(value[i], "ttl=", &s) ||
            ngx_http_tailor_events_param(value[i], "session_gap=", &s)) {
            time_t t = ngx_parse_time(&s, 1);
            if (t == NGX_ERROR || t <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid time \"%V\"", &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            if (value[i].data[0] == 't') {
                emcf->live_ttl = t;
            } else {
                emcf->session_gap = t;
            }

        } else if (ngx_http_tailor_events_param(value[i], "viewed=", &s) ||
                   ngx_http_tailor_events_param(value[i], "cart=", &s) ||
                   ngx_http_tailor_events_param(value[i], "money_scale=", &s)) {
            ngx_int_t n = ngx_atoi(s.data, s.len);
            if (n <= 0 || n > 1000000 ||
                (value[i].data[0] != 'm' && n > 64))  // the profile decoder's caps
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\"", &value[i]);
                return static_cast<char*>(NGX_CONF_ERROR);
            }
            ngx_uint_t* field = value[i].data[0] == 'v'   ? &emcf->viewed_cap
                                : value[i].data[0] == 'c' ? &emcf->cart_cap
                                                          : &emcf->money_scale;
            *field = static_cast<ngx_uint_t>(n);

        } else {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid parameter \"%V\"", &value[i]);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
    }

    if (emcf->live_ttl == NGX_CONF_UNSET) {
        emcf->live_ttl = 90 * 24 * 3600;
    }
    return NGX_CONF_OK;
}

char* ngx_http_tailor_events_status(ngx_conf_t* cf, ngx_command_t*, void*) noexcept {
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module));
    clcf->handler = ngx_http_tailor_events_status_handler;
    ngx_http_tailor_endpoint_here(cf);
    return NGX_CONF_OK;
}
