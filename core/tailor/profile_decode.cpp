// ProfileDecode: bounded, zero-copy MessagePack decoding of the profile and live blobs.
//
// Three steps per blob:
//   1. scan_blob walks the encoding once, building nothing: it refuses
//      truncation, declared lengths the blob cannot hold, nesting past the
//      depth limit, trailing bytes, and computes exactly how much zone memory
//      msgpack-c will need. msgpack-c allocates `count * 24` (or 48) bytes for
//      a container as soon as it reads the header, before it knows whether
//      the data is there, so a 5-byte `dd ff ff ff ff` would ask for 96 GiB;
//      the scan is what makes handing it untrusted bytes safe.
//   2. msgpack_unpack into a zone sized from the scan (one malloc, freed
//      before returning). Its STR/BIN objects point into the input buffer,
//      never into the zone, so the Profile can keep them after the zone dies.
//   3. The object tree is read field by field into the Profile.
#include "tailor/profile.h"

#include <msgpack.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <utility>

namespace tailor {

namespace {

constexpr size_t kArrayItemBytes = sizeof(msgpack_object);
constexpr size_t kMapPairBytes = sizeof(msgpack_object_kv);
constexpr size_t kZoneSlack = 64;
constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();

struct Scan {
    ProfileError error = ProfileError::kNone;
    size_t zone_bytes = 0;
};

uint64_t read_be(const unsigned char* p, size_t n) noexcept {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
        v = (v << 8) | p[i];
    }
    return v;
}

bool is_map_header(unsigned char b) noexcept {
    return (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
}

// scan_blob: step 1 above. Iterative, so hostile nesting costs no stack.
Scan scan_blob(const unsigned char* p, size_t size, size_t max_depth) noexcept {
    enum class Kind { kScalar, kArray, kMap };
    uint64_t remaining[kMaxProfileDepth];  // values still to read in each open container
    size_t depth = 0;
    size_t pos = 0;
    Scan out;
    for (;;) {
        if (pos >= size) {
            out.error = ProfileError::kTruncated;
            return out;
        }
        const unsigned char b = p[pos++];
        Kind kind = Kind::kScalar;
        uint64_t count = 0;      // container elements (map: pairs)
        uint64_t skip = 0;       // payload bytes after the header
        size_t length_size = 0;  // bytes of a big-endian length that follows
        if (b <= 0x7f || b >= 0xe0) {
            // positive or negative fixint: no payload
        } else if (b <= 0x8f) {
            kind = Kind::kMap;
            count = b & 0x0fu;
        } else if (b <= 0x9f) {
            kind = Kind::kArray;
            count = b & 0x0fu;
        } else if (b <= 0xbf) {
            skip = b & 0x1fu;  // fixstr
        } else {
            switch (b) {
                case 0xc0:  // nil
                case 0xc2:  // false
                case 0xc3:  // true
                    break;
                case 0xc4:  // bin 8
                case 0xd9:  // str 8
                    length_size = 1;
                    break;
                case 0xc5:
                case 0xda:
                    length_size = 2;
                    break;
                case 0xc6:
                case 0xdb:
                    length_size = 4;
                    break;
                case 0xc7:  // ext 8/16/32: length, then a type byte, then data
                    length_size = 1;
                    skip = 1;
                    break;
                case 0xc8:
                    length_size = 2;
                    skip = 1;
                    break;
                case 0xc9:
                    length_size = 4;
                    skip = 1;
                    break;
                case 0xcc:  // uint 8
                case 0xd0:  // int 8
                    skip = 1;
                    break;
                case 0xcd:
                case 0xd1:
                    skip = 2;
                    break;
                case 0xca:  // float 32
                case 0xce:
                case 0xd2:
                    skip = 4;
                    break;
                case 0xcb:  // float 64
                case 0xcf:
                case 0xd3:
                    skip = 8;
                    break;
                case 0xd4:  // fixext 1/2/4/8/16: a type byte, then data
                    skip = 2;
                    break;
                case 0xd5:
                    skip = 3;
                    break;
                case 0xd6:
                    skip = 5;
                    break;
                case 0xd7:
                    skip = 9;
                    break;
                case 0xd8:
                    skip = 17;
                    break;
                case 0xdc:
                    kind = Kind::kArray;
                    length_size = 2;
                    break;
                case 0xdd:
                    kind = Kind::kArray;
                    length_size = 4;
                    break;
                case 0xde:
                    kind = Kind::kMap;
                    length_size = 2;
                    break;
                case 0xdf:
                    kind = Kind::kMap;
                    length_size = 4;
                    break;
                default:  // 0xc1: never used by MessagePack
                    out.error = ProfileError::kMalformed;
                    return out;
            }
        }
        if (length_size > 0) {
            if (size - pos < length_size) {
                out.error = ProfileError::kTruncated;
                return out;
            }
            const uint64_t n = read_be(p + pos, length_size);
            pos += length_size;
            if (kind == Kind::kScalar) {
                skip += n;
            } else {
                count = n;
            }
        }
        if (kind == Kind::kScalar) {
            if (size - pos < skip) {
                out.error = ProfileError::kTruncated;
                return out;
            }
            pos += static_cast<size_t>(skip);
        } else {
            if (depth >= max_depth) {
                out.error = ProfileError::kTooDeep;
                return out;
            }
            const uint64_t values = kind == Kind::kMap ? count * 2 : count;
            // Every value takes at least one byte, so a count the rest of the
            // blob cannot hold is a lie; refuse it before msgpack-c trusts it.
            if (values > size - pos) {
                out.error = ProfileError::kTruncated;
                return out;
            }
            // count <= size here, so this cannot overflow.
            out.zone_bytes +=
                static_cast<size_t>(count) * (kind == Kind::kMap ? kMapPairBytes : kArrayItemBytes);
            if (out.zone_bytes > kMaxProfileZoneBytes) {
                out.error = ProfileError::kTooComplex;
                return out;
            }
            if (values > 0) {
                remaining[depth++] = values;
                continue;
            }
        }
        // A value is complete: close every container it completes.
        while (depth > 0 && --remaining[depth - 1] == 0) {
            --depth;
        }
        if (depth == 0) {
            break;
        }
    }
    if (pos != size) {
        out.error = ProfileError::kMalformed;  // bytes after the top value
    }
    return out;
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
        const size_t max_bytes = std::min(limits.max_bytes, kMaxProfileBytes);
        const size_t max_depth = std::min(limits.max_depth, kMaxProfileDepth);
        if (bytes.size() > max_bytes) {
            return ProfileError::kTooLarge;
        }
        const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
        if (bytes.empty() || !is_map_header(p[0])) {
            return ProfileError::kNotAMap;
        }
        const Scan scan = scan_blob(p, bytes.size(), max_depth);
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
// recent first, capped.
void merge_viewed(Reader& rd, std::vector<ViewedItem>&& shop, std::vector<ViewedItem>&& live,
                  std::vector<ViewedItem>* out) {
    std::vector<ViewedItem> all = std::move(shop);
    all.insert(all.end(), live.begin(), live.end());
    std::stable_sort(all.begin(), all.end(),
                     [](const ViewedItem& a, const ViewedItem& b) { return a.at > b.at; });
    out->clear();
    out->reserve(std::min(all.size(), kMaxViewed));
    for (const ViewedItem& item : all) {
        const bool seen = std::any_of(out->begin(), out->end(),
                                      [&](const ViewedItem& o) { return o.sku == item.sku; });
        if (seen) {
            continue;
        }
        if (out->size() == kMaxViewed) {
            rd.count_over_limit();
            continue;
        }
        out->push_back(item);
    }
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
    merge_viewed(rd, std::move(shop.viewed), std::move(live.viewed), &p.viewed);
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
