// ProfileReference: the msgpack-c profile decoder, kept for tests (reference_decode.h).
//
// Three steps per blob:
//   1. scan_msgpack_blob (scan.h) walks the encoding once, building
//      nothing, refuses what would hurt msgpack-c (lying lengths, deep
//      nesting) and says how much zone memory the parse takes.
//   2. msgpack_unpack into a zone sized from the scan (one malloc, freed
//      before returning). Its STR/BIN objects point into the input buffer,
//      never into the zone, so the Profile can keep them after the zone dies.
//   3. The object tree is read field by field into the Profile
//      (decode_fields.cpp).
#include "tailor/profile/reference_decode.h"

#include "tailor/profile/reference_reader.h"
#include "tailor/profile/scan.h"

#include <msgpack.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <new>
#include <utility>

namespace tailor {

namespace {

using namespace msgpackc_reference;

constexpr size_t kZoneSlack = 64;

bool is_map_header(unsigned char b) noexcept {
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

// ParsedBlob: steps 1 and 2; owns the zone the object tree lives in.
class ParsedBlob {
  public:
    ParsedBlob() noexcept = default;
    ParsedBlob(const ParsedBlob&) = delete;
    ParsedBlob& operator=(const ParsedBlob&) = delete;
    ~ParsedBlob() {
        if (zone_ready_) {
            msgpack_zone_destroy(&zone_);
        }
    }

    ProfileError open(std::string_view bytes, const ProfileLimits& limits) noexcept {
        const size_t max_bytes = std::min(limits.max_bytes, kMaxProfileBytesLimit);
        const size_t max_depth = std::min(limits.max_depth, kMaxProfileDepth);
        if (bytes.size() > max_bytes) {
            return ProfileError::kTooLarge;
        }
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        if (bytes.empty() || !is_map_header(p[0])) {
            return ProfileError::kNotAMap;
        }
        const BlobScan scan = scan_msgpack_blob(bytes, max_depth);
        if (scan.error != ProfileError::kNone) {
            return scan.error;
        }
        if (!msgpack_zone_init(&zone_, scan.zone_bytes + kZoneSlack)) {
            return ProfileError::kNoMemory;
        }
        zone_ready_ = true;
        size_t off = 0;
        const msgpack_unpack_return rc =
            msgpack_unpack(bytes.data(), bytes.size(), &off, &zone_, &root_);
        if (rc == MSGPACK_UNPACK_NOMEM_ERROR) {
            return ProfileError::kNoMemory;
        }
        // The scan accepted exactly one complete value, so anything but
        // success means msgpack-c and the scan disagree: refuse, do not guess.
        if (rc != MSGPACK_UNPACK_SUCCESS || off != bytes.size()) {
            return ProfileError::kMalformed;
        }
        if (root_.type != MSGPACK_OBJECT_MAP) {
            return ProfileError::kNotAMap;
        }
        return check_version();
    }

    const msgpack_object_map& root() const noexcept { return root_.via.map; }
    int64_t version() const noexcept { return version_; }

  private:
    // A `v` that is not an integer is a wrong-typed field like any other
    // (ignored, so schema 1); an integer outside 1..kProfileSchemaVersion
    // means a writer changed what fields mean, so nothing here can be trusted.
    ProfileError check_version() noexcept {
        const msgpack_object_map& m = root_.via.map;
        for (uint32_t i = 0; i < m.size; ++i) {
            if (key_of(m.ptr[i]) != "v") {
                continue;
            }
            const msgpack_object& v = m.ptr[i].val;
            if (v.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                if (v.via.u64 < 1 || v.via.u64 > static_cast<uint64_t>(kProfileSchemaVersion)) {
                    return ProfileError::kUnsupportedVersion;
                }
                version_ = static_cast<int64_t>(v.via.u64);
            } else if (v.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
                return ProfileError::kUnsupportedVersion;
            }
        }
        return ProfileError::kNone;
    }

    msgpack_zone zone_{};
    bool zone_ready_ = false;
    msgpack_object root_{};
    int64_t version_ = kProfileSchemaVersion;
};

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
void merge_viewed(Reader& rd, std::vector<ViewedItem>* shop, const std::vector<ViewedItem>& live) {
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
        const bool seen =
            std::any_of(all.begin(), end, [&](const ViewedItem& o) { return o.sku == all[i].sku; });
        if (seen) {
            continue;
        }
        if (kept == kMaxViewed) {
            rd.count_over_limit();
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
void merge_live_orders(Profile* p, SharedParts* live) {
    if (live->last_order_at > p->last_order_at) {
        p->last_order_at = live->last_order_at;
        p->orders_count = std::max<int64_t>(p->orders_count, 1);
    }
    if (live->purchased.empty()) {
        return;
    }
    std::vector<Purchase> all = std::move(live->purchased);
    all.reserve(std::min(all.size() + p->purchases.size(), kMaxPurchases));
    for (const Purchase& line : p->purchases) {
        if (all.size() == kMaxPurchases) {
            break;
        }
        all.push_back(line);
    }
    p->purchases = std::move(all);
}

ProfileDecodeResult decode(std::string_view profile_bytes, std::string_view live_bytes,
                           const ProfileLimits& limits) {
    ProfileDecodeResult r;
    Reader rd(&r.stats);
    Profile p;
    SharedParts shop;
    SharedParts live;
    if (!profile_bytes.empty()) {
        ParsedBlob blob;
        r.error = blob.open(profile_bytes, limits);
        if (r.error != ProfileError::kNone) {
            return r;
        }
        p.version = blob.version();
        read_shop(rd, blob.root(), &p, &shop);
        p.has_shop_profile = true;
    }
    if (!live_bytes.empty()) {
        ParsedBlob blob;
        r.live_error = blob.open(live_bytes, limits);
        if (r.live_error == ProfileError::kNone) {
            read_live(rd, blob.root(), &p, &live);
            p.has_live = true;
        }
    }
    p.first_seen = earliest_known(shop.first_seen, live.first_seen);
    merge_viewed(rd, &shop.viewed, live.viewed);
    p.viewed = std::move(shop.viewed);
    // The cart is a snapshot, not a log: take one side whole. The module sees
    // add-to-cart pages as they happen, the shop sees checkouts; whichever
    // snapshot is newer wins, the shop's on a tie.
    const bool use_live_cart = live.has_cart && (!shop.has_cart || live.cart_at > shop.cart_at);
    SharedParts& cart_side = use_live_cart ? live : shop;
    p.cart = std::move(cart_side.cart);
    p.cart_at = cart_side.cart_at;
    merge_live_orders(&p, &live);
    r.profile = std::move(p);
    return r;
}

}  // namespace

ProfileDecodeResult decode_profile_reference(std::string_view profile_bytes,
                                             std::string_view live_bytes,
                                             const ProfileLimits& limits) noexcept {
    try {
        return decode(profile_bytes, live_bytes, limits);
    } catch (...) {  // only std::bad_alloc can get here; fail open
        ProfileDecodeResult r;
        r.error = ProfileError::kNoMemory;
        return r;
    }
}

ProfileError check_profile_blob_reference(std::string_view bytes,
                                          const ProfileLimits& limits) noexcept {
    if (bytes.empty()) {
        return ProfileError::kNone;
    }
    ParsedBlob blob;
    return blob.open(bytes, limits);
}

}  // namespace tailor
