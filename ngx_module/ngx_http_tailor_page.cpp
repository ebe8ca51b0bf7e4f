// The page filter: file-backed pages (static files, proxy_cache/fastcgi_cache hits) leave as
// buffers that point into the worker's cached copy of the page, with no scan and no copy.
//
// It is its own module, ordered before the copy filter (ngx_modules.c.in), so
// it sees the content handler's single file buffer before anything reads it
// (../shared/research/sendfile-slot-index.md). When the header filter has
// started a rewrite and the body is one whole, unchanged file, it replays the
// page's recorded layout (core page/) as memory buffers: one writev; or, when
// the same fills came before and nginx sends files with sendfile, as one file
// buffer of the body rendered to an unlinked file (core page/rendered.h). A
// file that changed, a temp file, a page over the cap, any failure before the
// first buffer is linked pass the buffer on untouched, and the streaming
// rewriter after the copy filter handles it. A body in memory buffers
// (proxied) takes the proxied path (ngx_http_tailor_page_proxied.cpp).
//
// Whether the copy filter reads the body into memory is decided here, at the
// first body buffer, not in the header filter: every path but a rendered body
// needs memory, and by now every header filter has said whether it does too.
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <new>
#include <string>

#include "ngx_http_tailor_page.h"

#include "ngx_http_tailor_metrics.h"
#include "tailor/engine/engine.h"

extern "C" ngx_module_t ngx_http_tailor_page_module;

tailor::PageCache* ngx_http_tailor_page_cache;

namespace {

struct ngx_http_tailor_page_conf_t {
    ngx_flag_t enable;
    ngx_uint_t entries;
    size_t size;
    size_t page_max;
    ngx_flag_t proxied;   // proxied pages join the cache (proxied=on|off)
    ngx_uint_t rendered;  // rendered bodies kept per layout (rendered=N; 0: none)
};

ngx_http_output_body_filter_pt ngx_http_next_body_filter;

// What a response keeps alive while its buffers point into a page: the page
// and its layout outlive an eviction until the request's pool goes.
struct ngx_http_tailor_page_hold_t {
    std::shared_ptr<const tailor::Page> page;
    std::shared_ptr<const tailor::PageLayout> layout;
    std::shared_ptr<const tailor::RenderedPage> rendered;  // its file stays open with it
};

void ngx_http_tailor_page_release(void* data) noexcept {
    static_cast<ngx_http_tailor_page_hold_t*>(data)->~ngx_http_tailor_page_hold_t();
}

// Keeps `page` and `layout` (and a rendered body, set on the hold) alive until the request's
// pool goes, since the response's buffers point into them; null when the pool is out of memory.
ngx_http_tailor_page_hold_t* ngx_http_tailor_page_hold(
    ngx_http_request_t* r, const std::shared_ptr<const tailor::Page>& page,
    const std::shared_ptr<const tailor::PageLayout>& layout) noexcept {
    ngx_pool_cleanup_t* cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_tailor_page_hold_t));
    if (cln == nullptr) {
        return nullptr;
    }
    auto* hold = new (cln->data) ngx_http_tailor_page_hold_t{page, layout, nullptr};
    cln->handler = ngx_http_tailor_page_release;
    return hold;
}

// The one buffer of a whole file, as the static handler and a cache hit send it.
bool ngx_http_tailor_page_candidate(ngx_chain_t* in) noexcept {
    if (in == nullptr || in->next != nullptr) {
        return false;
    }
    ngx_buf_t* b = in->buf;
    return b->in_file && !ngx_buf_in_memory(b) && !b->temp_file && b->last_buf &&
           b->file != nullptr && b->file->fd != NGX_INVALID_FILE && b->file_last > b->file_pos;
}

