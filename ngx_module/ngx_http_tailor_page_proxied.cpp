// The page filter's proxied path: a body that is not one whole file (memory buffers, or parts
// of the upstream's temp file), replayed from the worker's copy of the page once every byte of
// it has been found equal (core page/proxied.h).
//
// At the body's first buffer a rewritten page with the upstream's strong ETag
// and a Content-Length within page_max takes one of three ways:
// - its (server, path, ETag, length) has a cached copy: each buffer is
//   compared with the copy and consumed; when the last byte has matched, the
//   page's recorded layout is sent as buffers that point into the copy, as for
//   a file (one writev, no scan). A byte that differs, a body that ends short,
//   or a temp file that cannot be read back hands everything to the streaming
//   rewriter after the copy filter: the prefix already matched (from the copy:
//   the same bytes) and the rest as it comes. The client gets the streaming
//   path's page either way. A replayed page leaves when its upstream's last byte is in: an
//   upstream that declares a length had the whole page before its first byte
//   (an early flush comes chunked, and streams), so only the transfer waits;
// - the key was seen before: the body streams, and a copy of it is kept;
// - otherwise it streams, and the key is remembered.
#include <cstdint>
#include <memory>
#include <new>

#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_metrics.h"
#include "ngx_http_tailor_page.h"
#include "tailor/engine/engine.h"
#include "tailor/page/proxied.h"

extern "C" ngx_module_t ngx_http_tailor_page_module;

namespace {

tailor::PageSightings ngx_http_tailor_page_sightings;  // per worker
ngx_http_tailor_log_limit_t ngx_http_tailor_page_log_limit;

// Per request, the page module's ctx; destroyed with the request's pool, so
// the copy it compares with outlives every buffer that points into it.
struct ngx_http_tailor_proxied_t {
    enum class Mode : uint8_t { kPass, kCapture, kMatch };
    Mode mode = Mode::kPass;
    tailor::PageKey key;
    tailor::PageCapture capture;
    std::shared_ptr<const tailor::Page> page;
    std::shared_ptr<const tailor::PageLayout> layout;
    tailor::PageMatch match{std::string_view()};
    std::string spilled;  // a buffer's bytes read back from the upstream's temp file
};

void ngx_http_tailor_proxied_release(void* data) noexcept {
    static_cast<ngx_http_tailor_proxied_t*>(data)->~ngx_http_tailor_proxied_t();
}

void ngx_http_tailor_proxied_log(ngx_http_request_t* r, const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(&ngx_http_tailor_page_log_limit, NGX_LOG_INFO, r->connection->log,
                                  "tailor: ", fmt, args);
    va_end(args);
}

// Every response that only passes through shares this one; nothing writes it.
ngx_http_tailor_proxied_t ngx_http_tailor_proxied_pass;

// A response's own state, for a copy or a comparison; null when the pool is out of memory.
ngx_http_tailor_proxied_t* ngx_http_tailor_proxied_alloc(ngx_http_request_t* r) noexcept {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_tailor_proxied_t));
    if (cln == nullptr) {
        return nullptr;
    }
    auto* st = new (cln->data) ngx_http_tailor_proxied_t();
    cln->handler = ngx_http_tailor_proxied_release;
    return st;
}

// Decides this response's way at its first body buffer; null when the pool is out of memory.
ngx_http_tailor_proxied_t* ngx_http_tailor_proxied_start(ngx_http_request_t* r,
                                                         ngx_http_tailor_ctx_t* ctx,
                                                         size_t page_max) noexcept {
    ngx_http_tailor_proxied_t* st = &ngx_http_tailor_proxied_pass;
    ngx_http_set_ctx(r, st, ngx_http_tailor_page_module);

    const std::string_view etag = ngx_http_tailor_view(ctx->upstream_etag);
    const off_t length = ctx->body_left;  // the declared length: nothing has streamed yet
    if (r->header_only || !tailor::is_strong_etag(etag) || length <= 0 ||
        static_cast<size_t>(length) > page_max) {
        return st;  // a HEAD's body never comes: it proves nothing about the copy
    }

    const void* server = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
    const tailor::PageKey key = tailor::proxied_page_key(
        reinterpret_cast<uintptr_t>(server), ngx_http_tailor_view(r->uri), etag, length);
    std::shared_ptr<const tailor::Page> page =
        ngx_http_tailor_page_cache->find(key, tailor::proxied_page_version(length));
    if (!page && !ngx_http_tailor_page_sightings.seen_before(key)) {
        return st;
    }

    st = ngx_http_tailor_proxied_alloc(r);
    if (st == nullptr) {
        return nullptr;
    }
    ngx_http_set_ctx(r, st, ngx_http_tailor_page_module);
    st->key = key;
    if (page) {
        st->page = std::move(page);
        st->match = tailor::PageMatch(st->page->bytes);
        st->mode = ngx_http_tailor_proxied_t::Mode::kMatch;
    } else if (st->capture.start(static_cast<size_t>(length))) {
        st->mode = ngx_http_tailor_proxied_t::Mode::kCapture;
    }
    return st;
}

