// PageCache: a per-worker, bounded cache of file-backed pages and their layouts.
//
// A static file or a proxy_cache/fastcgi_cache hit reaches the body filter as
// one file buffer. Its bytes are read once per worker and file version and
// kept here with the layouts recorded for them (page/layout.h); responses
// then point into these bytes. Entries are reference-counted: an entry
// evicted while a slow response still sends from it lives until that
// response ends. Keyed by the file's identity (never its path or fd number,
// both of which nginx reuses) and checked against its version on every use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/html/slot_fill.h"
#include "tailor/page/layout.h"
#include "tailor/page/rendered.h"

namespace tailor {

// PageKey
//
// Which bytes: the file (device and inode of the open fd) and where the body
// starts in it (a cache file's body follows its header).
struct PageKey {
    uint64_t device = 0;
    uint64_t inode = 0;
    int64_t offset = 0;

    friend bool operator==(const PageKey& a, const PageKey& b) noexcept {
        return a.device == b.device && a.inode == b.inode && a.offset == b.offset;
    }
};

// PageVersion
//
// Which version of those bytes, from fstat of the fd: an in-place rewrite
// changes the size or mtime; one that puts mtime back still changes ctime.
struct PageVersion {
    int64_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;

    friend bool operator==(const PageVersion& a, const PageVersion& b) noexcept {
        return a.size == b.size && a.mtime_ns == b.mtime_ns && a.ctime_ns == b.ctime_ns;
    }
};

// PageCacheLimits
//
// The bounds; a page over max_page_bytes is never cached (it streams).
struct PageCacheLimits {
    size_t max_entries = 128;
    size_t max_bytes = 32 * 1024 * 1024;
    size_t max_page_bytes = 1024 * 1024;
    size_t max_layouts_per_page = 16;
    // Rendered bodies kept per layout (rendered.h); 0: every replay leaves memory.
    size_t max_rendered_per_layout = 4;
    // Rendered bodies kept in all: each holds an open file descriptor.
    size_t max_rendered_files = 64;
};

// Page
//
// One file version's body bytes; immutable.
struct Page {
    PageVersion version;
    std::string bytes;
};

// PageCache
//
// Not thread-safe: one per worker. Never throws; allocation failures make it
// answer "not cached", and the caller streams the response instead.
//
// Example:
//   PageCache cache({});
//   auto page = cache.find(key, version);
//   if (!page) page = cache.insert(key, version, std::move(bytes));
//   auto layout = cache.layout(key, page, fills, n, injection);
//   for (const LayoutPiece& piece : layout->pieces())
//       send(layout->resolve(piece, page->bytes, fills, n, injection));
class PageCache {
  public:
    explicit PageCache(PageCacheLimits limits) noexcept : limits_(limits) {}

    // find
    //
    // The cached page for `key` if it has `version`; a stale entry is dropped.
    [[nodiscard]] std::shared_ptr<const Page> find(const PageKey& key,
                                                   const PageVersion& version) noexcept;

    // insert
    //
    // Keeps `bytes` as the page for (key, version), evicting the least
    // recently used entries beyond the bounds. Null when the page is over
    // max_page_bytes or the byte budget, or memory runs out.
    [[nodiscard]] std::shared_ptr<const Page> insert(const PageKey& key, const PageVersion& version,
                                                     std::string bytes) noexcept;

    // erase
    //
    // Drops the entry for `key`, if any (a proxied page found stale).
    void erase(const PageKey& key) noexcept;

    // layout
    //
    // The layout of `page` for these fills and injection: cached with the
    // page when one with the same fill signature was recorded before,
    // otherwise recorded now (and kept while the page has room for more).
    // Null only when recording fails.
    [[nodiscard]] std::shared_ptr<const PageLayout> layout(const PageKey& key,
                                                           const std::shared_ptr<const Page>& page,
                                                           const SlotFill* fills, size_t count,
                                                           std::string_view injection) noexcept;

    // RenderedLookup
    //
    // rendered()'s answer: the body to send as a file (null: replay from memory), whether
    // it was written by this call, and, when writing failed, the errno (0: memory).
    struct RenderedLookup {
        std::shared_ptr<const RenderedPage> body;
        bool written = false;
        bool failed = false;
        bool declined = false;  // seen twice, but the layout's files do not pay for a new one
        int error = 0;
    };

