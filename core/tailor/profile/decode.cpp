// ProfileDecode: bounded, zero-copy MessagePack decoding of the profile and live blobs.
//
// Three steps per blob:
//   1. scan_msgpack_blob (profile_scan.h) walks the encoding once, building
//      nothing, refuses what would hurt msgpack-c (lying lengths, deep
//      nesting) and says how much zone memory the parse takes.
//   2. msgpack_unpack into a zone sized from the scan (one malloc, freed
//      before returning). Its STR/BIN objects point into the input buffer,
//      never into the zone, so the Profile can keep them after the zone dies.
//   3. The object tree is read field by field into the Profile.
#include "tailor/profile/profile.h"
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

constexpr size_t kZoneSlack = 64;
constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();

bool is_map_header(unsigned char b) noexcept {
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

std::string_view as_view(const msgpack_object_str& s) noexcept {
    return {s.ptr, s.size};
}

std::string_view key_of(const msgpack_object_kv& kv) noexcept {
    return kv.key.type == MSGPACK_OBJECT_STR ? as_view(kv.key.via.str) : std::string_view();
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

// Reader: step 3's typed field access. Every setter leaves the target alone
// and counts a wrong type when the value does not fit; nil is the same as a
// missing key, so writers may clear a field by writing nil.
class Reader {
  public:
    explicit Reader(ProfileDecodeStats* stats) noexcept : stats_(stats) {}

    void text(const msgpack_object& o, std::string_view* out) noexcept {
        if (o.type == MSGPACK_OBJECT_STR) {
            *out = as_view(o.via.str);
        } else {
            wrong(o);
        }
    }

    void integer(const msgpack_object& o, int64_t lo, int64_t hi, int64_t* out) noexcept {
        int64_t v = 0;
        if (o.type == MSGPACK_OBJECT_POSITIVE_INTEGER && o.via.u64 <= static_cast<uint64_t>(hi)) {
            v = static_cast<int64_t>(o.via.u64);
        } else if (o.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
            v = o.via.i64;
        } else {
            wrong(o);
            return;
        }
        if (v < lo || v > hi) {
            wrong(o);
            return;
        }
        *out = v;
    }

    void time(const msgpack_object& o, int64_t* out) noexcept { integer(o, 0, kMaxTime, out); }
    void money(const msgpack_object& o, int64_t* out) noexcept { integer(o, 0, kMaxMoney, out); }
    void count(const msgpack_object& o, int64_t* out) noexcept { integer(o, 0, kMaxCount, out); }

    // Scores accept integers too: a writer's 1 means 1.0.
    bool number(const msgpack_object& o, double* out) noexcept {
        double v = 0;
        if (o.type == MSGPACK_OBJECT_FLOAT64 || o.type == MSGPACK_OBJECT_FLOAT32) {
            v = o.via.f64;
        } else if (o.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            v = static_cast<double>(o.via.u64);
        } else if (o.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
            v = static_cast<double>(o.via.i64);
        } else {
            return false;
        }
        if (!std::isfinite(v)) {
            return false;
        }
        *out = v;
        return true;
    }

    void flag(const msgpack_object& o, bool* out) noexcept {
        if (o.type == MSGPACK_OBJECT_BOOLEAN) {
            *out = o.via.boolean;
        } else {
            wrong(o);
        }
    }

    void consent(const msgpack_object& o, ConsentFlag* out) noexcept {
        if (o.type == MSGPACK_OBJECT_BOOLEAN) {
            *out = o.via.boolean ? ConsentFlag::kGranted : ConsentFlag::kDenied;
        } else {
            wrong(o);
        }
    }

    // Calls fn(key, value) for each pair of a map value; false if `o` is not
    // a map (counted, unless nil).
    template <typename Fn>
    bool each_pair(const msgpack_object& o, Fn fn) {
        if (o.type != MSGPACK_OBJECT_MAP) {
            wrong(o);
            return false;
        }
        const msgpack_object_map& m = o.via.map;
        for (uint32_t i = 0; i < m.size; ++i) {
            fn(key_of(m.ptr[i]), m.ptr[i].val);
        }
        return true;
    }

    // Replaces *out with the elements of an array value that parse(element,
    // &item) accepts, up to `cap`. A nil leaves *out alone (missing key).
    template <typename T, typename Parse>
    void list(const msgpack_object& o, size_t cap, std::vector<T>* out, Parse parse) {
        if (o.type != MSGPACK_OBJECT_ARRAY) {
            wrong(o);
            return;
        }
        const msgpack_object_array& a = o.via.array;
        out->clear();
        out->reserve(std::min<size_t>(a.size, cap));
        for (uint32_t i = 0; i < a.size; ++i) {
            if (out->size() == cap) {
                stats_->over_limit += a.size - i;
                break;
            }
            T item;
            if (a.ptr[i].type == MSGPACK_OBJECT_MAP && parse(a.ptr[i].via.map, &item)) {
                out->push_back(item);
            } else {
                ++stats_->wrong_type;
            }
        }
    }

    void count_unknown() noexcept { ++stats_->unknown; }
    void count_wrong_type() noexcept { ++stats_->wrong_type; }
    void count_over_limit() noexcept { ++stats_->over_limit; }

  private:
    void wrong(const msgpack_object& o) noexcept {
        if (o.type != MSGPACK_OBJECT_NIL) {
            ++stats_->wrong_type;
        }
    }

    ProfileDecodeStats* stats_;
};

// Element parsers: false (element skipped) when the element has no sku.
bool parse_purchase(Reader& rd, const msgpack_object_map& m, Purchase* p) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "sku") {
            rd.text(v, &p->sku);
        } else if (k == "category") {
            rd.text(v, &p->category);
        } else if (k == "at") {
            rd.time(v, &p->at);
        } else if (k == "qty") {
            rd.integer(v, 1, kMaxQuantity, &p->qty);
        } else if (k == "cycle_days") {
            rd.integer(v, 0, kMaxCycleDays, &p->cycle_days);
        } else if (k == "price") {
            rd.money(v, &p->price);
        } else {
            rd.count_unknown();
        }
    }
    return !p->sku.empty();
}

