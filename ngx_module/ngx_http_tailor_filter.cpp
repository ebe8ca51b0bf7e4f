// The header filters: decide once per response whether it is rewritten, issue the visitor
// cookie, and ready a rewritten page for the body filter (ngx_http_tailor_body_filter.cpp).
#include "ngx_http_tailor.h"

#include <string_view>

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_metrics.h"
#include "tailor/visitor/cookie_policy.h"

namespace {

ngx_http_output_header_filter_pt ngx_http_next_header_filter;
ngx_http_output_header_filter_pt ngx_http_next_decide_header_filter;

// The Cache-Control a private response gets in place of its own: private, and
// the response's own no-cache and no-store (they only restrict; an account
// page the shop marked no-store stays out of the browser's disk).
ngx_str_t ngx_http_tailor_private_cache_control(ngx_http_request_t* r) noexcept {
    tailor::PrivateCacheControl cc;
    (void)ngx_http_tailor_walk_headers(&r->headers_out.headers, [&cc](ngx_table_elt_t& h) noexcept {
        if (h.hash != 0 && ngx_http_tailor_equals_nocase(h.key, "cache-control")) {
            cc.add(ngx_http_tailor_view(h.value));
        }
        return false;
    });
    const std::string_view v = cc.value();  // a literal: lives as long as the worker
    return {v.size(), reinterpret_cast<u_char*>(const_cast<char*>(v.data()))};
}

// One visitor's page (or cookie) must never be stored by a shared cache:
// Cache-Control says private, the targeted fields CDNs obey instead of it
// (RFC 9213 and the vendors' own) go, and Vary: Cookie keeps any cache that
// still stores it from handing it to another visitor. Each field goes by
// name, not through nginx's pointer to it: an upstream (or a cached copy of
// its response) may send one twice, and nginx points at one of them only.
ngx_int_t ngx_http_tailor_make_private(ngx_http_request_t* r) noexcept {
    const ngx_str_t cache_control = ngx_http_tailor_private_cache_control(r);
    ngx_http_tailor_hide_headers(
        &r->headers_out.headers,
        {"cache-control", "expires", "surrogate-control", "cdn-cache-control",
         "cloudflare-cdn-cache-control", "edge-control"});
    r->headers_out.cache_control.nelts = 0;
    r->headers_out.expires = nullptr;

    if (ngx_http_tailor_add_header(r, ngx_string("Vary"), ngx_string("Cookie")) != NGX_OK) {
        return NGX_ERROR;
    }
    return ngx_http_tailor_add_header(r, ngx_string("Cache-Control"), cache_control);
}

// A page Tailor may personalize: the main request's 200 of a tailor_types type.
// Only such a page carries the visitor cookie; anything else leaves with
// nginx's own headers. A page nginx's slice module assembles (the only setter
// of subrequest_ranges) is not one: its later slices reach the client through
// subrequests that never pass the rewriter, so at most its first slice could
// change.
bool ngx_http_tailor_personalizable(ngx_http_request_t* r,
                                    ngx_http_tailor_loc_conf_t* lcf) noexcept {
    return r == r->main && r->headers_out.status == NGX_HTTP_OK && !r->subrequest_ranges &&
           ngx_http_test_content_type(r, &lcf->types) != nullptr;
}

// One Content-Encoding header that names an encoding. "identity" is none (RFC 9110
// reserves it for Accept-Encoding, and some servers send it anyway).
bool ngx_http_tailor_names_encoding(const ngx_table_elt_t& h) noexcept {
    return h.hash != 0 && ngx_http_tailor_equals_nocase(h.key, "content-encoding") &&
           h.value.len != 0 && !ngx_http_tailor_equals_nocase(h.value, "identity");
}

// A body the upstream encoded (gzip, br, ...), whose tags the rewriter cannot see. nginx
// points headers_out.content_encoding at the last of an upstream's Content-Encoding
// headers; every one of them counts (gzip, then a stray identity, is still gzip).
bool ngx_http_tailor_encoded(ngx_http_request_t* r) noexcept {
    return r->headers_out.content_encoding != nullptr &&
           ngx_http_tailor_walk_headers(&r->headers_out.headers, ngx_http_tailor_names_encoding) !=
               nullptr;
}

// Runs before nginx's not-modified filter (the page module's place in the
// chain) and decides once whether this response is rewritten: a
// personalizable page, not compressed, that the decision changes.
ngx_int_t ngx_http_tailor_decide_header_filter(ngx_http_request_t* r) noexcept {
    if (r != r->main) {
        return ngx_http_next_decide_header_filter(r);
    }
    ngx_http_tailor_ctx_t* ctx = ngx_http_tailor_get_ctx(r);
    if (ctx == nullptr) {
        return ngx_http_next_decide_header_filter(r);
    }
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));
    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));

    // Who the visitor is, as the upstream's response says (a login names
    // them, a logout forgets them and the page they get), is settled first:
    // before deciding, and before the headers filter's add_header reads
    // $tailor_vid.
    if (ngx_http_tailor_core_identify(r, mcf, lcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (!ngx_http_tailor_core_changes_page(ctx->personalization) ||
        !ngx_http_tailor_personalizable(r, lcf)) {
        // not rewritten: conditional and range requests are nginx's again
        ngx_http_tailor_restore_validators(r, &ctx->held);
        return ngx_http_next_decide_header_filter(r);
    }

    if (ngx_http_tailor_encoded(r)) {
        // An upstream that compresses hides the tags; pass it on untouched.
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_COMPRESSED_PASSTHROUGH);
        ngx_http_tailor_restore_validators(r, &ctx->held);
        return ngx_http_next_decide_header_filter(r);
    }

    // The personalized page is a new document: the client's validators (held
    // since the access phase) describe the generic one, so nginx must not
    // answer 304 or 412 from them; the range is dropped by the header filter.
    ctx->will_rewrite = 1;
    r->disable_not_modified = 1;
    return ngx_http_next_decide_header_filter(r);
}

