// ProfileCache: a per-worker LRU of what Redis answered for a visitor, each entry short-lived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tailor/base/outcome.h"

namespace tailor {

// StoredBlobView, StoredView
//
// What Redis holds for one visitor (tailor:{vid}:profile, :live and :caps), each value absent
// or its bytes, viewed where they lie: in the read's replies (profile/read.h), or in a
// StoredVisitor. What the engine decides from.
struct StoredBlobView {
    bool present = false;
    std::string_view bytes;
};

struct StoredView {
    StoredBlobView profile;
    StoredBlobView live;
    StoredBlobView caps;
};

// StoredBlob
//
// One value: absent (Redis nil) or the bytes stored, owned.
struct StoredBlob {
    bool present = false;
    std::string bytes;

    [[nodiscard]] StoredBlobView view() const noexcept { return {present, bytes}; }
};

// StoredVisitor
//
// A StoredView's values, owned: what the profile cache keeps.
struct StoredVisitor {
    StoredBlob profile;
    StoredBlob live;
    StoredBlob caps;

    // A copy of `v`'s values. Throws std::bad_alloc.
    [[nodiscard]] static StoredVisitor copy_of(const StoredView& v) {
        return StoredVisitor{{v.profile.present, std::string(v.profile.bytes)},
                             {v.live.present, std::string(v.live.bytes)},
                             {v.caps.present, std::string(v.caps.bytes)}};
    }

    [[nodiscard]] StoredView view() const noexcept {
        return {profile.view(), live.view(), caps.view()};
    }

    [[nodiscard]] size_t size() const noexcept {
        return profile.bytes.size() + live.bytes.size() + caps.bytes.size();
    }
};

// is_cacheable_outcome
//
// Only a hit is kept in the worker cache: what Redis answered and the engine
// accepted. A miss stays uncached so a profile the shop writes a moment later
// is read on the next page; a bad profile, an error or a timeout must not
// stick for the TTL.
//
// Example:
//   is_cacheable_outcome(Outcome::kHit) == true
//   is_cacheable_outcome(Outcome::kMiss) == false
[[nodiscard]] constexpr bool is_cacheable_outcome(Outcome o) noexcept {
    return o == Outcome::kHit;
}

// ProfileCache
//
// Bounded by entry count and by total bytes; an entry older than `ttl_ms` is a
// miss (stale profiles are worse than slow ones, so the default TTL is short).
// Not thread-safe: one per worker.
//
// Example:
//   ProfileCache cache(1000, 1000);
//   cache.put("vid", std::move(data), now_ms);
//   if (const StoredVisitor* v = cache.get("vid", now_ms)) { ... }
class ProfileCache {
  public:
    static constexpr size_t kDefaultMaxBytes = 64 * 1024 * 1024;

    ProfileCache(size_t max_entries, int64_t ttl_ms, size_t max_bytes = kDefaultMaxBytes) noexcept
        : max_entries_(max_entries), ttl_ms_(ttl_ms), max_bytes_(max_bytes) {}

    // get
    //
    // The cached data for `vid`, or null when absent or expired. The pointer
    // is valid until the next put() or erase().
    [[nodiscard]] const StoredVisitor* get(std::string_view vid, int64_t now_ms);

    // put
    //
    // Stores (or replaces) `vid`'s data, evicting the least recently used
    // entries beyond the bounds. Data larger than the byte bound is not kept.
    void put(std::string_view vid, StoredVisitor data, int64_t now_ms);

    // Forgets `vid` (no-op when absent). Frees, never allocates.
    void erase(std::string_view vid) noexcept;

    [[nodiscard]] size_t entries() const noexcept { return index_.size(); }
    [[nodiscard]] size_t bytes() const noexcept { return bytes_; }

  private:
    struct Entry {
        std::string vid;
        StoredVisitor data;
        int64_t stored_at_ms;
    };
    using List = std::list<Entry>;

    void erase(List::iterator it) noexcept;

    size_t max_entries_;
    int64_t ttl_ms_;
    size_t max_bytes_;
    size_t bytes_ = 0;
    List lru_;                                                    // most recent first
    std::unordered_map<std::string_view, List::iterator> index_;  // keys view Entry::vid
};

}  // namespace tailor
