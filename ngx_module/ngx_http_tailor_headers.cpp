// ngx_http_tailor_headers: finding, hiding and dropping nginx header list entries, for the
// access phase and the header filter.
#include "ngx_http_tailor.h"

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
        if (h[i].hash == 0 || h[i].key.len != lowcase.size()) {
            continue;
        }
        if (ngx_strncasecmp(h[i].key.data,
                            reinterpret_cast<u_char*>(const_cast<char*>(lowcase.data())),
                            lowcase.size()) != 0) {
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

void ngx_http_tailor_drop_validators(ngx_http_request_t* r) noexcept {
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

    // The list that proxy_pass and friends forward is rebuilt without them;
    // shortcut pointers into the old list stay valid (same pool, unchanged).
    // ngx_list_t points into itself (last == &part), so it is rebuilt in place
    // and read from a copy of the old head.
    ngx_list_t old = r->headers_in.headers;
    if (ngx_list_init(&r->headers_in.headers, r->pool, old.nalloc, sizeof(ngx_table_elt_t)) !=
        NGX_OK) {
        r->headers_in.headers = old;
        return;
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
        bool dropped = false;
        for (ngx_table_elt_t** v : validators) {
            dropped = dropped || *v == &h[i];
        }
        if (dropped) {
            continue;
        }
        auto* copy = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_in.headers));
        if (copy == nullptr) {
            r->headers_in.headers = old;
            return;
        }
        *copy = h[i];
    }

    for (ngx_table_elt_t** v : validators) {
        *v = nullptr;
    }
}