// The bytes a body buffer holds: its memory, or, for a body that spilled to
// the upstream's temp file while the client read slowly, the part of that
// file it names, read back into `st->spilled`. False when the read fails.
bool ngx_http_tailor_proxied_bytes(ngx_http_tailor_proxied_t* st, ngx_buf_t* b,
                                   std::string_view* bytes) noexcept {
    if (ngx_buf_in_memory(b)) {
        *bytes = {reinterpret_cast<const char*>(b->pos), static_cast<size_t>(b->last - b->pos)};
        return true;
    }
    if (!b->in_file || b->file == nullptr || b->file->fd == NGX_INVALID_FILE ||
        !ngx_http_tailor_page_read(b, &st->spilled)) {
        return false;
    }
    *bytes = st->spilled;
    return true;
}

// Keeps a copy of the body as it streams; the complete copy goes into the cache.
void ngx_http_tailor_proxied_capture(ngx_http_tailor_proxied_t* st, ngx_chain_t* in) noexcept {
    for (ngx_chain_t* cl = in; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;
        if (ngx_buf_special(b)) {
            continue;
        }
        std::string_view bytes;
        if (!ngx_http_tailor_proxied_bytes(st, b, &bytes) || !st->capture.append(bytes)) {
            st->mode = ngx_http_tailor_proxied_t::Mode::kPass;  // unreadable, or too long
            return;
        }
    }
    if (st->capture.complete()) {
        st->mode = ngx_http_tailor_proxied_t::Mode::kPass;
        const int64_t length = st->key.offset;
        if (ngx_http_tailor_page_cache->insert(st->key, tailor::proxied_page_version(length),
                                               st->capture.take())) {
            ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_READS);
        }
    }
}

// Hands the body to the streaming rewriter from its first byte: the prefix
// already matched (from the copy: the same bytes), then `from` on.
ngx_int_t ngx_http_tailor_proxied_stream(ngx_http_request_t* r, ngx_http_tailor_proxied_t* st,
                                         ngx_chain_t* from,
                                         ngx_http_output_body_filter_pt next) noexcept {
    st->mode = ngx_http_tailor_proxied_t::Mode::kPass;
    const size_t matched = st->match.matched();
    ngx_chain_t* out = from;
    if (matched > 0) {
        auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
        out = ngx_alloc_chain_link(r->pool);
        if (b == nullptr || out == nullptr) {
            return NGX_ERROR;  // the matched bytes are consumed: nothing to fall back to
        }
        b->pos = reinterpret_cast<u_char*>(const_cast<char*>(st->page->bytes.data()));
        b->last = b->pos + matched;
        b->start = b->pos;
        b->end = b->last;
        b->memory = 1;  // read-only: the cached copy, kept by `st`
        out->buf = b;
        out->next = from;
    }
    return next(r, out);
}

// Consumes what follows the page's last byte; true when it held the upstream's last_buf.
bool ngx_http_tailor_proxied_drain(ngx_http_request_t* r, ngx_chain_t* rest) noexcept {
    bool saw_last = false;
    for (ngx_chain_t* cl = rest; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;
        saw_last = saw_last || b->last_buf;
        if (ngx_buf_size(b) != 0) {
            ngx_http_tailor_proxied_log(r, "%O body bytes after the declared length dropped",
                                        ngx_buf_size(b));
        }
        b->pos = b->last;
        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }
    return saw_last;
}

