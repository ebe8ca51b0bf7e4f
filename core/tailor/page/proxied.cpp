#include "tailor/page/proxied.h"

#include <cstring>
#include <functional>

namespace tailor {

bool is_strong_etag(std::string_view etag) noexcept {
    return etag.size() >= 2 && etag.front() == '"' && etag.back() == '"';
}

PageKey proxied_page_key(uint64_t scope, std::string_view path, std::string_view etag,
                         int64_t length) noexcept {
    const std::hash<std::string_view> hash;
    uint64_t h = scope * 0x9e3779b97f4a7c15ull;
    for (uint64_t part : {uint64_t{hash(path)}, uint64_t{hash(etag)}}) {
        h = (h ^ part) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    return PageKey{kProxiedPageDevice, h, length};
}

bool PageSightings::seen_before(const PageKey& key) noexcept {
    const uint64_t h = key.inode ^ static_cast<uint64_t>(key.offset) * 0x9e3779b97f4a7c15ull;
    uint64_t& slot = slots_[h % slots_.size()];
    const bool seen = slot == h;
    slot = h;
    return seen;
}

bool PageCapture::start(size_t length) noexcept {
    try {
        bytes_.clear();
        bytes_.reserve(length);
    } catch (...) {
        length_ = 0;
        return false;
    }
    length_ = length;
    return true;
}

bool PageCapture::append(std::string_view bytes) noexcept {
    if (length_ == 0 || bytes.size() > length_ - bytes_.size()) {
        length_ = 0;
        bytes_.clear();
        return false;
    }
    bytes_.append(bytes);  // within the reservation: never allocates
    return true;
}

PageMatch::Step PageMatch::feed(std::string_view bytes) noexcept {
    if (bytes.empty()) {
        return complete() ? Step::kComplete : Step::kMatching;
    }
    if (bytes.size() > page_.size() - matched_ ||
        std::memcmp(page_.data() + matched_, bytes.data(), bytes.size()) != 0) {
        return Step::kMismatch;
    }
    matched_ += bytes.size();
    return complete() ? Step::kComplete : Step::kMatching;
}

}  // namespace tailor
