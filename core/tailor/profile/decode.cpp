// ProfileDecode: bounded, zero-copy MessagePack decoding of the profile and live blobs, one pass.
//
// Each blob is read once, front to back, through the bounded cursor
// (decode_cursor.h): fields go straight into the Profile as string_views
// into the blob, containers are checked (lengths, depth, counts, the tree
// size msgpack-c would have built) as they are met, and values this schema
// does not read are passed with the same checks. No tree, no zone; the only
// allocations are the Profile's own lists, reserved from their headers.
//
// Until issue 12 the blob was scanned (scan.h), unpacked by msgpack-c and
// its tree walked; that path is kept as reference_decode.h, and
// tests/fuzz/profile_fuzz.cpp holds this one to its results on every input.
#include "tailor/profile/decode.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>

#include "tailor/profile/decode_cursor.h"

namespace tailor {

namespace {

using namespace profile_detail;

bool is_map_header(unsigned char b) noexcept {
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

// Reads one blob's top-level map, handing each key to read_pair, which
// reads its value. The checks come in the old path's order: size, a map at
// the top, then the first structural fault in byte order, bytes after the
// map, and only then the version.
template <typename ReadPair>
ProfileError read_blob(std::string_view bytes, const ProfileLimits& limits,
                       ProfileDecodeStats* stats, int64_t* version, ReadPair&& read_pair) {
    const size_t max_bytes = std::min(limits.max_bytes, kMaxProfileBytesLimit);
    const size_t max_depth = std::min(limits.max_depth, kMaxProfileDepth);
    if (bytes.size() > max_bytes) {
        return ProfileError::kTooLarge;
    }
    if (bytes.empty() || !is_map_header(static_cast<unsigned char>(bytes[0]))) {
        return ProfileError::kNotAMap;
    }
    Cursor c(bytes, max_depth, stats);
    MsgpackHead top;
    bool ok = c.head(&top) && c.open(top, 1);
    for (uint64_t i = 0; ok && i < top.u; ++i) {
        std::string_view k;
        ok = c.key(2, &k) && read_pair(c, k);
    }
    if (!ok) {
        return c.error();
    }
    if (!c.at_end()) {
        return ProfileError::kMalformed;  // bytes after the top value
    }
    if (c.version_refused()) {
        return ProfileError::kUnsupportedVersion;
    }
    *version = c.version();
    return ProfileError::kNone;
}

int64_t earliest_known(int64_t a, int64_t b) noexcept {
    if (a == 0) {
        return b;
    }
    return b == 0 ? a : std::min(a, b);
}

// Both sides' recently viewed, one entry per sku (the latest view), most
// recent first, capped. In place: an insertion sort is stable, allocates
// nothing (std::stable_sort takes a buffer) and is linear on lists writers
// already keep newest first; n is at most 2 * kMaxViewed.
void merge_viewed(ProfileDecodeStats* stats, std::vector<ViewedItem>* shop,
                  const std::vector<ViewedItem>& live) {
    std::vector<ViewedItem>& all = *shop;
    all.insert(all.end(), live.begin(), live.end());
    for (size_t i = 1; i < all.size(); ++i) {
        const ViewedItem item = all[i];
        size_t j = i;
        for (; j > 0 && all[j - 1].at < item.at; --j) {
            all[j] = all[j - 1];
        }
        all[j] = item;
    }
    size_t kept = 0;
    for (size_t i = 0; i < all.size(); ++i) {
        const auto end = all.begin() + static_cast<std::ptrdiff_t>(kept);
        const bool seen = std::any_of(
            all.begin(), end, [&](const ViewedItem& o) { return same_text(o.sku, all[i].sku); });
        if (seen) {
            continue;
        }
        if (kept == kMaxViewed) {
            ++stats->over_limit;
            continue;
        }
        all[kept++] = all[i];
    }
    all.resize(kept);
}

// An order the module recorded (live `purchased`, `last_order_at`) counts at
// once, before the shop's backend rewrites the profile: its products go first
// in `purchases` (so they are never recommended, even with the shop's list
// full), its time moves `last_order_at` (recency, "just purchased"), and a
// visitor with no order on the shop's side has one (the lifecycle stage).
// The count is not raised beyond that: the shop's own write may already hold
// this order, and counting it twice would make a buyer a repeat buyer.
void merge_live_orders(Profile* p, LiveParts* live) {
    if (live->last_order_at > p->last_order_at) {
        p->last_order_at = live->last_order_at;
        p->orders_count = std::max<int64_t>(p->orders_count, 1);
    }
    if (live->purchased.empty()) {
        return;
    }
    std::vector<Purchase>& all = live->purchased;
    all.reserve(std::min(all.size() + p->purchases.size(), kMaxPurchases));
    for (const Purchase& line : p->purchases) {
        if (all.size() == kMaxPurchases) {
            break;
        }
        all.push_back(line);
    }
    p->purchases.swap(all);  // swapped, not moved: a reused decoder keeps both lists' room
}

// Clears `v` and keeps its room.
template <typename T>
void keep_room(std::vector<T>* v, std::vector<T>* from) noexcept {
    v->swap(*from);
    v->clear();
}

// Every field back to its default, every list empty with its room kept.
void reset(SharedParts* s) noexcept {
    SharedParts fresh;
    keep_room(&fresh.viewed, &s->viewed);
    keep_room(&fresh.cart, &s->cart);
    *s = std::move(fresh);
}

void reset(LiveParts* live) noexcept {
    LiveParts fresh;
    reset(&live->shared);
    fresh.shared = std::move(live->shared);
    keep_room(&fresh.purchased, &live->purchased);
    *live = std::move(fresh);
}

void reset(Profile* p) noexcept {
    Profile fresh;
    keep_room(&fresh.affinities, &p->affinities);
    keep_room(&fresh.purchases, &p->purchases);
    keep_room(&fresh.attributes, &p->attributes);
    keep_room(&fresh.viewed, &p->viewed);
    keep_room(&fresh.cart, &p->cart);
    *p = std::move(fresh);
}

}  // namespace

namespace profile_detail {

// The decode itself, into `s` (reset first). Lists are swapped, never moved, between the
// parts and the Profile, so a DecodeScratch used again has every list's room.
ProfileError decode_into(std::string_view profile_bytes, std::string_view live_bytes,
                         const ProfileLimits& limits, DecodeScratch* s, ProfileError* live_error,
                         ProfileDecodeStats* stats) {
    reset(&s->profile);
    reset(&s->shop);
    reset(&s->live);
    *live_error = ProfileError::kNone;
    *stats = {};
    Profile& p = s->profile;
    SharedParts& shop = s->shop;
    LiveParts& live = s->live;
    if (!profile_bytes.empty()) {
        const ProfileError error = read_blob(
            profile_bytes, limits, stats, &p.version,
            [&p, &shop](Cursor& c, std::string_view k) { return read_shop_pair(c, k, &p, &shop); });
        if (error != ProfileError::kNone) {
            *stats = {};  // a refused blob was never read
            return error;
        }
        p.has_shop_profile = true;
    }
    if (!live_bytes.empty()) {
        const ProfileDecodeStats before = *stats;
        int64_t version = kProfileSchemaVersion;  // only the shop's is kept
        *live_error = read_blob(
            live_bytes, limits, stats, &version,
            [&live](Cursor& c, std::string_view k) { return read_live_pair(c, k, &live); });
        if (*live_error == ProfileError::kNone) {
            p.visits = live.visits;
            p.last_seen = live.last_seen;
            p.acquisition = live.acquisition;
            p.has_live = true;
        } else {
            *stats = before;
            reset(&live);
        }
    }
    SharedParts& live_shared = live.shared;
    p.first_seen = earliest_known(shop.first_seen, live_shared.first_seen);
    merge_viewed(stats, &shop.viewed, live_shared.viewed);
    p.viewed.swap(shop.viewed);
    // The cart is a snapshot, not a log: take one side whole. The module sees
    // add-to-cart pages as they happen, the shop sees checkouts; whichever
    // snapshot is newer wins, the shop's on a tie.
    const bool use_live_cart =
        live_shared.has_cart && (!shop.has_cart || live_shared.cart_at > shop.cart_at);
    SharedParts& cart_side = use_live_cart ? live_shared : shop;
    p.cart.swap(cart_side.cart);
    p.cart_at = cart_side.cart_at;
    merge_live_orders(&p, &live);
    return ProfileError::kNone;
}

}  // namespace profile_detail

namespace {

ProfileDecodeResult decode(std::string_view profile_bytes, std::string_view live_bytes,
                           const ProfileLimits& limits) {
    ProfileDecodeResult r;
    profile_detail::DecodeScratch s;
    r.error =
        profile_detail::decode_into(profile_bytes, live_bytes, limits, &s, &r.live_error, &r.stats);
    if (r.error == ProfileError::kNone) {
        r.profile = std::move(s.profile);
    }
    return r;
}

}  // namespace

ProfileDecodeResult decode_profile(std::string_view profile_bytes, std::string_view live_bytes,
                                   const ProfileLimits& limits) noexcept {
    try {
        return decode(profile_bytes, live_bytes, limits);
    } catch (...) {  // only std::bad_alloc can get here; fail open
        ProfileDecodeResult r;
        r.error = ProfileError::kNoMemory;
        return r;
    }
}

ProfileDecoder::Result ProfileDecoder::decode(std::string_view profile_bytes,
                                              std::string_view live_bytes,
                                              const ProfileLimits& limits) noexcept {
    Result r;
    try {
        if (!scratch_) {
            scratch_ = std::make_unique<profile_detail::DecodeScratch>();
        }
        r.error = profile_detail::decode_into(profile_bytes, live_bytes, limits, scratch_.get(),
                                              &r.live_error, &r.stats);
    } catch (...) {  // only std::bad_alloc can get here; fail open
        r = Result();
        r.error = ProfileError::kNoMemory;
        return r;
    }
    if (r.error == ProfileError::kNone) {
        r.profile = &scratch_->profile;
    }
    return r;
}

ProfileDecoder::ProfileDecoder() noexcept = default;
ProfileDecoder::~ProfileDecoder() = default;
ProfileDecoder::ProfileDecoder(ProfileDecoder&&) noexcept = default;
ProfileDecoder& ProfileDecoder::operator=(ProfileDecoder&&) noexcept = default;

ProfileError check_profile_blob(std::string_view bytes, const ProfileLimits& limits) noexcept {
    if (bytes.empty()) {
        return ProfileError::kNone;
    }
    // The same pass as decode_profile's, into a Profile thrown away: the
    // verdict cannot drift from the decoder's.
    try {
        ProfileDecodeStats stats;
        Profile p;
        SharedParts s;
        return read_blob(
            bytes, limits, &stats, &p.version,
            [&p, &s](Cursor& c, std::string_view k) { return read_shop_pair(c, k, &p, &s); });
    } catch (...) {
        return ProfileError::kNoMemory;
    }
}

}  // namespace tailor