// The whole body matched: sends the page's layout for this request's fills.
ngx_int_t ngx_http_tailor_proxied_replay(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                         ngx_http_tailor_proxied_t* st, ngx_chain_t* rest,
                                         ngx_http_output_body_filter_pt next) noexcept {
    const tailor::Decision& decision = ctx->personalization->decision();
    const std::vector<tailor::SlotFill>& fills = decision.fills();
    st->layout = ngx_http_tailor_page_cache->layout(st->key, st->page, fills.data(), fills.size(),
                                                    decision.directives_html());
    ngx_chain_t* out =
        st->layout ? ngx_http_tailor_page_chain(r, *st->page, *st->layout, decision) : nullptr;
    if (out == nullptr) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_FALLBACKS);
        return ngx_http_tailor_proxied_stream(r, st, rest, next);
    }

    const bool saw_last = ngx_http_tailor_proxied_drain(r, rest);
    st->mode = ngx_http_tailor_proxied_t::Mode::kPass;
    ctx->finished = 1;  // the streaming rewriter passes our buffers through
    ngx_http_tailor_page_count_replay(*st->layout);

    ngx_int_t rc = next(r, out);
    // The page ended at its declared length: the upstream's last_buf, still to
    // come, must not end the response a second time.
    ctx->ended_at_length = saw_last ? 0 : 1;
    return rc;
}

// The body differs from the copy kept under its ETag (or ended short of it):
// the copy is dropped, and the body streams.
ngx_int_t ngx_http_tailor_proxied_mismatch(ngx_http_request_t* r, ngx_http_tailor_proxied_t* st,
                                           ngx_chain_t* from,
                                           ngx_http_output_body_filter_pt next) noexcept {
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_MISMATCHES);
    ngx_http_tailor_proxied_log(r,
                                "proxied page \"%V\" differs from its cached copy after %uz "
                                "bytes under the same ETag; streamed, copy dropped",
                                &r->uri, st->match.matched());
    ngx_http_tailor_page_cache->erase(st->key);
    return ngx_http_tailor_proxied_stream(r, st, from, next);
}

// Compares each buffer with the copy and consumes it; sends nothing until the
// page is complete. (Consumed at once, its buffers never back up into the
// upstream's temp file; a proxy_cache miss's body is in one all the same.)
ngx_int_t ngx_http_tailor_proxied_match(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                        ngx_http_tailor_proxied_t* st, ngx_chain_t* in,
                                        ngx_http_output_body_filter_pt next) noexcept {
    using Step = tailor::PageMatch::Step;

    for (ngx_chain_t* cl = in; cl != nullptr; cl = cl->next) {
        ngx_buf_t* b = cl->buf;
        if (!ngx_buf_special(b)) {
            std::string_view bytes;
            if (!ngx_http_tailor_proxied_bytes(st, b, &bytes)) {
                ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_FALLBACKS);
                return ngx_http_tailor_proxied_stream(r, st, cl, next);  // the copy filter reads it
            }
            const Step step = st->match.feed(bytes);
            if (step == Step::kMismatch) {
                return ngx_http_tailor_proxied_mismatch(r, st, cl, next);
            }
            b->pos = b->last;
            if (b->in_file) {
                b->file_pos = b->file_last;
            }
            if (step == Step::kComplete) {
                return ngx_http_tailor_proxied_replay(r, ctx, st, b->last_buf ? cl : cl->next,
                                                      next);
            }
        }
        if (b->last_buf) {
            return ngx_http_tailor_proxied_mismatch(r, st, cl, next);  // ended short of the page
        }
    }
    return NGX_OK;
}

}  // namespace

ngx_int_t ngx_http_tailor_page_proxied(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                       size_t page_max, ngx_chain_t* in,
                                       ngx_http_output_body_filter_pt next) noexcept {
    auto* st = static_cast<ngx_http_tailor_proxied_t*>(
        ngx_http_get_module_ctx(r, ngx_http_tailor_page_module));
    if (st == nullptr) {
        st = ngx_http_tailor_proxied_start(r, ctx, page_max);
        if (st == nullptr) {
            return next(r, in);  // out of memory: the streaming rewriter takes it
        }
    }

    switch (st->mode) {
        case ngx_http_tailor_proxied_t::Mode::kCapture:
            ngx_http_tailor_proxied_capture(st, in);
            return next(r, in);
        case ngx_http_tailor_proxied_t::Mode::kMatch:
            return ngx_http_tailor_proxied_match(r, ctx, st, in, next);
        case ngx_http_tailor_proxied_t::Mode::kPass:
            break;
    }
    return next(r, in);
}
