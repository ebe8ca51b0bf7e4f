// The body filter: streams a rewritten page through the rewriter without copying it.
#include "ngx_http_tailor.h"

#include "ngx_http_tailor_core.h"
#include "ngx_http_tailor_metrics.h"

namespace {

// r->buffered has four bits and stock nginx uses all of them; the image
// filter's bit is shared because it never acts on the text/html Tailor rewrites.
constexpr unsigned kTailorBuffered = 0x08;

// Output buffers are recycled through ctx->free; a fill larger than one
// buffer spreads over several.
constexpr size_t kOutputBufferSize = 16384;

ngx_http_output_body_filter_pt ngx_http_next_body_filter;

// The body filter forwards the page without copying it, as sub_filter does:
// bytes the rewriter leaves as they were go out in buffers that point into
// the input buffer they came in, a fill in one that points into the
// decision (which lives in r->pool as long as the request), and only the
// bytes the rewriter held back across calls (a possible "</body" prefix, a
// held slot's default given back) are copied into Tailor's own buffers. An
// input buffer is marked consumed only when the last buffer made from it
// has been sent (its shadow), so whoever filled it (upstream, copy filter)
// cannot reuse the memory while our views of it are still queued.

struct ngx_http_tailor_sink_t {
    ngx_http_request_t* r;
    ngx_http_tailor_ctx_t* ctx;
    ngx_buf_t* copy;  // Tailor's buffer being filled with copies, or null
    ngx_buf_t* last;  // the last buffer made from the current input buffer
    ngx_int_t rc;
};

// Copies are in buffers with Tailor's tag (own storage, kept on ctx->free);
// views carry this one (no storage of their own, kept on ctx->free_views).
u_char ngx_http_tailor_view_tag;

ngx_buf_tag_t ngx_http_tailor_copy_tag() noexcept {
    return reinterpret_cast<ngx_buf_tag_t>(&ngx_http_tailor_module);
}

ngx_buf_tag_t ngx_http_tailor_views_tag() noexcept {
    return reinterpret_cast<ngx_buf_tag_t>(&ngx_http_tailor_view_tag);
}

void ngx_http_tailor_sink_append(ngx_http_tailor_sink_t* sink, ngx_chain_t* cl) noexcept {
    cl->next = nullptr;
    *sink->ctx->last_out = cl;
    sink->ctx->last_out = &cl->next;
    sink->last = cl->buf;
}

ngx_int_t ngx_http_tailor_sink_view(ngx_http_tailor_sink_t* sink, const char* p,
                                    size_t n) noexcept {
    ngx_chain_t* cl = ngx_chain_get_free_buf(sink->r->pool, &sink->ctx->free_views);
    if (cl == nullptr) {
        return NGX_ERROR;
    }

    ngx_buf_t* b = cl->buf;
    ngx_memzero(b, sizeof(ngx_buf_t));
    b->pos = reinterpret_cast<u_char*>(const_cast<char*>(p));
    b->last = b->pos + n;
    b->start = b->pos;
    b->end = b->last;
    b->memory = 1;  // read-only: the bytes belong to the input buffer or the decision
    b->tag = ngx_http_tailor_views_tag();

    ngx_http_tailor_sink_append(sink, cl);
    sink->copy = nullptr;  // later copies go after this view
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_sink_next_copy(ngx_http_tailor_sink_t* sink) noexcept {
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
    b->recycled = 0;
    b->flush = 0;
    b->sync = 0;
    b->last_buf = 0;
    b->last_in_chain = 0;
    b->shadow = nullptr;
    b->tag = ngx_http_tailor_copy_tag();

    ngx_http_tailor_sink_append(sink, cl);
    sink->copy = b;
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_sink_copy(ngx_http_tailor_sink_t* sink, const char* p,
                                    size_t n) noexcept {
    while (n > 0) {
        if (sink->copy == nullptr || sink->copy->last == sink->copy->end) {
            if (ngx_http_tailor_sink_next_copy(sink) != NGX_OK) {
                return NGX_ERROR;
            }
        }
        size_t room = static_cast<size_t>(sink->copy->end - sink->copy->last);
        size_t k = n < room ? n : room;
        sink->copy->last = ngx_cpymem(sink->copy->last, p, k);
        p += k;
        n -= k;
    }
    return NGX_OK;
}

// The rewriter's sink: a view for input and fill pieces, a copy for carry.
void ngx_http_tailor_sink_write(void* data, const char* p, size_t n,
                                tailor::PieceOrigin origin) noexcept {
    auto* sink = static_cast<ngx_http_tailor_sink_t*>(data);

    if (sink->rc != NGX_OK || n == 0) {
        return;
    }
    if (origin == tailor::PieceOrigin::kCarry) {
        sink->rc = ngx_http_tailor_sink_copy(sink, p, n);
    } else {
        sink->rc = ngx_http_tailor_sink_view(sink, p, n);
    }
}

// After an input buffer: the last buffer made from it carries its flags and
// shadows it (it is consumed once that buffer is sent); with none made, the
// input is consumed now (what it held was copied) and its flags, if any, go
// out on an empty marker.
// `last`: the page ends with this buffer (its last_buf, or the end of the
// declared length).
ngx_int_t ngx_http_tailor_sink_close(ngx_http_tailor_sink_t* sink, ngx_buf_t* in,
                                     bool last) noexcept {
    const bool flush = in->flush || in->sync;

    if (sink->last == nullptr) {
        in->pos = in->last;
        if (in->in_file) {
            in->file_pos = in->file_last;
        }
        if (!flush && !last) {
            return NGX_OK;
        }
        // An empty marker must not carry Tailor's tags: it is never recycled
        // (the write filter may still hold it behind unsent data).
        auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(sink->r->pool));
        ngx_chain_t* cl = ngx_alloc_chain_link(sink->r->pool);
        if (b == nullptr || cl == nullptr) {
            return NGX_ERROR;
        }
        cl->buf = b;
        ngx_http_tailor_sink_append(sink, cl);
    } else {
        sink->last->shadow = in;
        sink->last->recycled = in->recycled;
    }

    ngx_buf_t* b = sink->last;
    b->flush = flush ? 1 : 0;
    b->last_buf = last ? 1 : 0;
    b->last_in_chain = last || in->last_in_chain;
    sink->last = nullptr;
    sink->copy = nullptr;  // a closed buffer is not appended to again
    return NGX_OK;
}

// Like ngx_chain_update_chains, except that a sent buffer marks its shadow
// (the input buffer it was made from) consumed, and copies and views go back
// to their own free lists.
void ngx_http_tailor_update_chains(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx) noexcept {
    if (ctx->out != nullptr) {
        ngx_chain_t** tail = &ctx->busy;
        while (*tail != nullptr) {
            tail = &(*tail)->next;
        }
        *tail = ctx->out;
        ctx->out = nullptr;
    }
    ctx->last_out = &ctx->out;

    while (ctx->busy != nullptr) {
        ngx_chain_t* cl = ctx->busy;
        ngx_buf_t* b = cl->buf;

        if (ngx_buf_size(b) != 0) {
            break;
        }

        if (b->shadow != nullptr) {
            b->shadow->pos = b->shadow->last;
            if (b->shadow->in_file) {
                b->shadow->file_pos = b->shadow->file_last;
            }
            b->shadow = nullptr;
        }

        ctx->busy = cl->next;

        if (b->tag == ngx_http_tailor_copy_tag()) {
            cl->next = ctx->free;
            ctx->free = cl;
        } else if (b->tag == ngx_http_tailor_views_tag()) {
            cl->next = ctx->free_views;
            ctx->free_views = cl;
        } else {
            ngx_free_chain(r->pool, cl);
        }
    }
}

// The page ended where its declared length (the upstream's Content-Length)
// did, and went out with its last_buf then: the chunked terminator leaves in
// the same write as the page's end instead of in a write (a TCP segment, a
// wakeup of the client) of its own. What arrives after that, the upstream's
// empty last_buf, is consumed here and never passed on (a second last_buf
// would send a second terminator). The proxy's input filter stops at the
// declared length, so no page bytes can follow; any that did would be past
// the page the client was promised, and are dropped. A response that expects
// trailers (add_trailer) ends at the upstream's last_buf instead: the headers
// filter before this one adds them when it sees that last_buf, and the
// terminator must carry them.
void ngx_http_tailor_drop_after_length(ngx_http_request_t* r, ngx_chain_t* in) noexcept {
    for (ngx_chain_t* cl = in; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;
        if (ngx_buf_size(b) != 0) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "tailor: %O body bytes after the declared length dropped",
                          ngx_buf_size(b));
        }
        b->pos = b->last;
        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }
}

