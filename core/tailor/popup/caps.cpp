// PopupCaps: a bounded MessagePack reader for `tailor:{vid}:caps`, straight over the bytes.
#include "tailor/popup/caps.h"

#include <new>

namespace tailor {

namespace {

// The profile's time range: far from overflow in `at + hours * 3600`.
constexpr int64_t kMaxCapsTime = 253402300799;  // 9999-12-31T23:59:59Z
constexpr size_t kMaxIdBytes = 64;

enum class Kind : unsigned char {
    kNil,
    kBool,
    kInt,
    kNegInt,
    kFloat,
    kStr,
    kBin,
    kArray,
    kMap,
    kExt
};

struct Head {
    Kind kind = Kind::kNil;
    uint64_t u = 0;  // kInt value, length or count
    int64_t i = 0;   // kNegInt value
};

// A cursor over the blob; every read checks the bytes left, and the first
// failure sticks in `error`.
class Reader {
  public:
    explicit Reader(std::string_view bytes) noexcept
        : p_(reinterpret_cast<const unsigned char*>(bytes.data())), end_(p_ + bytes.size()) {}

    PopupCapsError error = PopupCapsError::kNone;

    bool at_end() const noexcept { return p_ == end_; }
    bool ok() const noexcept { return error == PopupCapsError::kNone; }

    bool fail(PopupCapsError e) noexcept {
        if (error == PopupCapsError::kNone) {
            error = e;
        }
        return false;
    }

    bool take(size_t n, const unsigned char** out) noexcept {
        if (static_cast<size_t>(end_ - p_) < n) {
            return fail(PopupCapsError::kTruncated);
        }
        *out = p_;
        p_ += n;
        return true;
    }

    bool be(size_t n, uint64_t* v) noexcept {
        const unsigned char* b = nullptr;
        if (!take(n, &b)) {
            return false;
        }
        uint64_t x = 0;
        for (size_t k = 0; k < n; ++k) {
            x = (x << 8) | b[k];
        }
        *v = x;
        return true;
    }

    // Reads one value's header; for kStr/kBin/kExt the payload stays to read
    // with payload(), for containers the items follow.
    bool head(Head* h) noexcept {
        const unsigned char* b = nullptr;
        if (!take(1, &b)) {
            return false;
        }
        const unsigned char c = *b;
        uint64_t v = 0;
        if (c <= 0x7f) {
            *h = {Kind::kInt, c, 0};
            return true;
        }
        if (c >= 0xe0) {
            *h = {Kind::kNegInt, 0, static_cast<int64_t>(static_cast<signed char>(c))};
            return true;
        }
        if (c <= 0x8f) {
            *h = {Kind::kMap, static_cast<uint64_t>(c & 0x0f), 0};
            return true;
        }
        if (c <= 0x9f) {
            *h = {Kind::kArray, static_cast<uint64_t>(c & 0x0f), 0};
            return true;
        }
        if (c <= 0xbf) {
            *h = {Kind::kStr, static_cast<uint64_t>(c & 0x1f), 0};
            return true;
        }
        switch (c) {
            case 0xc0:
                *h = {Kind::kNil, 0, 0};
                return true;
            case 0xc2:
            case 0xc3:
                *h = {Kind::kBool, static_cast<uint64_t>(c & 1), 0};
                return true;
            case 0xc4:
            case 0xc5:
            case 0xc6:
                if (!be(size_t{1} << (c - 0xc4), &v)) {
                    return false;
                }
                *h = {Kind::kBin, v, 0};
                return true;
            case 0xc7:
            case 0xc8:
            case 0xc9:
                if (!be(size_t{1} << (c - 0xc7), &v)) {
                    return false;
                }
                *h = {Kind::kExt, v + 1, 0};  // the type byte, then the data
                return true;
            case 0xca:
            case 0xcb:
                *h = {Kind::kFloat, c == 0xca ? 4u : 8u, 0};
                return true;
            case 0xcc:
            case 0xcd:
            case 0xce:
            case 0xcf:
                if (!be(size_t{1} << (c - 0xcc), &v)) {
                    return false;
                }
                *h = {Kind::kInt, v, 0};
                return true;
            case 0xd0:
            case 0xd1:
            case 0xd2:
            case 0xd3: {
                const size_t n = size_t{1} << (c - 0xd0);
                if (!be(n, &v)) {
                    return false;
                }
                // sign-extend the n-byte big-endian value
                const unsigned shift = static_cast<unsigned>(64 - 8 * n);
                const auto s = static_cast<int64_t>(v << shift) >> shift;
                if (s >= 0) {
                    *h = {Kind::kInt, static_cast<uint64_t>(s), 0};
                } else {
                    *h = {Kind::kNegInt, 0, s};
                }
                return true;
            }
            case 0xd4:
            case 0xd5:
            case 0xd6:
            case 0xd7:
            case 0xd8:
                *h = {Kind::kExt, (uint64_t{1} << (c - 0xd4)) + 1, 0};
                return true;
            case 0xd9:
            case 0xda:
            case 0xdb:
                if (!be(size_t{1} << (c - 0xd9), &v)) {
                    return false;
                }
                *h = {Kind::kStr, v, 0};
                return true;
            case 0xdc:
            case 0xdd:
                if (!be(size_t{2} << (c - 0xdc), &v)) {
                    return false;
                }
                *h = {Kind::kArray, v, 0};
                return true;
            case 0xde:
            case 0xdf:
                if (!be(size_t{2} << (c - 0xde), &v)) {
                    return false;
                }
                *h = {Kind::kMap, v, 0};
                return true;
            default:  // 0xc1, never used
                return fail(PopupCapsError::kMalformed);
        }
    }

