#include "tailor/page/cache.h"

#include <algorithm>

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
    for (const LayoutEntry& known : it->layouts) {
        rendered_files_ -= known.rendered.size();
    }
    lru_.erase(it);  // responses still holding the page or a layout keep them alive
}

void PageCache::trim(size_t incoming) noexcept {
    while (!lru_.empty() &&
           (lru_.size() >= limits_.max_entries || bytes_ + incoming > limits_.max_bytes)) {
        evict(std::prev(lru_.end()));
    }
}

PageCache::LayoutEntry* PageCache::oldest_rendered(List::iterator* entry) noexcept {
    LayoutEntry* oldest = nullptr;
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
        for (LayoutEntry& known : it->layouts) {
            if (!known.rendered.empty() &&
                (oldest == nullptr || known.rendered.back().used < oldest->rendered.back().used)) {
                oldest = &known;
                *entry = it;
            }
        }
    }
    return oldest;
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
            for (const LayoutEntry& known : it->layouts) {
                if (known.signature == signature) {
                    return known.layout;
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
            LayoutEntry entry;
            entry.signature = std::move(signature);
            entry.layout = layout;
            it->layouts.push_back(std::move(entry));
            it->bytes += footprint;
            bytes_ += footprint;
        }
        return layout;
    } catch (...) {
        return nullptr;
    }
}

PageCache::RenderedLookup PageCache::rendered(const PageKey& key,
                                              const std::shared_ptr<const Page>& page,
                                              const RenderedContent& content,
                                              std::string_view dir) noexcept {
    RenderedLookup out;
    if (limits_.max_rendered_per_layout == 0 || !page || content.layout == nullptr) {
        return out;
    }
    ++clock_;
    auto it = locate(key);
    if (it == lru_.end() || it->page != page) {
        return out;
    }
    auto known = std::find_if(it->layouts.begin(), it->layouts.end(), [&](const LayoutEntry& e) {
        return e.layout.get() == content.layout;
    });
    if (known == it->layouts.end()) {
        return out;  // a layout the page had no room to keep: nor for its bodies
    }
    const uint64_t hash = content.hash();
    for (auto at = known->rendered.begin(); at != known->rendered.end(); ++at) {
        if (at->body->hash() == hash && at->body->same(content)) {
            at->used = clock_;
            std::rotate(known->rendered.begin(), at, at + 1);  // most recently used first
            out.body = known->rendered.front().body;
            known->count_send();
            return out;
        }
    }
    const uint64_t mark = std::max<uint64_t>(hash, 1);  // 0 marks a free seen slot
    uint64_t* seen = std::find(std::begin(known->seen), std::end(known->seen), mark);
    if (seen == std::end(known->seen)) {
        known->seen[known->next_seen++ % kSeen] = mark;
        return out;
    }
    // Write only what pays (kSendsPerRender in the header says why), but for a probe.
    if (known->renders >= kFreeRenders &&
        static_cast<uint64_t>(known->sends) <
            static_cast<uint64_t>(kSendsPerRender) * known->renders &&
        ++known->declined % kProbeEvery != 0) {
        out.declined = true;
        return out;
    }
    // Room: this layout's least recently used file at its cap, else at the cache's cap the
    // least recently used file of all if it has gone idle, and the byte budget. Nothing is written
    // that would not be kept: a body sent once and dropped costs a file per sighting.
    LayoutEntry* victim = nullptr;
    auto victim_entry = it;
    if (known->rendered.size() >= limits_.max_rendered_per_layout) {
        victim = &*known;
    } else if (rendered_files_ >= limits_.max_rendered_files) {
        victim = oldest_rendered(&victim_entry);
        if (victim == nullptr ||
            clock_ - victim->rendered.back().used < kIdleLookups * limits_.max_rendered_files) {
            return out;  // max_rendered_files is 0, or every file kept is in use
        }
    }
    const size_t freed = victim != nullptr ? victim->rendered.back().body->footprint() : 0;
    const size_t footprint = RenderedPage::footprint_of(page->bytes, content);
    if (bytes_ - freed + footprint > limits_.max_bytes) {
        return out;
    }
    *seen = 0;

    std::shared_ptr<const RenderedPage> body =
        RenderedPage::write(dir, page->bytes, content, &out.error);
    if (!body) {
        out.failed = true;
        return out;
    }
    out.written = true;
    out.body = body;
    known->declined = 0;
    known->count_render();
    known->count_send();
    try {
        known->rendered.insert(known->rendered.begin(), KeptBody{body, clock_});
    } catch (...) {
        return out;  // not kept: this response still sends it
    }
    if (victim != nullptr) {
        victim->rendered.pop_back();  // a response still sending it keeps the file open
        victim_entry->bytes -= freed;
        bytes_ -= freed;
    } else {
        ++rendered_files_;
    }
    it->bytes += body->footprint();
    bytes_ += body->footprint();
    return out;
}

}  // namespace tailor