bool ngx_http_tailor_page_version(ngx_fd_t fd, tailor::PageKey* key, tailor::PageVersion* version,
                                  off_t offset) noexcept {
    ngx_file_info_t fi;
    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        return false;
    }
    key->device = static_cast<uint64_t>(fi.st_dev);
    key->inode = static_cast<uint64_t>(fi.st_ino);
    key->offset = offset;
    version->size = fi.st_size;
    version->mtime_ns = static_cast<int64_t>(fi.st_mtim.tv_sec) * 1000000000 + fi.st_mtim.tv_nsec;
    version->ctime_ns = static_cast<int64_t>(fi.st_ctim.tv_sec) * 1000000000 + fi.st_ctim.tv_nsec;
    return true;
}

// The page for this buffer from the cache, read and kept on a miss; null to stream.
std::shared_ptr<const tailor::Page> ngx_http_tailor_page_get(ngx_buf_t* b, size_t page_max,
                                                             tailor::PageKey* key) noexcept {
    tailor::PageVersion version;
    if (!ngx_http_tailor_page_version(b->file->fd, key, &version, b->file_pos) ||
        version.size != b->file_last) {
        return nullptr;  // not the whole file, or it changed under open_file_cache
    }
    if (auto page = ngx_http_tailor_page_cache->find(*key, version)) {
        return page;
    }
    if (static_cast<size_t>(b->file_last - b->file_pos) > page_max) {
        return nullptr;
    }
    std::string bytes;
    tailor::PageKey again;
    tailor::PageVersion after;
    if (!ngx_http_tailor_page_read(b, &bytes) ||
        !ngx_http_tailor_page_version(b->file->fd, &again, &after, b->file_pos) ||
        !(after == version)) {
        return nullptr;  // changed while it was read: stream this one
    }
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_READS);
    return ngx_http_tailor_page_cache->insert(*key, version, std::move(bytes));
}

// Replays the page's layout for this response; NGX_DECLINED leaves `in` untouched.
ngx_int_t ngx_http_tailor_page_splice(ngx_http_request_t* r, ngx_http_tailor_ctx_t* ctx,
                                      ngx_http_tailor_page_conf_t* pcf, ngx_chain_t* in,
                                      bool may_send_file, ngx_chain_t** out) noexcept {
    ngx_buf_t* b = in->buf;
    tailor::PageKey key;
    std::shared_ptr<const tailor::Page> page = ngx_http_tailor_page_get(b, pcf->page_max, &key);
    if (!page) {
        return NGX_DECLINED;
    }

    const tailor::Decision& decision = ctx->personalization->decision();
    const std::vector<tailor::SlotFill>& fills = decision.fills();
    std::shared_ptr<const tailor::PageLayout> layout = ngx_http_tailor_page_cache->layout(
        key, page, fills.data(), fills.size(), decision.directives_html());
    if (!layout) {
        return NGX_DECLINED;
    }

    std::shared_ptr<const tailor::RenderedPage> rendered;
    if (may_send_file && pcf->rendered > 0) {
        rendered = ngx_http_tailor_page_rendered(r, key, page, *layout, decision);
    }
    ngx_http_tailor_page_hold_t* hold = ngx_http_tailor_page_hold(r, page, layout);
    if (hold == nullptr) {
        return NGX_DECLINED;
    }
    if (rendered) {
        *out = ngx_http_tailor_page_file_chain(r, *rendered);
        if (*out != nullptr) {
            hold->rendered = rendered;
            r->filter_need_in_memory = 0;  // only ours was set: sendfile sends it
            if (r->chunked) {
                r->chunked = 0;  // the file holds the chunked framing
            }
            ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_RENDERED_SENT);
        }
    } else {
        *out = ngx_http_tailor_page_chain(r, *page, *layout, decision);
    }
    if (*out == nullptr) {
        return NGX_DECLINED;
    }
    b->file_pos = b->file_last;  // the input is consumed: our buffers carry it
    ngx_http_tailor_page_count_replay(*layout);
    return NGX_OK;
}

