// Proxied pages in the page cache: a body that arrives in memory buffers (proxy_pass,
// fastcgi_pass, ...) replayed from the worker's copy once it is known to be the same bytes.
//
// A proxied body cannot be checked with fstat like a file. What names its
// version is the upstream's strong ETag with its Content-Length (RFC 9110
// 8.8.3: a strong validator changes whenever the bytes do); what proves it is
// the bytes themselves. So a proxied page is kept under (scope, path, ETag,
// length) once it has been seen twice (an ETag that never repeats never costs
// a copy), and a later response with the same identity is compared byte for
// byte as it arrives (PageMatch): about memcmp's speed where the rewriter's
// scan is a tokenizer's. Only a body found equal to the end is replayed from
// the recorded layout; one that differs anywhere (an upstream that kept the
// ETag across a change) is handed to the streaming rewriter from its first
// byte, so the client gets exactly the streaming path's page either way.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tailor/page/cache.h"

namespace tailor {

// The device of every proxied page's key: no file system has it.
inline constexpr uint64_t kProxiedPageDevice = ~uint64_t{0};

// is_strong_etag
//
// `"..."`: a strong entity tag. A weak one (`W/"..."`) promises only
// equivalent content, not the same bytes, and is never used.
[[nodiscard]] bool is_strong_etag(std::string_view etag) noexcept;

// proxied_page_key
//
// The cache key of a proxied page: `scope` (the server block, so two sites
// never share a page), the request's path (no arguments), the ETag and the
// declared length, hashed. Two pages that share a key are told apart by the
// byte comparison, at the cost of a miss.
[[nodiscard]] PageKey proxied_page_key(uint64_t scope, std::string_view path, std::string_view etag,
                                       int64_t length) noexcept;

// The version a proxied page is kept with: its length (the ETag is in the key).
[[nodiscard]] inline PageVersion proxied_page_version(int64_t length) noexcept {
    return PageVersion{length, 0, 0};
}

// PageSightings
//
// Which proxied keys were seen lately: a direct-mapped set of key hashes.
// A page is copied into the cache on its second sighting, so a stream of
// ETags that never repeat (a per-response hash) leaves the cache alone.
class PageSightings {
  public:
    // True when `key` was the last key seen in its slot; records it either way.
    [[nodiscard]] bool seen_before(const PageKey& key) noexcept;

  private:
    std::array<uint64_t, 256> slots_{};
};

// PageCapture
//
// A proxied body's bytes as they arrive, kept up to the declared length.
class PageCapture {
  public:
    // Reserves `length` bytes; false when memory runs out.
    [[nodiscard]] bool start(size_t length) noexcept;

    // Appends `bytes`; false (and the capture is abandoned) past the length.
    [[nodiscard]] bool append(std::string_view bytes) noexcept;

    [[nodiscard]] bool complete() const noexcept {
        return length_ != 0 && bytes_.size() == length_;
    }

    // The bytes; the capture is empty afterwards.
    [[nodiscard]] std::string take() noexcept { return std::move(bytes_); }

  private:
    std::string bytes_;
    size_t length_ = 0;
};

// PageMatch
//
// Compares a body, as it arrives, with a cached page.
//
// Example:
//   PageMatch match(page->bytes);
//   for (each buffer b)
//       switch (match.feed(b)) { case kMismatch: stream from match.matched(); ... }
class PageMatch {
  public:
    enum class Step : uint8_t {
        kMatching,  // equal so far, more to come
        kComplete,  // equal, and the whole page has arrived
        kMismatch,  // these bytes differ or run past the page: nothing of them counted
    };

    explicit PageMatch(std::string_view page) noexcept : page_(page) {}

    [[nodiscard]] Step feed(std::string_view bytes) noexcept;

    // The bytes found equal so far: the page's prefix the body has proved.
    [[nodiscard]] size_t matched() const noexcept { return matched_; }
    [[nodiscard]] bool complete() const noexcept { return matched_ == page_.size(); }

  private:
    std::string_view page_;
    size_t matched_ = 0;
};

}  // namespace tailor
