// The page filter's rendered bodies (core page/rendered.h): whether a response may leave as a
// file, the body for it from the worker's page cache, and the one file buffer that sends it.
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <memory>

#include "ngx_http_tailor_page.h"

#include "ngx_http_tailor_log_limit.h"
#include "ngx_http_tailor_metrics.h"
#include "tailor/engine/engine.h"

namespace {

ngx_http_tailor_log_limit_t ngx_http_tailor_page_render_log_limit;  // one source: this file

void ngx_http_tailor_page_log(ngx_http_request_t* r, const char* fmt, ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(&ngx_http_tailor_page_render_log_limit, NGX_LOG_WARN,
                                  r->connection->log, "tailor: ", fmt, args);
    va_end(args);
}

// nginx's addition filter's ctx_index, or -1: the filter adds body bytes (add_before_body,
// add_after_body) after the page filter without asking for memory, and they would land
// outside a file's chunked framing.
ngx_int_t ngx_http_tailor_page_addition_index = -1;

}  // namespace

void ngx_http_tailor_page_find_addition(ngx_cycle_t* cycle) noexcept {
    ngx_http_tailor_page_addition_index = -1;
    for (ngx_uint_t i = 0; i < cycle->modules_n; i++) {
        if (cycle->modules[i]->name != nullptr &&
            std::strcmp(cycle->modules[i]->name, "ngx_http_addition_filter_module") == 0) {
            ngx_http_tailor_page_addition_index =
                static_cast<ngx_int_t>(cycle->modules[i]->ctx_index);
        }
    }
}

bool ngx_http_tailor_page_may_send_file(ngx_http_request_t* r, bool others_need_memory) noexcept {
    if (ngx_http_tailor_page_addition_index >= 0 &&
        r->ctx[ngx_http_tailor_page_addition_index] != nullptr) {
        return false;  // add_before_body / add_after_body: their bytes join the body
    }
    return !others_need_memory && r->connection->sendfile &&
           r->http_version <= NGX_HTTP_VERSION_11 && !r->expect_trailers &&
           r->headers_out.trailers.part.nelts == 0;
}

std::shared_ptr<const tailor::RenderedPage> ngx_http_tailor_page_rendered(
    ngx_http_request_t* r, const tailor::PageKey& key,
    const std::shared_ptr<const tailor::Page>& page, const tailor::PageLayout& layout,
    const tailor::Decision& decision) noexcept {
    const std::vector<tailor::SlotFill>& fills = decision.fills();
    tailor::RenderedContent content;
    content.layout = &layout;
    content.fills = fills.data();
    content.count = fills.size();
    content.injection = decision.directives_html();
    content.chunked = r->chunked != 0;
    auto* clcf = static_cast<ngx_http_core_loc_conf_t*>(
        ngx_http_get_module_loc_conf(r, ngx_http_core_module));
    tailor::PageCache::RenderedLookup found = ngx_http_tailor_page_cache->rendered(
        key, page, content, ngx_http_tailor_view(clcf->client_body_temp_path->name));
    if (found.written) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_RENDERS);
    }
    if (found.declined) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_RENDERS_DECLINED);
    }
    if (found.failed) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_RENDER_FAILURES);
        ngx_http_tailor_page_log(r, "page not rendered to a file in \"%V\" (%s), sent from memory",
                                 &clcf->client_body_temp_path->name,
                                 found.error != 0 ? strerror(found.error) : "out of memory");
    }
    return found.body;
}

ngx_chain_t* ngx_http_tailor_page_file_chain(ngx_http_request_t* r,
                                             const tailor::RenderedPage& body) noexcept {
    static ngx_str_t name = ngx_string("<tailor rendered page>");
    auto* file = static_cast<ngx_file_t*>(ngx_pcalloc(r->pool, sizeof(ngx_file_t)));
    auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
    ngx_chain_t* out = ngx_alloc_chain_link(r->pool);
    if (file == nullptr || b == nullptr || out == nullptr) {
        return nullptr;
    }
    file->fd = body.fd();
    file->name = name;
    file->log = r->connection->log;
    b->in_file = 1;
    b->file = file;
    b->file_pos = 0;
    b->file_last = static_cast<off_t>(body.size());
    b->last_buf = 1;
    b->last_in_chain = 1;
    out->buf = b;
    out->next = nullptr;
    return out;
}