ngx_int_t ngx_http_tailor_page_body_filter(ngx_http_request_t* r, ngx_chain_t* in) noexcept {
    if (r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }
    auto* ctx =
        static_cast<ngx_http_tailor_ctx_t*>(ngx_http_get_module_ctx(r, ngx_http_tailor_module));
    if (ctx == nullptr || !ctx->rewriting || ctx->finished) {
        return ngx_http_next_body_filter(r, in);
    }
    // The copy filter reads this flag at its first buffer, which comes after ours: the
    // streaming rewriter after it reads memory. Only a rendered body clears it again.
    const bool others_need_memory = r->filter_need_in_memory || r->main_filter_need_in_memory;
    r->filter_need_in_memory = 1;
    auto* pcf = static_cast<ngx_http_tailor_page_conf_t*>(
        ngx_http_get_module_main_conf(r, ngx_http_tailor_page_module));
    if (ctx->personalization == nullptr || !pcf->enable || ngx_http_tailor_page_cache == nullptr) {
        return ngx_http_next_body_filter(r, in);
    }
    if (!ngx_http_tailor_page_candidate(in)) {
        if (!pcf->proxied) {
            return ngx_http_next_body_filter(r, in);
        }
        return ngx_http_tailor_page_proxied(r, ctx, pcf->page_max, in, ngx_http_next_body_filter);
    }

    ngx_chain_t* out = nullptr;
    if (ngx_http_tailor_page_splice(r, ctx, pcf, in,
                                    ngx_http_tailor_page_may_send_file(r, others_need_memory),
                                    &out) != NGX_OK) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_FALLBACKS);
        return ngx_http_next_body_filter(r, in);  // the streaming rewriter takes it
    }
    ctx->finished = 1;  // the streaming rewriter passes our buffers through
    return ngx_http_next_body_filter(r, out);
}

// The size after `name=` in `arg`: -1 when `arg` is not that parameter, 0
// when its value is not a positive size (entries= takes a plain number,
// which ngx_parse_size reads the same).
ssize_t ngx_http_tailor_page_param(const ngx_str_t& arg, std::string_view name) noexcept {
    std::string_view a = ngx_http_tailor_view(arg);
    if (a.size() <= name.size() || a.substr(0, name.size()) != name) {
        return -1;
    }
    ngx_str_t v = {arg.len - name.size(), arg.data + name.size()};
    ssize_t n = ngx_parse_size(&v);
    return n > 0 ? n : 0;
}

// tailor_page_cache off | [entries=N] [size=SIZE] [page_max=SIZE] [proxied=on|off]
//                   [rendered=N]
char* ngx_http_tailor_page_cache_directive(ngx_conf_t* cf, ngx_command_t*, void* conf) noexcept {
    auto* pcf = static_cast<ngx_http_tailor_page_conf_t*>(conf);
    if (pcf->enable != NGX_CONF_UNSET) {
        return const_cast<char*>("is duplicate");
    }
    auto* value = static_cast<ngx_str_t*>(cf->args->elts);
    pcf->enable = 1;
    if (cf->args->nelts == 2 && ngx_http_tailor_view(value[1]) == "off") {
        pcf->enable = 0;
        return NGX_CONF_OK;
    }
    for (ngx_uint_t i = 1; i < cf->args->nelts; i++) {
        ssize_t n;
        if ((n = ngx_http_tailor_page_param(value[i], "entries=")) > 0) {
            pcf->entries = static_cast<ngx_uint_t>(n);
        } else if ((n = ngx_http_tailor_page_param(value[i], "size=")) > 0) {
            pcf->size = static_cast<size_t>(n);
        } else if ((n = ngx_http_tailor_page_param(value[i], "page_max=")) > 0) {
            pcf->page_max = static_cast<size_t>(n);
        } else if (ngx_http_tailor_view(value[i]).substr(0, 9) == "rendered=") {
            ngx_int_t n = ngx_atoi(value[i].data + 9, value[i].len - 9);
            if (n == NGX_ERROR) {
                return const_cast<char*>("takes rendered=N, a number (0: none)");
            }
            pcf->rendered = static_cast<ngx_uint_t>(n);
        } else if (ngx_http_tailor_view(value[i]) == "proxied=on") {
            pcf->proxied = 1;
        } else if (ngx_http_tailor_view(value[i]) == "proxied=off") {
            pcf->proxied = 0;
        } else {
            return const_cast<char*>(
                "takes \"off\" or entries=N size=SIZE page_max=SIZE (each a positive number) "
                "proxied=on|off rendered=N");
        }
    }
    return NGX_CONF_OK;
}

