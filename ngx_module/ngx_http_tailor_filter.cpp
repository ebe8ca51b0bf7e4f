// The header and body filters: decide once per response, then stream it through the rewriter.
#include "ngx_http_tailor.h"

#include <string_view>

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_metrics.h"

namespace {

// r->buffered has four bits and stock nginx uses all of them; the image
// filter's bit is shared because it never acts on the text/html Tailor rewrites.
constexpr unsigned kTailorBuffered = 0x08;

// Output buffers are recycled through ctx->free; a fill larger than one
// buffer spreads over several.
constexpr size_t kOutputBufferSize = 16384;

ngx_http_output_header_filter_pt ngx_http_next_header_filter;
ngx_http_output_body_filter_pt ngx_http_next_body_filter;

// One visitor's page (or cookie) must never be stored by a shared cache:
// Cache-Control says private, the targeted fields CDNs obey instead of it
// (RFC 9213 and the vendors' own) go, and Vary: Cookie keeps any cache that
// still stores it from handing it to another visitor.
ngx_int_t ngx_http_tailor_make_private(ngx_http_request_t* r) noexcept {
    static constexpr std::string_view kSharedCacheFields[] = {
        "cache-control", "surrogate-control", "cdn-cache-control", "cloudflare-cdn-cache-control",
        "edge-control"};
    for (std::string_view name : kSharedCacheFields) {
        (void)ngx_http_tailor_find_header(&r->headers_out.headers, name, true);
    }
    r->headers_out.cache_control.nelts = 0;

    if (r->headers_out.expires != nullptr) {
        r->headers_out.expires->hash = 0;
        r->headers_out.expires = nullptr;
    }

    if (ngx_http_tailor_add_header(r, ngx_string("Vary"), ngx_string("Cookie")) != NGX_OK) {
        return NGX_ERROR;
    }
    return ngx_http_tailor_add_header(r, ngx_string("Cache-Control"), ngx_string("private"));
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

    if (ngx_http_tailor_core_identify(r, mcf, lcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    bool made_private = false;
    if (ctx->set_cookie.len != 0) {
        if (ngx_http_tailor_add_header(r, ngx_string("Set-Cookie"), ctx->set_cookie) != NGX_OK ||
            ngx_http_tailor_make_private(r) != NGX_OK) {
            return NGX_ERROR;
        }
        made_private = true;
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_COOKIES_ISSUED);
    }

    if (!ngx_http_tailor_core_changes_page(ctx->personalization) ||
        r->headers_out.status != NGX_HTTP_OK ||
        ngx_http_test_content_type(r, &lcf->types) == nullptr) {
        return ngx_http_next_header_filter(r);
    }

    if (r->headers_out.content_encoding != nullptr &&
        r->headers_out.content_encoding->value.len != 0) {
        // An upstream that compresses hides the tags; pass it on untouched.
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_COMPRESSED_PASSTHROUGH);
        return ngx_http_next_header_filter(r);
    }

    if (ngx_http_tailor_core_start_rewrite(r, ctx) != NGX_OK) {
        return ngx_http_next_header_filter(r);
    }

    ctx->rewriting = 1;
    r->filter_need_in_memory = 1;
    r->allow_ranges = 0;

    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    // The generic file's validators describe someone else's bytes; a weak
    // ETag would still let a later unpersonalized request answer 304 to a
    // browser holding this page. Drop them.
    ngx_http_clear_etag(r);
    ngx_http_clear_last_modified(r);

    if (!made_private && ngx_http_tailor_make_private(r) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PERSONALIZED);
    return ngx_http_next_header_filter(r);
}

// The rewriter's sink: copies each output piece into recycled output buffers.
struct ngx_http_tailor_sink_t {
    ngx_http_request_t* r;
    ngx_http_tailor_ctx_t* ctx;
    ngx_buf_t* b;  // the buffer being filled, or null
    ngx_int_t rc;
};

ngx_int_t ngx_http_tailor_sink_next_buf(ngx_http_tailor_sink_t* sink) noexcept {
    ngx_http_tailor_ctx_t* ctx = sink->ctx;

    ngx_chain_t* cl = ngx_chain_get_free_buf(sink->r->pool, &ctx->free);
    if (cl == nullptr) {
        return NGX_ERROR;
    }

    ngx_buf_t* b = cl->buf;
    if (b->start == nullptr) {
        b->start = static_cast<u_char*>(ngx_palloc(sink->r->pool, kOutputBufferSize));
        if (b->start == nullptr) {
            return NGX_ERROR;
        }
        b->end = b->start + kOutputBufferSize;
    }
    b->pos = b->start;
    b->last = b->start;
    b->temporary = 1;
    b->recycled = 1;
    b->flush = 0;
    b->last_buf = 0;
    b->last_in_chain = 0;
    b->tag = reinterpret_cast<ngx_buf_tag_t>(&ngx_http_tailor_module);

    *ctx->last_out = cl;
    ctx->last_out = &cl->next;
    sink->b = b;
    return NGX_OK;
}

void ngx_http_tailor_sink_write(void* data, const char* p, size_t n) noexcept {
    auto* sink = static_cast<ngx_http_tailor_sink_t*>(data);

    while (n > 0 && sink->rc == NGX_OK) {
        if (sink->b == nullptr || sink->b->last == sink->b->end) {
            if (ngx_http_tailor_sink_next_buf(sink) != NGX_OK) {
                sink->rc = NGX_ERROR;
                return;
            }
        }
        size_t room = static_cast<size_t>(sink->b->end - sink->b->last);
        size_t k = n < room ? n : room;
        sink->b->last = ngx_cpymem(sink->b->last, p, k);
        p += k;
        n -= k;
    }
}

// Marks the end of what this call produced with the flags the input carried.
ngx_int_t ngx_http_tailor_sink_mark(ngx_http_tailor_sink_t* sink, bool flush,
                                    bool last_buf) noexcept {
    if (!flush && !last_buf) {
        return NGX_OK;
    }
    if (sink->b == nullptr) {
        // An empty marker must not carry Tailor's tag: ngx_chain_update_chains
        // would recycle it at once (its size is 0) while the write filter may
        // still hold it behind unsent data.
        auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(sink->r->pool));
        ngx_chain_t* cl = ngx_alloc_chain_link(sink->r->pool);
        if (b == nullptr || cl == nullptr) {
            return NGX_ERROR;
        }
        cl->buf = b;
        cl->next = nullptr;
        *sink->ctx->last_out = cl;
        sink->ctx->last_out = &cl->next;
        sink->b = b;
    }
    if (flush) {
        sink->b->flush = 1;
    }
    if (last_buf) {
        sink->b->last_buf = 1;
        sink->b->last_in_chain = 1;
    }
    sink->b = nullptr;  // a marked buffer is not appended to again
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_body_filter(ngx_http_request_t* r, ngx_chain_t* in) noexcept {
    auto* ctx =
        static_cast<ngx_http_tailor_ctx_t*>(ngx_http_get_module_ctx(r, ngx_http_tailor_module));

    if (ctx == nullptr || !ctx->rewriting || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->finished) {
        // everything was emitted at last_buf; nothing should follow
        return ngx_http_next_body_filter(r, in);
    }

    ngx_http_tailor_sink_t sink = {r, ctx, nullptr, NGX_OK};

    for (ngx_chain_t* cl = in; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;

        if (!ngx_buf_special(b) && !ngx_buf_in_memory(b)) {
            // filter_need_in_memory guarantees memory; a file-only buffer here
            // means the module order is wrong
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "tailor: body buffer not in memory, passing the page through");
            ctx->rewriting = 0;
            return ngx_http_next_body_filter(r, in);
        }

        if (b->pos < b->last) {
            ngx_http_tailor_core_rewrite(ctx, b->pos, static_cast<size_t>(b->last - b->pos),
                                         ngx_http_tailor_sink_write, &sink);
            b->pos = b->last;
        }
        if (b->in_file) {
            b->file_pos = b->file_last;
        }

        if (b->last_buf) {
            ngx_http_tailor_core_rewrite_finish(r, ctx, ngx_http_tailor_sink_write, &sink);
            ctx->finished = 1;
        }

        if (sink.rc == NGX_OK && (b->flush || b->last_buf || b->sync)) {
            sink.rc = ngx_http_tailor_sink_mark(&sink, b->flush || b->sync, b->last_buf);
        }

        if (sink.rc != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_tailor_core_rewrite_holding(ctx)) {
        r->buffered |= kTailorBuffered;
    } else {
        r->buffered &= ~kTailorBuffered;
    }

    if (ctx->out == nullptr && ctx->busy == nullptr) {
        return NGX_OK;
    }

    ngx_int_t rc = ngx_http_next_body_filter(r, ctx->out);

    ngx_chain_update_chains(r->pool, &ctx->free, &ctx->busy, &ctx->out,
                            reinterpret_cast<ngx_buf_tag_t>(&ngx_http_tailor_module));
    ctx->last_out = &ctx->out;
    return rc;
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

ngx_int_t ngx_http_tailor_filter_init(ngx_conf_t*) noexcept {
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_tailor_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_tailor_body_filter;

    return NGX_OK;
}
