// RenderedPage: a replayed page's whole body, fills included, written once to an unlinked file.
//
// A replay (layout.h) leaves memory in one writev. On loopback that send has a p99 tail over a
// millisecond above sendfile's, plain nginx's own with sendfile off as much as Tailor's
// (docs/benchmarks.md, "The cookie-less tail"). When the same fills come back under one layout
// (every visitor without a cookie gets the rules' memoized fills; a segment's visitors get
// theirs), the body is the same bytes each time. Written once to a file, it leaves as a static
// file does: one sendfile. The file is unlinked from birth (O_TMPFILE), so a crash leaves
// nothing behind; it lives while the page cache or a response still holds it.
//
// For an HTTP/1.1 response without a length the chunked framing is in the file (one chunk and
// the last-chunk): the framing nginx's chunked filter would add is one more small write after
// the sendfile, and that write brought back a worse tail than the one this removes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_fill.h"
#include "tailor/page/layout.h"

namespace tailor {

// RenderedContent
//
// What decides a rendered body besides the page and its layout: the text of each fill the
// layout names, the injection, and whether the body carries chunked framing.
struct RenderedContent {
    const PageLayout* layout = nullptr;
    const SlotFill* fills = nullptr;
    size_t count = 0;
    std::string_view injection;
    bool chunked = false;

    // A hash of all of the above but the layout (a rendered body is kept with its layout).
    [[nodiscard]] uint64_t hash() const noexcept;
};

// RenderedPage
//
// Immutable once written; shared by the page cache and the responses sending it.
//
// Example:
//   RenderedContent content{layout.get(), fills, n, injection, r->chunked};
//   auto body = RenderedPage::write("/var/lib/nginx/body", page->bytes, content);
//   if (body && body->same(content)) send_file(body->fd(), body->size());
class RenderedPage {
  public:
    RenderedPage(const RenderedPage&) = delete;
    RenderedPage& operator=(const RenderedPage&) = delete;
    ~RenderedPage();

    // write
    //
    // Writes the body of `page` replayed with `content` to a new unlinked file in `dir`.
    // Null when the file cannot be made or written (no O_TMPFILE on that file system, no
    // space, out of memory); `*error` (optional) then holds the errno, 0 for memory.
    [[nodiscard]] static std::shared_ptr<const RenderedPage> write(std::string_view dir,
                                                                   std::string_view page,
                                                                   const RenderedContent& content,
                                                                   int* error = nullptr) noexcept;

    // True when `content` renders to this very body.
    [[nodiscard]] bool same(const RenderedContent& content) const noexcept;

    [[nodiscard]] int fd() const noexcept { return fd_; }
    [[nodiscard]] size_t size() const noexcept { return size_; }  // framing included
    [[nodiscard]] uint64_t hash() const noexcept { return hash_; }

    // The bytes this body holds in the page cache's budget: the file and what same() keeps.
    [[nodiscard]] size_t footprint() const noexcept;

    // footprint() of the body `content` would render to, before writing it.
    [[nodiscard]] static size_t footprint_of(std::string_view page,
                                             const RenderedContent& content) noexcept;

  private:
    RenderedPage() = default;

    int fd_ = -1;
    size_t size_ = 0;
    uint64_t hash_ = 0;
    bool chunked_ = false;
    std::vector<std::string> texts_;  // each named fill's text, in fill_names() order
    std::string injection_;
};

}  // namespace tailor