void* ngx_http_tailor_page_create_main_conf(ngx_conf_t* cf) noexcept {
    auto* pcf = static_cast<ngx_http_tailor_page_conf_t*>(
        ngx_pcalloc(cf->pool, sizeof(ngx_http_tailor_page_conf_t)));
    if (pcf == nullptr) {
        return nullptr;
    }
    pcf->enable = NGX_CONF_UNSET;
    pcf->entries = NGX_CONF_UNSET_UINT;
    pcf->size = NGX_CONF_UNSET_SIZE;
    pcf->page_max = NGX_CONF_UNSET_SIZE;
    pcf->proxied = NGX_CONF_UNSET;
    pcf->rendered = NGX_CONF_UNSET_UINT;
    return pcf;
}

char* ngx_http_tailor_page_init_main_conf(ngx_conf_t*, void* conf) noexcept {
    auto* pcf = static_cast<ngx_http_tailor_page_conf_t*>(conf);
    const tailor::PageCacheLimits defaults;
    ngx_conf_init_value(pcf->enable, 1);
    ngx_conf_init_uint_value(pcf->entries, defaults.max_entries);
    ngx_conf_init_size_value(pcf->size, defaults.max_bytes);
    ngx_conf_init_size_value(pcf->page_max, defaults.max_page_bytes);
    ngx_conf_init_value(pcf->proxied, 1);
    ngx_conf_init_uint_value(pcf->rendered, defaults.max_rendered_per_layout);
    return NGX_CONF_OK;
}

ngx_int_t ngx_http_tailor_page_postconfiguration(ngx_conf_t* cf) noexcept {
    ngx_http_tailor_page_find_addition(cf->cycle);
    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_tailor_page_body_filter;
    // This module's place in the chain is before nginx's not-modified filter,
    // where whether a response is rewritten must be known.
    return ngx_http_tailor_decide_filter_init(cf);
}

ngx_int_t ngx_http_tailor_page_init_process(ngx_cycle_t* cycle) noexcept {
    auto* pcf = static_cast<ngx_http_tailor_page_conf_t*>(
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_tailor_page_module));
    if (pcf == nullptr || !pcf->enable) {
        return NGX_OK;
    }
    tailor::PageCacheLimits limits;
    limits.max_entries = pcf->entries;
    limits.max_bytes = pcf->size;
    limits.max_page_bytes = pcf->page_max;
    limits.max_rendered_per_layout = pcf->rendered;
    // Each kept body holds a descriptor: at most 1/16 of what the worker may open.
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
        limits.max_rendered_files =
            std::min<size_t>(limits.max_rendered_files, static_cast<size_t>(nofile.rlim_cur / 16));
    }
    // Without a cache every page streams: slower, never wrong.
    ngx_http_tailor_page_cache = new (std::nothrow) tailor::PageCache(limits);
    return NGX_OK;
}

void ngx_http_tailor_page_exit_process(ngx_cycle_t*) noexcept {
    delete ngx_http_tailor_page_cache;
    ngx_http_tailor_page_cache = nullptr;
}

ngx_command_t ngx_http_tailor_page_commands[] = {
    {ngx_string("tailor_page_cache"), NGX_HTTP_MAIN_CONF | NGX_CONF_1MORE,
     ngx_http_tailor_page_cache_directive, NGX_HTTP_MAIN_CONF_OFFSET, 0, nullptr},
    ngx_null_command};

