// ngx_http_tailor_headers: finding, hiding and dropping nginx header list entries, for the
// access phase and the header filter.
#include "ngx_http_tailor.h"

#include <algorithm>
#include <string_view>

void ngx_http_tailor_hide_headers(ngx_list_t* headers,
                                  std::initializer_list<std::string_view> lowcase) noexcept {
    (void)ngx_http_tailor_walk_headers(headers, [lowcase](ngx_table_elt_t& h) noexcept {
        if (h.hash != 0 &&
            std::any_of(lowcase.begin(), lowcase.end(), [&h](std::string_view name) noexcept {
                return ngx_http_tailor_equals_nocase(h.key, name);
            })) {
            h.hash = 0;
        }
        return false;
    });
}

const ngx_table_elt_t* ngx_http_tailor_find_header(ngx_list_t* headers, std::string_view lowcase,
                                                   bool hide) noexcept {
    const ngx_table_elt_t* found = nullptr;
    (void)ngx_http_tailor_walk_headers(headers, [&](ngx_table_elt_t& h) noexcept {
        if (h.hash == 0 || !ngx_http_tailor_equals_nocase(h.key, lowcase)) {
            return false;
        }
        if (found == nullptr) {
            found = &h;
        }
        if (!hide) {
            return true;
        }
        h.hash = 0;
        return false;
    });
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

    bool copied = true;
    (void)ngx_http_tailor_walk_headers(&old, [&](ngx_table_elt_t& h) noexcept {
        if (drop(h)) {
            return false;
        }
        auto* copy = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_in.headers));
        if (copy == nullptr) {
            copied = false;
            return true;
        }
        *copy = h;
        return false;
    });
    if (!copied) {
        r->headers_in.headers = old;
        return false;
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

void ngx_http_tailor_give_back_validators(ngx_http_request_t* r,
                                          ngx_http_tailor_validators_t* held) noexcept {
    ngx_table_elt_t** shortcuts[] = {&r->headers_in.if_none_match, &r->headers_in.if_modified_since,
                                     &r->headers_in.range, &r->headers_in.if_range};
    ngx_table_elt_t* entries[] = {held->if_none_match, held->if_modified_since, held->range,
                                  held->if_range};
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        if (entries[i] == nullptr) {
            continue;
        }
        // back on the list an upstream is sent (at its end: the order of different names
        // means nothing); out of memory, at least nginx's own filters see it
        auto* copy = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_in.headers));
        if (copy != nullptr) {
            *copy = *entries[i];
        }
        *shortcuts[i] = copy != nullptr ? copy : entries[i];
    }
    *held = {};
}

namespace {

// nginx's parsers (HTTP/1, 2 and 3) set lowcase_key on every request header;
// one a module adds without it is compared as a response header is.
bool ngx_http_tailor_request_header_is(const ngx_table_elt_t& h,
                                       std::string_view lowcase) noexcept {
    if (h.key.len != lowcase.size()) {
        return false;
    }
    if (h.lowcase_key == nullptr) {
        return ngx_http_tailor_equals_nocase(h.key, lowcase);
    }
    return ngx_memcmp(h.lowcase_key, lowcase.data(), lowcase.size()) == 0;
}

inline bool ngx_http_tailor_is_internal(
    const ngx_table_elt_t& h, const ngx_http_tailor_internal_headers_t& internal) noexcept {
    if (((internal.lengths >> std::min<size_t>(h.key.len, 63)) & 1) == 0) {
        return false;
    }
    for (ngx_uint_t k = 0; k < internal.count; k++) {
        if (ngx_http_tailor_request_header_is(h, ngx_http_tailor_view(internal.lowcase[k]))) {
            return true;
        }
    }
    return false;
}

}  // namespace

const ngx_table_elt_t* ngx_http_tailor_find_request_header(ngx_http_request_t* r,
                                                           std::string_view lowcase) noexcept {
    return ngx_http_tailor_walk_headers(&r->headers_in.headers,
                                        [lowcase](ngx_table_elt_t& h) noexcept {
                                            return ngx_http_tailor_request_header_is(h, lowcase);
                                        });
}

ngx_int_t ngx_http_tailor_drop_request_headers(
    ngx_http_request_t* r, const ngx_http_tailor_internal_headers_t& internal) noexcept {
    auto is_internal = [&internal](const ngx_table_elt_t& h) noexcept {
        return ngx_http_tailor_is_internal(h, internal);
    };
    if (ngx_http_tailor_walk_headers(&r->headers_in.headers, is_internal) == nullptr) {
        return NGX_OK;  // none: the list stays as it is
    }
    return ngx_http_tailor_rebuild_headers_in(r, is_internal) ? NGX_OK : NGX_ERROR;
}