bool parse_viewed(Reader& rd, const msgpack_object_map& m, ViewedItem* item) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "sku") {
            rd.text(v, &item->sku);
        } else if (k == "category") {
            rd.text(v, &item->category);
        } else if (k == "at") {
            rd.time(v, &item->at);
        } else if (k == "price") {
            rd.money(v, &item->price);
        } else {
            rd.count_unknown();
        }
    }
    return !item->sku.empty();
}

bool parse_cart_line(Reader& rd, const msgpack_object_map& m, CartLine* line) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "sku") {
            rd.text(v, &line->sku);
        } else if (k == "qty") {
            rd.integer(v, 1, kMaxQuantity, &line->qty);
        } else if (k == "added_at") {
            rd.time(v, &line->added_at);
        } else if (k == "price") {
            rd.money(v, &line->price);
        } else {
            rd.count_unknown();
        }
    }
    return !line->sku.empty();
}

// The parts both blobs may carry; merged once both are read.
struct SharedParts {
    std::vector<ViewedItem> viewed;
    std::vector<CartLine> cart;
    bool has_cart = false;
    int64_t cart_at = 0;
    int64_t first_seen = 0;
};

// Reads a key both blobs share; false if `k` is not one of them.
bool read_shared(Reader& rd, std::string_view k, const msgpack_object& v, SharedParts* s) {
    if (k == "viewed") {
        rd.list(v, kMaxViewed, &s->viewed, [&rd](const msgpack_object_map& m, ViewedItem* item) {
            return parse_viewed(rd, m, item);
        });
    } else if (k == "cart") {
        if (v.type == MSGPACK_OBJECT_ARRAY) {
            s->has_cart = true;
        }
        rd.list(v, kMaxCartLines, &s->cart, [&rd](const msgpack_object_map& m, CartLine* line) {
            return parse_cart_line(rd, m, line);
        });
    } else if (k == "cart_at") {
        rd.time(v, &s->cart_at);
    } else if (k == "first_seen") {
        rd.time(v, &s->first_seen);
    } else {
        return false;
    }
    return true;
}

void read_affinities(Reader& rd, const msgpack_object& v, std::vector<Affinity>* out) {
    if (v.type == MSGPACK_OBJECT_MAP) {
        out->clear();
        out->reserve(std::min<size_t>(v.via.map.size, kMaxAffinities));
    }
    rd.each_pair(v, [&](std::string_view category, const msgpack_object& score) {
        double s = 0;
        if (category.empty() || !rd.number(score, &s)) {
            rd.count_wrong_type();
            return;
        }
        for (Affinity& a : *out) {
            if (a.category == category) {
                a.score = s;  // a key given twice: the last one counts
                return;
            }
        }
        if (out->size() == kMaxAffinities) {
            rd.count_over_limit();
            return;
        }
        out->push_back(Affinity{category, s});
    });
}

