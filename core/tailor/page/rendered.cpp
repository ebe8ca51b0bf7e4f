#include "tailor/page/rendered.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <functional>

namespace tailor {
namespace {

constexpr std::string_view kLastChunk = "\r\n0\r\n\r\n";

// Writes the chunk-size line of a `body`-byte chunk into `head`; returns its length.
size_t chunk_head(char (&head)[24], size_t body) noexcept {
    return static_cast<size_t>(std::snprintf(head, sizeof head, "%zx\r\n", body));
}

uint64_t mix(uint64_t h, uint64_t v) noexcept {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

uint64_t hash_text(std::string_view s) noexcept {
    return static_cast<uint64_t>(std::hash<std::string_view>{}(s)) ^ s.size();
}

// Writes every byte of `iov` (advanced in place); false on an error, errno kept.
bool write_all(int fd, std::vector<iovec>* iov) noexcept {
    size_t at = 0;
    while (at < iov->size()) {
        const int n = static_cast<int>(std::min<size_t>(iov->size() - at, IOV_MAX));
        ssize_t wrote = ::writev(fd, iov->data() + at, n);
        if (wrote < 0) {
            if (errno == EINTR) {
                continue;
            }
            return false;
        }
        if (wrote == 0) {
            errno = EIO;
            return false;
        }
        auto left = static_cast<size_t>(wrote);
        while (at < iov->size() && left >= (*iov)[at].iov_len) {
            left -= (*iov)[at].iov_len;
            ++at;
        }
        if (left > 0) {
            (*iov)[at].iov_base = static_cast<char*>((*iov)[at].iov_base) + left;
            (*iov)[at].iov_len -= left;
        }
    }
    return true;
}

}  // namespace

uint64_t RenderedContent::hash() const noexcept {
    uint64_t h = chunked ? 0x63 : 0x70;
    if (layout != nullptr) {
        for (size_t i = 0; i < layout->fill_names().size(); ++i) {
            h = mix(h, hash_text(layout->fill_text(i, fills, count)));
        }
    }
    return mix(h, hash_text(injection));
}

RenderedPage::~RenderedPage() {
    if (fd_ != -1) {
        ::close(fd_);
    }
}

std::shared_ptr<const RenderedPage> RenderedPage::write(std::string_view dir, std::string_view page,
                                                        const RenderedContent& content,
                                                        int* error) noexcept {
    auto fail = [error](int e) -> std::shared_ptr<const RenderedPage> {
        if (error != nullptr) {
            *error = e;
        }
        return nullptr;
    };
    if (content.layout == nullptr) {
        return fail(0);
    }
    const PageLayout& layout = *content.layout;
    try {
        std::shared_ptr<RenderedPage> body(new RenderedPage());
        body->chunked_ = content.chunked;
        body->hash_ = content.hash();
        body->injection_.assign(content.injection);
        body->texts_.reserve(layout.fill_names().size());
        for (size_t i = 0; i < layout.fill_names().size(); ++i) {
            body->texts_.emplace_back(layout.fill_text(i, content.fills, content.count));
        }

        std::vector<iovec> iov;
        iov.reserve(layout.pieces().size() + 2);
        char head[24];
        iov.push_back({head, 0});
        size_t size = 0;
        for (const LayoutPiece& piece : layout.pieces()) {
            std::string_view bytes =
                layout.resolve(piece, page, content.fills, content.count, content.injection);
            if (!bytes.empty()) {
                iov.push_back({const_cast<char*>(bytes.data()), bytes.size()});
                size += bytes.size();
            }
        }
        if (size == 0) {
            return fail(0);  // an empty chunk would end the body: the caller replays it
        }
        if (content.chunked) {
            iov[0].iov_len = chunk_head(head, size);
            iov.push_back({const_cast<char*>(kLastChunk.data()), kLastChunk.size()});
            size += iov[0].iov_len + kLastChunk.size();
        }

        const std::string path(dir);
        body->fd_ = ::open(path.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (body->fd_ == -1) {
            return fail(errno);
        }
        if (!write_all(body->fd_, &iov)) {
            return fail(errno);  // the destructor closes the file, which goes with it
        }
        body->size_ = size;
        return body;
    } catch (...) {
        return fail(0);
    }
}

bool RenderedPage::same(const RenderedContent& content) const noexcept {
    if (content.layout == nullptr || content.chunked != chunked_ ||
        content.injection != injection_ || content.layout->fill_names().size() != texts_.size()) {
        return false;
    }
    for (size_t i = 0; i < texts_.size(); ++i) {
        if (content.layout->fill_text(i, content.fills, content.count) != texts_[i]) {
            return false;
        }
    }
    return true;
}

size_t RenderedPage::footprint_of(std::string_view page, const RenderedContent& content) noexcept {
    if (content.layout == nullptr) {
        return 0;
    }
    const PageLayout& layout = *content.layout;
    size_t body = 0;
    for (const LayoutPiece& piece : layout.pieces()) {
        body += layout.resolve(piece, page, content.fills, content.count, content.injection).size();
    }
    size_t n = sizeof(RenderedPage) + body + content.injection.size();
    if (content.chunked) {
        char head[24];
        n += chunk_head(head, body) + kLastChunk.size();
    }
    for (size_t i = 0; i < layout.fill_names().size(); ++i) {
        n += sizeof(std::string) + layout.fill_text(i, content.fills, content.count).size();
    }
    return n;
}

size_t RenderedPage::footprint() const noexcept {
    size_t n = sizeof(RenderedPage) + size_ + injection_.size();
    for (const std::string& text : texts_) {
        n += sizeof(std::string) + text.size();
    }
    return n;
}

}  // namespace tailor
