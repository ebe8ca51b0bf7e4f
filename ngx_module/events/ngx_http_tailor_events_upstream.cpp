// ngx_http_tailor_events_upstream: the upstream's event header (X-Tailor-Event by default).
//
// As with the identify header: the header filter takes it off every
// response, so it never reaches a client, and keeps its value only from a
// response the upstream made for this request (never a cache hit) where
// events are on and the visitor is known; a post-read handler takes a
// client's copy off the request, so a backend never sees one. The log phase
// asks core to parse and check it (tailor::parse_upstream_event) and emits
// the event under the visitor's id, or counts and logs why it was dropped.
#include "ngx_http_tailor_events.h"
#include "ngx_http_tailor_log_limit.h"

#include <cstdarg>
#include <string_view>

#include "tailor/events/upstream_event.h"

namespace {

// Per request: the header's value, copied out of the upstream's buffer
// (which the body may reuse) into r->pool.
struct ngx_http_tailor_events_upstream_ctx_t {
    ngx_str_t value;
};

ngx_str_t ngx_http_tailor_events_default_upstream = ngx_string("X-Tailor-Event");

ngx_http_output_header_filter_pt ngx_http_tailor_events_next_header_filter;

// Per worker: the last parsed header (reused, so parsing allocates only until
// the largest event seen) and the refusals' log throttle.
tailor::UpstreamEvent ngx_http_tailor_events_upstream_parsed;
ngx_http_tailor_log_limit_t ngx_http_tailor_events_upstream_log_limit;

std::string_view ngx_http_tailor_events_upstream_name(
    const ngx_http_tailor_events_main_conf_t* emcf) noexcept {
    return {reinterpret_cast<const char*>(emcf->upstream_lowcase), emcf->upstream_header.len};
}

void ngx_http_tailor_events_upstream_log(ngx_log_t* log, const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(&ngx_http_tailor_events_upstream_log_limit, NGX_LOG_ERR, log,
                                  "tailor events: ", fmt, args);
    va_end(args);
}

ngx_int_t ngx_http_tailor_events_upstream_filter(ngx_http_request_t* r) noexcept {
    if (r != r->main) {
        return ngx_http_tailor_events_next_header_filter(r);
    }

    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_events_module));

    // hidden from the client whatever happens next
    const ngx_table_elt_t* h = ngx_http_tailor_find_header(
        &r->headers_out.headers, ngx_http_tailor_events_upstream_name(emcf), true);
    if (h == nullptr) {
        return ngx_http_tailor_events_next_header_filter(r);
    }

    auto* elcf = static_cast<ngx_http_tailor_events_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_events_module));
    if (!ngx_http_tailor_fresh_from_upstream(r) || !elcf->enable ||
        ngx_http_tailor_get_ctx(r) == nullptr) {
        // a stored response declares nothing: the order it names is someone else's
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_UPSTREAM_IGNORED);
        return ngx_http_tailor_events_next_header_filter(r);
    }

    auto* ctx = static_cast<ngx_http_tailor_events_upstream_ctx_t*>(
        ngx_pcalloc(r->pool, sizeof(ngx_http_tailor_events_upstream_ctx_t)));
    auto* value =
        static_cast<u_char*>(h->value.len == 0 ? nullptr : ngx_pnalloc(r->pool, h->value.len));
    if (ctx == nullptr || (h->value.len != 0 && value == nullptr)) {
        // no memory for the event: the page still goes out
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_DROPPED);
        return ngx_http_tailor_events_next_header_filter(r);
    }
    if (value != nullptr) {
        ngx_memcpy(value, h->value.data, h->value.len);
    }
    ctx->value.data = value;
    ctx->value.len = h->value.len;
    ngx_http_set_ctx(r, ctx, ngx_http_tailor_events_module);

    return ngx_http_tailor_events_next_header_filter(r);
}

bool ngx_http_tailor_events_header_name_valid(const ngx_str_t& name) noexcept {
    if (name.len == 0 || name.len > 64) {
        return false;
    }
    for (size_t i = 0; i < name.len; i++) {
        u_char c = name.data[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-')) {
            return false;
        }
    }
    return true;
}

}  // namespace