ngx_http_module_t ngx_http_tailor_page_module_ctx = {
    nullptr,                                 // preconfiguration
    ngx_http_tailor_page_postconfiguration,  // postconfiguration
    ngx_http_tailor_page_create_main_conf,   // create main configuration
    ngx_http_tailor_page_init_main_conf,     // init main configuration
    nullptr,                                 // create server configuration
    nullptr,                                 // merge server configuration
    nullptr,                                 // create location configuration
    nullptr                                  // merge location configuration
};

}  // namespace

bool ngx_http_tailor_page_read(ngx_buf_t* b, std::string* bytes) noexcept {
    const size_t size = static_cast<size_t>(b->file_last - b->file_pos);
    try {
        bytes->resize(size);
    } catch (...) {
        return false;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(b->file->fd, bytes->data() + got, size - got,
                          static_cast<off_t>(b->file_pos + static_cast<off_t>(got)));
        if (n <= 0) {
            return false;
        }
        got += static_cast<size_t>(n);
    }
    return true;
}

// Links one memory buffer per layout piece; nothing is linked unless all are.
ngx_chain_t* ngx_http_tailor_page_chain(ngx_http_request_t* r, const tailor::Page& page,
                                        const tailor::PageLayout& layout,
                                        const tailor::Decision& decision) noexcept {
    const std::vector<tailor::SlotFill>& fills = decision.fills();
    ngx_chain_t* out = nullptr;
    ngx_chain_t** last = &out;
    ngx_buf_t* tail = nullptr;

    for (const tailor::LayoutPiece& piece : layout.pieces()) {
        std::string_view bytes = layout.resolve(piece, page.bytes, fills.data(), fills.size(),
                                                decision.directives_html());
        if (bytes.empty()) {
            continue;  // an empty buffer would end the response
        }
        auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
        ngx_chain_t* cl = ngx_alloc_chain_link(r->pool);
        if (b == nullptr || cl == nullptr) {
            return nullptr;
        }
        b->pos = reinterpret_cast<u_char*>(const_cast<char*>(bytes.data()));
        b->last = b->pos + bytes.size();
        b->start = b->pos;
        b->end = b->last;
        b->memory = 1;  // read-only: later filters must not write into the page
        cl->buf = b;
        cl->next = nullptr;
        *last = cl;
        last = &cl->next;
        tail = b;
    }

    if (tail == nullptr) {
        auto* b = static_cast<ngx_buf_t*>(ngx_calloc_buf(r->pool));
        out = ngx_alloc_chain_link(r->pool);
        if (b == nullptr || out == nullptr) {
            return nullptr;
        }
        out->buf = b;
        out->next = nullptr;
        tail = b;
    }
    tail->last_buf = 1;
    tail->last_in_chain = 1;
    return out;
}

void ngx_http_tailor_page_count_replay(const tailor::PageLayout& layout) noexcept {
    const tailor::SlotRewriterStats& stats = layout.stats();
    if (stats.slots_replaced > 0) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_SLOTS_FILLED,
                                      static_cast<ngx_atomic_int_t>(stats.slots_replaced));
    }
    if (stats.slots_bailed > 0) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_REWRITER_BAILOUTS,
                                      static_cast<ngx_atomic_int_t>(stats.slots_bailed));
    }
    ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_PAGE_REPLAYS);
}

ngx_module_t ngx_http_tailor_page_module = {NGX_MODULE_V1,
                                            &ngx_http_tailor_page_module_ctx,   // module context
                                            ngx_http_tailor_page_commands,      // module directives
                                            NGX_HTTP_MODULE,                    // module type
                                            nullptr,                            // init master
                                            nullptr,                            // init module
                                            ngx_http_tailor_page_init_process,  // init process
                                            nullptr,                            // init thread
                                            nullptr,                            // exit thread
                                            ngx_http_tailor_page_exit_process,  // exit process
                                            nullptr,                            // exit master
                                            NGX_MODULE_V1_PADDING};