    // rendered
    //
    // The rendered body of `page` for `content`, whose layout must be one layout() keeps
    // for this page. The second time the same content comes under that layout, the body is
    // written to an unlinked file in `dir` and kept (at most max_rendered_per_layout per
    // layout, the oldest replaced, all within the byte budget): a body seen once is never
    // written, so visitors whose fills are their own cost a hash and no file. The body
    // replaced at the cap is the least recently used. Nothing is written that the byte
    // budget could not keep. At max_rendered_files, the least recently used file of any
    // layout of any page makes room once it has gone unused for kIdleLookups lookups per file
    // the cache may keep: pages loaded twice and never again do not keep a busy page's file
    // out, and pages in turn, more than the cap, do not replace each other's files forever.
    //
    // A file pays for itself only if it is sent many times: writing one cost about 0.5 ms of
    // a worker's CPU in bench/http/run's visitors row, and a send from a file costs more CPU
    // than one from memory (it buys the tail: docs/directives.md). So past a layout's first
    // kFreeRenders files, a new one is written only while the layout's files have been sent
    // kSendsPerRender times for each file written (both counts halved every kRenderWindow
    // files, and every kSendWindow sends, so they follow what the layout's visitors do now:
    // sends banked long ago pay for kSendWindow / kSendsPerRender files at most); otherwise
    // the body is `declined` and sent from memory, but for one in kProbeEvery, which is
    // written and must earn its sends. Many visitors whose bodies come back, but not often (a
    // product each, a shop's worth of them), would otherwise write a file for nearly every second
    // sighting and evict it after a few sends.
    static constexpr uint32_t kFreeRenders = 8;
    static constexpr uint32_t kSendsPerRender = 64;
    static constexpr uint32_t kRenderWindow = 256;
    static constexpr uint32_t kSendWindow = 2048;
    static constexpr uint32_t kProbeEvery = 64;
    static constexpr uint64_t kIdleLookups = 16;
    [[nodiscard]] RenderedLookup rendered(const PageKey& key,
                                          const std::shared_ptr<const Page>& page,
                                          const RenderedContent& content,
                                          std::string_view dir) noexcept;

    [[nodiscard]] size_t entries() const noexcept { return lru_.size(); }
    [[nodiscard]] size_t rendered_files() const noexcept { return rendered_files_; }
    [[nodiscard]] size_t bytes() const noexcept { return bytes_; }

  private:
    static constexpr size_t kSeen = 8;
    struct KeptBody {
        std::shared_ptr<const RenderedPage> body;
        uint64_t used = 0;  // clock_ when last written or sent
    };
    struct LayoutEntry {
        std::string signature;
        std::shared_ptr<const PageLayout> layout;
        std::vector<KeptBody> rendered;  // most recently used first
        uint64_t seen[kSeen] = {};       // hashes of content seen once under this layout (0: none)
        size_t next_seen = 0;
        uint32_t renders = 0;   // files written (halved with sends)
        uint32_t sends = 0;     // responses sent from those files (halved with renders)
        uint32_t declined = 0;  // writes declined since the last probe
        void count_send() noexcept {
            if (++sends >= kSendWindow) {
                age();
            }
        }
        void count_render() noexcept {
            if (++renders >= kRenderWindow) {
                age();
            }
        }
        void age() noexcept {  // both halved: the ratio kept, the past weighed less
            renders /= 2;
            sends /= 2;
        }
    };
    struct Entry {
        PageKey key;
        std::shared_ptr<const Page> page;
        std::vector<LayoutEntry> layouts;
        size_t bytes = 0;
    };
    using List = std::list<Entry>;

    [[nodiscard]] List::iterator locate(const PageKey& key) noexcept;
    void evict(List::iterator it) noexcept;
    void trim(size_t incoming) noexcept;
    // The layout whose least recently used file is the least recently used of all (null when
    // no file is kept), and its entry.
    [[nodiscard]] LayoutEntry* oldest_rendered(List::iterator* entry) noexcept;

    PageCacheLimits limits_;
    size_t bytes_ = 0;
    size_t rendered_files_ = 0;
    uint64_t clock_ = 0;  // a tick per rendered() lookup
    List lru_;            // most recent first; a page set is small, so a list walk is the index
};

}  // namespace tailor
