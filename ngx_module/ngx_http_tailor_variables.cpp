// ngx_http_tailor_variables: $tailor_vid, $tailor_status and $tailor_segment, read from the
// request's ctx (the main request's, so subrequests and SSI see the same values); a value
// that is not a short token (is_exposable_value) is not found rather than exposed.
#include "ngx_http_tailor.h"

#include <string_view>

#include "ngx_http_tailor_core.h"
#include "tailor/request/exposed_value.h"

namespace {

// Only a value core calls exposable leaves: operators put these variables in
// response headers, upstream request headers and logs, and the segment may
// come straight from a profile.
ngx_int_t ngx_http_tailor_set_variable(ngx_http_variable_value_t* v, std::string_view s) noexcept {
    if (!tailor::is_exposable_value(s)) {
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

}  // namespace

ngx_int_t ngx_http_tailor_add_variables(ngx_conf_t* cf) noexcept {
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
