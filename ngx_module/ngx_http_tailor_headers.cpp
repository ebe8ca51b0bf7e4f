// ngx_http_tailor_headers: finding, hiding and dropping nginx header list entries, for the
// access phase and the header filter.
#include "ngx_http_tailor.h"

#include <string_view>

namespace {

bool ngx_http_tailor_is_named(const ngx_table_elt_t& h, std::string_view lowcase) noexcept {
    return h.key.len == lowcase.size() &&
           ngx_strncasecmp(h.key.data, reinterpret_cast<u_char*>(const_cast<char*>(lowcase.data())),
                           lowcase.size()) == 0;
}

}  // namespace

const ngx_table_elt_t* ngx_http_tailor_find_header(ngx_list_t* headers, std::string_view lowcase,
                                                   bool hide) noexcept {
    ngx_list_part_t* part = &headers->part;
    auto* h = static_cast<ngx_table_elt_t*>(part->elts);
    const ngx_table_elt_t* found = nullptr;

    for (ngx_uint_t i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == nullptr) {
                break;
            }
            part = part->next;
            h = static_cast<ngx_table_elt_t*>(part->elts);
            i = 0;
        }
        if (h[i].hash == 0 || !ngx_http_tailor_is_named(h[i], lowcase)) {
            continue;
        }
        if (found == nullptr) {
            found = &h[i];
        }
        if (!hide) {
            break;
        }
        h[i].hash = 0;
    }
    return found;
}

namespace {

// Rebuilds the request's header list, the one proxy_pass and friends forward,
// without the entries `drop` picks; false (list unchanged) when out of memory.
// Shortcut pointers into the old list stay valid (same pool, unchanged).
// ngx_list_t points into itself (last == &part), so it is rebuilt in place and
// read from a copy of the old head.
template <typename Drop>
bool ngx_http_tailor_rebuild_headers_in(ngx_http_request_t* r, Drop drop) noexcept {
    ngx_list_t old = r->headers_in.headers;
    if (ngx_list_init(&r->headers_in.headers, r->pool, old.nalloc, sizeof(ngx_table_elt_t)) !=
        NGX_OK) {
        r->headers_in.headers = old;
        return false;
    }

    ngx_list_part_t* part = &old.part;
    auto* h = static_cast<ngx_table_elt_t*>(part->elts);
    for (ngx_uint_t i = 0; /* void */; i++) {
        if (i >= part->nelts) {
            if (part->next == nullptr) {
                break;
            }
            part = part->next;
            h = static_cast<ngx_table_elt_t*>(part->elts);
            i = 0;
        }
        if (drop(h[i])) {
            continue;
        }
        auto* copy = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_in.headers));
        if (copy == nullptr) {
            r->headers_in.headers = old;
            return false;
        }
        *copy = h[i];
    }
    return true;
}

}  // namespace

void ngx_http_tailor_hold_validators(ngx_http_request_t* r,
                                     ngx_http_tailor_validators_t* held) noexcept {
    ngx_table_elt_t** validators[] = {&r->headers_in.if_none_match,
                                      &r->headers_in.if_modified_since, &r->headers_in.range,
                                      &r->headers_in.if_range};
    bool any = false;
    for (ngx_table_elt_t** v : validators) {
        any = any || *v != nullptr;
    }
    if (!any) {
        return;
    }

    auto is_validator = [&validators](const ngx_table_elt_t& h) noexcept {
        bool found = false;
        for (ngx_table_elt_t** v : validators) {
            found = found || *v == &h;
        }
        return found;
    };
    if (!ngx_http_tailor_rebuild_headers_in(r, is_validator)) {
        return;
    }

    // the entries themselves stay in r->pool, off the list
    *held = {r->headers_in.if_none_match, r->headers_in.if_modified_since, r->headers_in.range,
             r->headers_in.if_range};
    for (ngx_table_elt_t** v : validators) {
        *v = nullptr;
    }
}

void ngx_http_tailor_restore_validators(ngx_http_request_t* r,
                                        ngx_http_tailor_validators_t* held) noexcept {
    // nginx's not-modified and range filters read these pointers, not the list
    if (held->if_none_match != nullptr) {
        r->headers_in.if_none_match = held->if_none_match;
    }
    if (held->if_modified_since != nullptr) {
        r->headers_in.if_modified_since = held->if_modified_since;
    }
    if (held->range != nullptr) {
        r->headers_in.range = held->range;
    }
    if (held->if_range != nullptr) {
        r->headers_in.if_range = held->if_range;
    }
    *held = {};
}

ngx_int_t ngx_http_tailor_drop_request_header(ngx_http_request_t* r,
                                              std::string_view lowcase) noexcept {
    if (ngx_http_tailor_find_header(&r->headers_in.headers, lowcase, false) == nullptr) {
        return NGX_OK;
    }
    auto is_named = [lowcase](const ngx_table_elt_t& h) noexcept {
        return ngx_http_tailor_is_named(h, lowcase);
    };
    return ngx_http_tailor_rebuild_headers_in(r, is_named) ? NGX_OK : NGX_ERROR;
}