// The upstream's own Set-Cookie for the visitor cookie, when a Tailor behind
// this one (or the shop) already names the visitor; null otherwise.
const ngx_table_elt_t* ngx_http_tailor_upstream_cookie(ngx_http_request_t* r,
                                                       const ngx_str_t& name) noexcept {
    auto names_visitor = [&name](const ngx_table_elt_t& h) noexcept {
        if (h.hash == 0 || !ngx_http_tailor_equals_nocase(h.key, "set-cookie")) {
            return false;
        }
        const ngx_str_t& v = h.value;
        return v.len > name.len && v.data[name.len] == '=' &&
               ngx_strncmp(v.data, name.data, name.len) == 0;
    };
    return ngx_http_tailor_walk_headers(&r->headers_out.headers, names_visitor);
}

// Adds the visitor cookie this request minted (or the upstream's identify
// asked for), and makes the response private with it. With an upstream that
// sets the cookie itself, the upstream's wins: one Set-Cookie, and this
// request's events follow the id it names.
ngx_int_t ngx_http_tailor_issue_cookie(ngx_http_request_t* r, ngx_http_tailor_loc_conf_t* lcf,
                                       ngx_http_tailor_ctx_t* ctx) noexcept {
    if (!ctx->identified) {
        const ngx_table_elt_t* theirs = ngx_http_tailor_upstream_cookie(r, lcf->cookie.name);
        if (theirs != nullptr) {
            ngx_http_tailor_core_adopt_cookie(r, lcf, ctx, theirs->value);
            return NGX_OK;
        }
    }

    if (ngx_http_tailor_add_header(r, ngx_string("Set-Cookie"), ctx->set_cookie) != NGX_OK ||
        ngx_http_tailor_make_private(r) != NGX_OK) {
        return NGX_ERROR;
    }
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_COOKIES_ISSUED);
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_header_filter(ngx_http_request_t* r) noexcept {
    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    auto* mcf = static_cast<ngx_http_tailor_main_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_module));

    ngx_http_tailor_ctx_t* ctx = ngx_http_tailor_get_ctx(r);
    if (ctx == nullptr) {
        // tailor is off here: an upstream's identify header is still internal
        (void)ngx_http_tailor_find_header(&r->headers_out.headers,
                                          ngx_http_tailor_identify_name(mcf), true);
        return ngx_http_next_header_filter(r);
    }
    auto* lcf = static_cast<ngx_http_tailor_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_tailor_module));

    // A minted id goes out only with a page it may personalize (a 404, an
    // image, a 304 leave untouched, and the next page mints again); an id the
    // upstream identified goes out with whatever answered the login.
    if (ctx->set_cookie.len != 0 &&
        !tailor::may_send_visitor_cookie(
            tailor::visitor_cookie_reason(ctx->previous_vid.len != 0,
                                          ctx->outcome == tailor::Outcome::kNewVisitor),
            static_cast<unsigned>(r->headers_out.status), ngx_http_tailor_personalizable(r, lcf))) {
        ctx->set_cookie.len = 0;  // an error page or a non-page hands out no new id
    }

    bool made_private = false;
    if (ctx->set_cookie.len != 0) {
        if (ngx_http_tailor_issue_cookie(r, lcf, ctx) != NGX_OK) {
            return NGX_ERROR;
        }
        made_private = ctx->set_cookie.len != 0;
    }

    if (!ctx->will_rewrite || r->headers_out.status != NGX_HTTP_OK) {
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_tailor_core_start_rewrite(r, ctx) != NGX_OK) {
        return ngx_http_next_header_filter(r);
    }

    ctx->rewriting =
        1;  // the page filter asks the copy filter for memory (ngx_http_tailor_page.cpp)
    r->allow_ranges = 0;

    ctx->body_left = r->headers_out.content_length_n;  // the body filter ends the page there
    if (r->upstream != nullptr && r->headers_out.etag != nullptr) {
        ctx->upstream_etag = r->headers_out.etag->value;  // the page filter's proxied path
    }
    ngx_http_clear_content_length(r);
    // The generic file's validators describe someone else's bytes; a weak
    // ETag would still let a later unpersonalized request answer 304 to a
    // browser holding this page. Drop them, every copy an upstream sent (nginx
    // points at one of them only), and the digests of the generic bytes (RFC
    // 9530 and before it): a client that checks one would take the
    // personalized page for a corrupted one.
    ngx_http_tailor_hide_headers(&r->headers_out.headers,
                                 {"accept-ranges", "etag", "last-modified", "content-md5", "digest",
                                  "content-digest", "repr-digest"});
    r->headers_out.accept_ranges = nullptr;
    r->headers_out.etag = nullptr;
    r->headers_out.last_modified = nullptr;
    r->headers_out.last_modified_time = -1;

    if (!made_private && ngx_http_tailor_make_private(r) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PERSONALIZED);
    return ngx_http_next_header_filter(r);
}

}  // namespace

ngx_int_t ngx_http_tailor_add_header(ngx_http_request_t* r, ngx_str_t key,
                                     ngx_str_t value) noexcept {
    ngx_table_elt_t* h = static_cast<ngx_table_elt_t*>(ngx_list_push(&r->headers_out.headers));
    if (h == nullptr) {
        return NGX_ERROR;
    }
    h->hash = 1;
    h->key = key;
    h->value = value;
    h->lowcase_key = nullptr;
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_decide_filter_init(ngx_conf_t*) noexcept {
    ngx_http_next_decide_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_tailor_decide_header_filter;
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_filter_init(ngx_conf_t* cf) noexcept {
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_tailor_header_filter;

    return ngx_http_tailor_body_filter_init(cf);
}