    // The payload of a kStr/kBin/kExt/kFloat head.
    bool payload(const Head& h, std::string_view* out) noexcept {
        if (h.u > static_cast<uint64_t>(end_ - p_)) {
            return fail(PopupCapsError::kTruncated);
        }
        const unsigned char* b = nullptr;
        if (!take(static_cast<size_t>(h.u), &b)) {
            return false;
        }
        *out = std::string_view(reinterpret_cast<const char*>(b), static_cast<size_t>(h.u));
        return true;
    }

    // Skips the rest of a value whose head was read, at nesting `depth`
    // (the value's own). Every item consumes at least one byte, so a lying
    // count ends in kTruncated after at most the blob's size in steps.
    bool skip(const Head& h, size_t depth) noexcept {
        switch (h.kind) {
            case Kind::kStr:
            case Kind::kBin:
            case Kind::kExt:
            case Kind::kFloat: {
                std::string_view ignored;
                return payload(h, &ignored);
            }
            case Kind::kArray:
            case Kind::kMap: {
                if (depth > kMaxPopupCapsDepth) {
                    return fail(PopupCapsError::kTooDeep);
                }
                const uint64_t items = h.kind == Kind::kMap ? h.u * 2 : h.u;
                for (uint64_t k = 0; k < items; ++k) {
                    Head inner;
                    if (!head(&inner) || !skip(inner, depth + 1)) {
                        return false;
                    }
                }
                return true;
            }
            default:
                return true;
        }
    }

    // A key: a string, or anything else (skipped; `*key` empty).
    bool key(std::string_view* key, size_t depth) noexcept {
        Head h;
        if (!head(&h)) {
            return false;
        }
        *key = {};
        if (h.kind == Kind::kStr) {
            return payload(h, key);
        }
        return skip(h, depth);
    }

  private:
    const unsigned char* p_;
    const unsigned char* end_;
};

// A time or count field: a non-negative integer within the time range.
bool time_of(const Head& h, int64_t* out) noexcept {
    if (h.kind != Kind::kInt || h.u > static_cast<uint64_t>(kMaxCapsTime)) {
        return false;
    }
    *out = static_cast<int64_t>(h.u);
    return true;
}

struct Decoder {
    Reader r;
    PopupCapsDecodeResult& out;

    // One field of a pop-up's map, the value at nesting `depth`; wrong-typed
    // values are skipped, counted.
    bool field(std::string_view name, PopupCapsEntry& e, size_t depth) {
        Head h;
        if (!r.head(&h)) {
            return false;
        }
        int64_t* target = nullptr;
        if (name == "visit") {
            target = &e.visit;
        } else if (name == "visit_imp") {
            target = &e.visit_impressions;
        } else if (name == "close") {
            target = &e.closed_at;
        } else if (name == "conv") {
            target = &e.converted_at;
        } else if (name == "imp" && h.kind == Kind::kArray) {
            for (uint64_t k = 0; k < h.u; ++k) {
                Head item;
                if (!r.head(&item)) {
                    return false;
                }
                int64_t t = 0;
                if (!time_of(item, &t) || e.impression_count >= kMaxPopupImpressions) {
                    ++out.skipped;
                    if (!r.skip(item, depth + 1)) {
                        return false;
                    }
                    continue;
                }
                e.impressions[e.impression_count++] = t;
            }
            return true;
        } else {
            if (name == "imp") {
                ++out.skipped;  // not an array
            }
            return r.skip(h, depth);
        }
        if (!time_of(h, target)) {
            ++out.skipped;
            return r.skip(h, depth);
        }
        return true;
    }