// tailor_events_upstream_header name [max_size=size] | off;
char* ngx_http_tailor_events_upstream_header(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* emcf = static_cast<ngx_http_tailor_events_main_conf_t*>(conf);
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);

    if (emcf->upstream_max != NGX_CONF_UNSET_SIZE) {
        return const_cast<char*>("is duplicate");
    }

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        emcf->upstream_max = 0;
        return NGX_CONF_OK;
    }

    if (!ngx_http_tailor_events_header_name_valid(value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"tailor_events_upstream_header\": invalid header name \"%V\" "
                           "(letters, digits and \"-\", at most 64)",
                           &value[1]);
        return static_cast<char*>(NGX_CONF_ERROR);
    }
    emcf->upstream_header = value[1];
    emcf->upstream_max = tailor::kDefaultUpstreamEventBytes;
    ngx_http_tailor_conf_pos_set(cf, &emcf->upstream_pos);

    if (cf->args->nelts == 3) {
        ngx_str_t arg = value[2];
        constexpr size_t prefix = sizeof("max_size=") - 1;
        if (arg.len <= prefix || ngx_strncmp(arg.data, "max_size=", prefix) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tailor_events_upstream_header\": unknown parameter \"%V\"", &arg);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        arg.data += prefix;
        arg.len -= prefix;
        ssize_t size = ngx_parse_size(&arg);
        if (size == NGX_ERROR || size < 64 ||
            static_cast<size_t>(size) > tailor::kMaxUpstreamEventBytes) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"tailor_events_upstream_header\": max_size must be between 64 "
                               "and %uz bytes",
                               tailor::kMaxUpstreamEventBytes);
            return static_cast<char*>(NGX_CONF_ERROR);
        }
        emcf->upstream_max = static_cast<size_t>(size);
    }
    return NGX_CONF_OK;
}

ngx_int_t ngx_http_tailor_events_upstream_init(ngx_conf_t* cf,
                                               ngx_http_tailor_events_main_conf_t* emcf) noexcept {
    if (emcf->upstream_max == NGX_CONF_UNSET_SIZE) {
        emcf->upstream_header = ngx_http_tailor_events_default_upstream;
        emcf->upstream_max = tailor::kDefaultUpstreamEventBytes;
    }
    if (emcf->upstream_max == 0) {
        return NGX_OK;  // off
    }

    emcf->upstream_lowcase = static_cast<u_char*>(ngx_pnalloc(cf->pool, emcf->upstream_header.len));
    if (emcf->upstream_lowcase == nullptr) {
        return NGX_ERROR;
    }
    ngx_strlow(emcf->upstream_lowcase, emcf->upstream_header.data, emcf->upstream_header.len);

    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_conf_get_module_main_conf(cf, ngx_http_tailor_module));
    if (ngx_http_tailor_events_upstream_name(emcf) == ngx_http_tailor_identify_name(mcf)) {
        ngx_http_tailor_conf_log_at(NGX_LOG_EMERG, cf, &emcf->upstream_pos,
                                    "\"tailor_events_upstream_header\" and "
                                    "\"tailor_identify_header\" name the same header \"%V\"",
                                    &emcf->upstream_header);
        return NGX_ERROR;
    }

    ngx_http_tailor_events_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_tailor_events_upstream_filter;

    // only the upstream's own response may declare an event: the post-read
    // phase drops a client's header of that name
    return ngx_http_tailor_add_internal_header(cf,
                                               {emcf->upstream_header.len, emcf->upstream_lowcase});
}

bool ngx_http_tailor_events_upstream_pending(ngx_http_request_t* r) noexcept {
    return ngx_http_get_module_ctx(r, ngx_http_tailor_events_module) != nullptr;
}

const tailor::UpstreamEvent* ngx_http_tailor_events_upstream_event(
    ngx_http_request_t* r, ngx_http_tailor_events_main_conf_t* emcf) noexcept {
    auto* ctx = static_cast<ngx_http_tailor_events_upstream_ctx_t*>(
        ngx_http_get_module_ctx(r, ngx_http_tailor_events_module));
    if (ctx == nullptr) {
        return nullptr;
    }

    tailor::UpstreamEvent* u = &ngx_http_tailor_events_upstream_parsed;
    tailor::UpstreamEventError error =
        tailor::parse_upstream_event(ngx_http_tailor_view(ctx->value), emcf->upstream_max, u);
    if (error == tailor::UpstreamEventError::kOk) {
        ngx_http_tailor_events_count(NGX_HTTP_TAILOR_EVENTS_UPSTREAM);
        return u;
    }

    ngx_http_tailor_events_count_upstream_refused(static_cast<unsigned>(error));
    // the value itself may hold what the rules keep out of logs: name the reason
    // and the property only
    std::string_view reason = tailor::upstream_event_error_name(error);
    ngx_http_tailor_events_upstream_log(
        r->connection->log, "upstream's \"%V\" header dropped (%*s%s%*s%s), %uz bytes",
        &emcf->upstream_header, reason.size(), reason.data(), u->detail.empty() ? "" : ": \"",
        u->detail.size(), u->detail.data(), u->detail.empty() ? "" : "\"", ctx->value.len);
    return nullptr;
}