void read_attributes(Reader& rd, const msgpack_object& v, std::vector<Attribute>* out) {
    if (v.type == MSGPACK_OBJECT_MAP) {
        out->clear();
        out->reserve(std::min<size_t>(v.via.map.size, kMaxAttributes));
    }
    rd.each_pair(v, [&](std::string_view name, const msgpack_object& value) {
        Attribute a;
        a.name = name;
        if (value.type == MSGPACK_OBJECT_STR) {
            a.type = AttributeType::kString;
            a.text = as_view(value.via.str);
        } else if (value.type == MSGPACK_OBJECT_BOOLEAN) {
            a.type = AttributeType::kBool;
            a.boolean = value.via.boolean;
        } else if (rd.number(value, &a.number)) {
            a.type = AttributeType::kNumber;
        } else {
            rd.count_wrong_type();
            return;
        }
        if (name.empty()) {
            rd.count_wrong_type();
            return;
        }
        for (Attribute& existing : *out) {
            if (existing.name == name) {
                existing = a;
                return;
            }
        }
        if (out->size() == kMaxAttributes) {
            rd.count_over_limit();
            return;
        }
        out->push_back(a);
    });
}

void read_shop(Reader& rd, const msgpack_object_map& m, Profile* p, SharedParts* s) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "v") {
            int64_t ignored = 0;
            rd.integer(v, 1, kProfileSchemaVersion, &ignored);  // checked in open()
        } else if (read_shared(rd, k, v, s)) {
            // done
        } else if (k == "first_name") {
            rd.text(v, &p->first_name);
        } else if (k == "currency") {
            rd.text(v, &p->currency);
        } else if (k == "orders_count") {
            rd.count(v, &p->orders_count);
        } else if (k == "last_order_at") {
            rd.time(v, &p->last_order_at);
        } else if (k == "total_spent") {
            rd.money(v, &p->total_spent);
        } else if (k == "affinity") {
            read_affinities(rd, v, &p->affinities);
        } else if (k == "purchases") {
            rd.list(v, kMaxPurchases, &p->purchases,
                    [&rd](const msgpack_object_map& e, Purchase* item) {
                        return parse_purchase(rd, e, item);
                    });
        } else if (k == "loyalty") {
            rd.each_pair(v, [&](std::string_view lk, const msgpack_object& lv) {
                if (lk == "points") {
                    rd.integer(lv, std::numeric_limits<int64_t>::min(), kMaxCount,
                               &p->loyalty.points);
                } else if (lk == "tier") {
                    rd.text(lv, &p->loyalty.tier);
                } else if (lk == "points_expire_at") {
                    rd.time(lv, &p->loyalty.points_expire_at);
                } else {
                    rd.count_unknown();
                }
            });
        } else if (k == "flags") {
            rd.each_pair(v, [&](std::string_view fk, const msgpack_object& fv) {
                if (fk == "open_return") {
                    rd.flag(fv, &p->flags.open_return);
                } else if (fk == "open_complaint") {
                    rd.flag(fv, &p->flags.open_complaint);
                } else if (fk == "unsubscribed") {
                    rd.flag(fv, &p->flags.unsubscribed);
                } else {
                    rd.count_unknown();
                }
            });
        } else if (k == "consent") {
            rd.each_pair(v, [&](std::string_view ck, const msgpack_object& cv) {
                if (ck == "personalization") {
                    rd.consent(cv, &p->consent.personalization);
                } else if (ck == "email") {
                    rd.consent(cv, &p->consent.email);
                } else if (ck == "sms") {
                    rd.consent(cv, &p->consent.sms);
                } else {
                    rd.count_unknown();
                }
            });
        } else if (k == "attrs") {
            read_attributes(rd, v, &p->attributes);
        } else {
            rd.count_unknown();
        }
    }
}

void read_live(Reader& rd, const msgpack_object_map& m, Profile* p, SharedParts* s) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "v") {
            int64_t ignored = 0;
            rd.integer(v, 1, kProfileSchemaVersion, &ignored);
        } else if (read_shared(rd, k, v, s)) {
            // done
        } else if (k == "visits") {
            rd.count(v, &p->visits);
        } else if (k == "last_seen") {
            rd.time(v, &p->last_seen);
        } else if (k == "acquisition") {
            Acquisition& a = p->acquisition;
            rd.each_pair(v, [&](std::string_view ak, const msgpack_object& av) {
                if (ak == "source") {
                    rd.text(av, &a.source);
                } else if (ak == "medium") {
                    rd.text(av, &a.medium);
                } else if (ak == "campaign") {
                    rd.text(av, &a.campaign);
                } else if (ak == "referrer") {
                    rd.text(av, &a.referrer);
                } else if (ak == "at") {
                    rd.time(av, &a.at);
                } else {
                    rd.count_unknown();
                }
            });
        } else {
            rd.count_unknown();
        }
    }
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
    r.profile = std::move(p);
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

ProfileError check_profile_blob(std::string_view bytes, const ProfileLimits& limits) noexcept {
    if (bytes.empty()) {
        return ProfileError::kNone;
    }
    ParsedBlob blob;
    return blob.open(bytes, limits);
}

}  // namespace tailor
