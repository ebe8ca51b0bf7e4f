#include "tailor/profile/cache.h"

#include <utility>

namespace tailor {

const StoredVisitor* ProfileCache::get(std::string_view vid, int64_t now_ms) {
    auto found = index_.find(vid);
    if (found == index_.end()) {
        return nullptr;
    }
    List::iterator it = found->second;
    if (now_ms - it->stored_at_ms >= ttl_ms_ || now_ms < it->stored_at_ms) {
        erase(it);
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it);
    return &it->data;
}

void ProfileCache::put(std::string_view vid, StoredVisitor data, int64_t now_ms) {
    erase(vid);
    if (max_entries_ == 0 || data.size() + vid.size() > max_bytes_) {
        return;
    }
    lru_.push_front(Entry{std::string(vid), std::move(data), now_ms});
    bytes_ += lru_.front().data.size() + lru_.front().vid.size();
    index_.emplace(lru_.front().vid, lru_.begin());

    while (index_.size() > max_entries_ || bytes_ > max_bytes_) {
        erase(std::prev(lru_.end()));
    }
}

void ProfileCache::erase(std::string_view vid) noexcept {
    auto found = index_.find(vid);
    if (found != index_.end()) {
        erase(found->second);
    }
}

void ProfileCache::erase(List::iterator it) noexcept {
    bytes_ -= it->data.size() + it->vid.size();
    index_.erase(it->vid);
    lru_.erase(it);
}

}  // namespace tailor
