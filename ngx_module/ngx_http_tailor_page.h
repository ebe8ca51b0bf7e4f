// The page filter's parts (ngx_http_tailor_page.cpp): the worker's page cache, and what both of
// its paths, file-backed pages and proxied ones (ngx_http_tailor_page_proxied.cpp), share.
#pragma once

#include <memory>
#include <string>

#include "ngx_http_tailor.h"
#include "tailor/page/cache.h"

namespace tailor {
class Decision;
}

extern tailor::PageCache* ngx_http_tailor_page_cache;  // one per worker; null: none

// Reads a file buffer's bytes (file_pos to file_last) into `bytes`; false when
// memory runs out or the read fails.
bool ngx_http_tailor_page_read(ngx_buf_t* b, std::string* bytes) noexcept;

// The layout's replay for this request's decision: one memory buffer per
// piece, the last with last_buf; null when the pool is out of memory.
ngx_chain_t* ngx_http_tailor_page_chain(ngx_http_request_t* r, const tailor::Page& page,
                                        const tailor::PageLayout& layout,
                                        const tailor::Decision& decision) noexcept;

// Counts a replay and the slots its layout filled.
void ngx_http_tailor_page_count_replay(const tailor::PageLayout& layout) noexcept;

// Finds nginx's addition filter among the cycle's modules (at postconfiguration), so that
// ngx_http_tailor_page_may_send_file() can see a response it adds bytes to.
void ngx_http_tailor_page_find_addition(ngx_cycle_t* cycle) noexcept;

// Whether this response's body may leave as a file nginx sends with sendfile
// (ngx_http_tailor_page_rendered.cpp): HTTP/1.x (the file carries the chunked framing, if
// any), nothing after the page filter reads it in memory (`others_need_memory`: a header
// filter asked for memory) or adds to it (nginx's addition filter; a third-party filter that
// adds body bytes without asking for memory needs rendered=0), and no trailers (they are the
// chunked filter's to write).
bool ngx_http_tailor_page_may_send_file(ngx_http_request_t* r, bool others_need_memory) noexcept;

// This response's body rendered to a file (found, or written now: the second time these
// fills come under `layout`); null to replay it from memory. Counts writes and failures, and
// logs a failure (rate-limited).
std::shared_ptr<const tailor::RenderedPage> ngx_http_tailor_page_rendered(
    ngx_http_request_t* r, const tailor::PageKey& key,
    const std::shared_ptr<const tailor::Page>& page, const tailor::PageLayout& layout,
    const tailor::Decision& decision) noexcept;

// The one file buffer (last_buf) that sends a rendered body; null when the pool is out of
// memory.
ngx_chain_t* ngx_http_tailor_page_file_chain(ngx_http_request_t* r,
                                             const tailor::RenderedPage& body) noexcept;

// The proxied path, for a body that is not one whole file: called for every
// body buffer chain of a rewritten page; passes on to `next` what the
// streaming rewriter or the client should get.
ngx_int_t ngx_http_tailor_page_proxied(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                       size_t page_max, ngx_chain_t* in,
                                       ngx_http_output_body_filter_pt next) noexcept;