ngx_int_t ngx_http_tailor_body_filter(ngx_http_request_t* r, ngx_chain_t* in) noexcept {
    auto* ctx =
        static_cast<ngx_http_tailor_ctx_t*>(ngx_http_get_module_ctx(r, ngx_http_tailor_module));

    if (ctx == nullptr || !ctx->rewriting || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->passing) {
        // A filter after this one got our buffers and sends its own from the top of the
        // chain before it returns: the addition filter (add_after_body) turns our last_buf
        // into a sync and ends the response with a last_buf of its own. They follow the
        // page as they are; neither dropped as if they were the upstream's (after an end
        // at the declared length), nor appended to our output, which is on its way.
        return ngx_http_next_body_filter(r, in);
    }

    if (ctx->ended_at_length) {
        ngx_http_tailor_drop_after_length(r, in);
        in = nullptr;  // only what is still queued goes on
    }

    if (ctx->finished && ctx->busy == nullptr) {
        // everything was emitted at last_buf; nothing should follow
        return ngx_http_next_body_filter(r, in);
    }

    ngx_http_tailor_sink_t sink = {r, ctx, nullptr, nullptr, NGX_OK};
    off_t scanned = 0;  // counted once per call: the counter is shared by the workers

    for (ngx_chain_t* cl = in; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;

        if (ctx->finished) {
            // nothing follows last_buf; pass a stray buffer on, in order
            ngx_chain_t* link = ngx_alloc_chain_link(r->pool);
            if (link == nullptr) {
                return NGX_ERROR;
            }
            link->buf = b;
            ngx_http_tailor_sink_append(&sink, link);
            sink.last = nullptr;
            continue;
        }

        if (!ngx_buf_special(b) && !ngx_buf_in_memory(b)) {
            // filter_need_in_memory guarantees memory; a file-only buffer here
            // means the module order is wrong
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "tailor: body buffer not in memory, passing the page through");
            ctx->rewriting = 0;
            if (scanned != 0) {
                ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_BYTES_SCANNED, scanned);
            }
            return ngx_http_next_body_filter(r, in);
        }

        bool at_length = false;
        if (b->pos < b->last) {
            const off_t n = b->last - b->pos;
            scanned += n;
            ngx_http_tailor_core_rewrite(ctx, b->pos, static_cast<size_t>(n),
                                         ngx_http_tailor_sink_write, &sink);
            if (ctx->body_left > 0) {
                ctx->body_left = n < ctx->body_left ? ctx->body_left - n : 0;
                at_length = ctx->body_left == 0 && !b->last_buf && !r->expect_trailers;
            }
        }

        const bool last = b->last_buf || at_length;
        if (last) {
            ngx_http_tailor_core_rewrite_finish(r, ctx, ngx_http_tailor_sink_write, &sink);
            ctx->finished = 1;
            ctx->ended_at_length = at_length ? 1 : 0;
        }

        if (sink.rc != NGX_OK || ngx_http_tailor_sink_close(&sink, b, last) != NGX_OK) {
            return NGX_ERROR;
        }

        if (ctx->ended_at_length) {
            // whatever follows in this chain (the last_buf) is after the page
            ngx_http_tailor_drop_after_length(r, cl->next);
            break;
        }
    }

    if (scanned != 0) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_BYTES_SCANNED, scanned);
    }

    if (ngx_http_tailor_core_rewrite_holding(ctx)) {
        r->buffered |= kTailorBuffered;
    } else {
        r->buffered &= ~kTailorBuffered;
    }

    if (ctx->out == nullptr && ctx->busy == nullptr) {
        return NGX_OK;
    }

    ctx->passing = 1;
    ngx_int_t rc = ngx_http_next_body_filter(r, ctx->out);
    ctx->passing = 0;

    ngx_http_tailor_update_chains(r, ctx);
    return rc;
}

}  // namespace

ngx_int_t ngx_http_tailor_body_filter_init(ngx_conf_t*) noexcept {
    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_tailor_body_filter;
    return NGX_OK;
}
