#include "tailor/page/cache.h"

namespace tailor {

PageCache::List::iterator PageCache::locate(const PageKey& key) noexcept {
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
        if (it->key == key) {
            return it;
        }
    }
    return lru_.end();
}

void PageCache::evict(List::iterator it) noexcept {
    bytes_ -= it->bytes;
    lru_.erase(it);  // responses still holding the page or a layout keep them alive
}

void PageCache::trim(size_t incoming) noexcept {
    while (!lru_.empty() &&
           (lru_.size() >= limits_.max_entries || bytes_ + incoming > limits_.max_bytes)) {
        evict(std::prev(lru_.end()));
    }
}

std::shared_ptr<const Page> PageCache::find(const PageKey& key,
                                            const PageVersion& version) noexcept {
    auto it = locate(key);
    if (it == lru_.end()) {
        return nullptr;
    }
    if (!(it->page->version == version)) {
        evict(it);
        return nullptr;
    }
    lru_.splice(lru_.begin(), lru_, it);
    return it->page;
}

std::shared_ptr<const Page> PageCache::insert(const PageKey& key, const PageVersion& version,
                                              std::string bytes) noexcept {
    const size_t size = bytes.size();
    if (size > limits_.max_page_bytes || size > limits_.max_bytes || limits_.max_entries == 0) {
        return nullptr;
    }
    try {
        auto page = std::make_shared<const Page>(Page{version, std::move(bytes)});
        auto old = locate(key);
        if (old != lru_.end()) {
            evict(old);
        }
        trim(size);
        Entry entry;
        entry.key = key;
        entry.page = page;
        entry.bytes = size;
        lru_.push_front(std::move(entry));
        bytes_ += size;
        return page;
    } catch (...) {
        return nullptr;
    }
}

void PageCache::erase(const PageKey& key) noexcept {
    auto it = locate(key);
    if (it != lru_.end()) {
        evict(it);
    }
}

std::shared_ptr<const PageLayout> PageCache::layout(const PageKey& key,
                                                    const std::shared_ptr<const Page>& page,
                                                    const SlotFill* fills, size_t count,
                                                    std::string_view injection) noexcept {
    if (!page) {
        return nullptr;
    }
    try {
        std::string signature = fill_signature(fills, count, injection);
        auto it = locate(key);
        const bool cached = it != lru_.end() && it->page == page;
        if (cached) {
            for (const auto& [sig, layout] : it->layouts) {
                if (sig == signature) {
                    return layout;
                }
            }
        }
        std::optional<PageLayout> recorded =
            PageLayout::record(page->bytes, fills, count, injection);
        if (!recorded) {
            return nullptr;
        }
        auto layout = std::make_shared<const PageLayout>(std::move(*recorded));
        const size_t footprint = layout->footprint() + signature.capacity();
        if (cached && !layout->content_specific() &&
            it->layouts.size() < limits_.max_layouts_per_page &&
            bytes_ + footprint <= limits_.max_bytes) {
            it->layouts.emplace_back(std::move(signature), layout);
            it->bytes += footprint;
            bytes_ += footprint;
        }
        return layout;
    } catch (...) {
        return nullptr;
    }
}

}  // namespace tailor