    // "p": { id: { ... }, ... } at nesting `depth` (the map's own).
    bool popups(const Head& map, size_t depth) {
        for (uint64_t k = 0; k < map.u; ++k) {
            std::string_view id;
            if (!r.key(&id, depth + 1)) {
                return false;
            }
            Head h;
            if (!r.head(&h)) {
                return false;
            }
            if (id.empty() || id.size() > kMaxIdBytes || h.kind != Kind::kMap ||
                out.caps.entries.size() >= kMaxPopupCapsEntries) {
                ++out.skipped;
                if (!r.skip(h, depth + 1)) {
                    return false;
                }
                continue;
            }
            PopupCapsEntry e;
            e.id = id;
            for (uint64_t f = 0; f < h.u; ++f) {
                std::string_view name;
                if (!r.key(&name, depth + 2) || !field(name, e, depth + 2)) {
                    return false;
                }
            }
            out.caps.entries.push_back(e);
        }
        return true;
    }

    bool top() {
        Head h;
        if (!r.head(&h)) {
            return false;
        }
        if (h.kind != Kind::kMap) {
            return r.fail(PopupCapsError::kNotAMap);
        }
        int64_t version = kPopupCapsSchemaVersion;
        for (uint64_t k = 0; k < h.u; ++k) {
            std::string_view name;
            if (!r.key(&name, 2)) {
                return false;
            }
            Head v;
            if (!r.head(&v)) {
                return false;
            }
            if (name == "v" && (v.kind == Kind::kInt || v.kind == Kind::kNegInt)) {
                if (v.kind == Kind::kNegInt || v.u < 1 ||
                    v.u > static_cast<uint64_t>(kPopupCapsSchemaVersion)) {
                    version = -1;
                }
            } else if (name == "p" && v.kind == Kind::kMap) {
                if (!popups(v, 2)) {
                    return false;
                }
            } else if (!r.skip(v, 2)) {
                return false;
            }
        }
        if (!r.at_end()) {
            return r.fail(PopupCapsError::kMalformed);
        }
        if (version != kPopupCapsSchemaVersion) {
            return r.fail(PopupCapsError::kUnsupportedVersion);
        }
        return true;
    }
};

}  // namespace

const PopupCapsEntry* PopupCaps::find(std::string_view id) const noexcept {
    for (const PopupCapsEntry& e : entries) {
        if (e.id == id) {
            return &e;
        }
    }
    return nullptr;
}

std::string_view popup_caps_error_name(PopupCapsError error) noexcept {
    switch (error) {
        case PopupCapsError::kNone:
            return "none";
        case PopupCapsError::kTooLarge:
            return "too-large";
        case PopupCapsError::kTruncated:
            return "truncated";
        case PopupCapsError::kMalformed:
            return "malformed";
        case PopupCapsError::kTooDeep:
            return "too-deep";
        case PopupCapsError::kNotAMap:
            return "not-a-map";
        case PopupCapsError::kUnsupportedVersion:
            return "unsupported-version";
        case PopupCapsError::kNoMemory:
            return "no-memory";
    }
    return "unknown";
}

PopupCapsDecodeResult decode_popup_caps(std::string_view bytes) noexcept {
    PopupCapsDecodeResult out;
    if (bytes.empty()) {
        return out;
    }
    if (bytes.size() > kMaxPopupCapsBytes) {
        out.error = PopupCapsError::kTooLarge;
        return out;
    }
    try {
        out.caps.entries.reserve(kMaxPopupCapsEntries);
        Decoder d{Reader(bytes), out};
        if (!d.top()) {
            out.error = d.r.error;
        }
    } catch (const std::bad_alloc&) {
        out.error = PopupCapsError::kNoMemory;
    }
    if (out.error != PopupCapsError::kNone) {
        out.caps.entries.clear();
    }
    return out;
}

}  // namespace tailor
