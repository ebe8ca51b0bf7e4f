// PopupCaps: the caps schema read straight over the bytes through the bounded MsgpackReader.
#include "tailor/popup/caps.h"

#include "tailor/base/msgpack_reader.h"

#include <new>

namespace tailor {

namespace {

// The profile's time range: far from overflow in `at + hours * 3600`.
constexpr int64_t kMaxCapsTime = 253402300799;  // 9999-12-31T23:59:59Z
constexpr size_t kMaxIdBytes = 64;

using Head = MsgpackHead;
using Kind = MsgpackType;

PopupCapsError caps_error(MsgpackError error) noexcept {
    switch (error) {
        case MsgpackError::kNone:
            return PopupCapsError::kNone;
        case MsgpackError::kTruncated:
            return PopupCapsError::kTruncated;
        case MsgpackError::kTooDeep:
            return PopupCapsError::kTooDeep;
        case MsgpackError::kMalformed:
        case MsgpackError::kTooLarge:  // cannot fit under kMaxPopupCapsBytes anyway
        case MsgpackError::kWrongType:
            break;
    }
    return PopupCapsError::kMalformed;
}

// A key: a string, or anything else (skipped; `*key` empty).
bool read_key(MsgpackReader& r, std::string_view* key, size_t level) noexcept {
    Head h;
    if (!r.head(&h)) {
        return false;
    }
    *key = {};
    if (h.type == Kind::kStr) {
        return r.payload(h, key);
    }
    return r.skip(h, level);
}

// A time or count field: a non-negative integer within the time range.
bool time_of(const Head& h, int64_t* out) noexcept {
    if (h.type != Kind::kUint || h.u > static_cast<uint64_t>(kMaxCapsTime)) {
        return false;
    }
    *out = static_cast<int64_t>(h.u);
    return true;
}

struct Decoder {
    MsgpackReader r;
    PopupCapsDecodeResult& out;
    PopupCapsError error = PopupCapsError::kNone;  // the schema's own refusals

    bool fail(PopupCapsError e) noexcept {
        error = e;
        return false;
    }

    // One field of a pop-up's map, the value at nesting `level`; wrong-typed
    // values are skipped, counted.
    bool field(std::string_view name, PopupCapsEntry& e, size_t level) {
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
        } else if (name == "imp" && h.type == Kind::kArray) {
            if (!r.enter(h, level)) {
                return false;
            }
            for (uint64_t k = 0; k < h.u; ++k) {
                Head item;
                if (!r.head(&item)) {
                    return false;
                }
                int64_t t = 0;
                if (!time_of(item, &t) || e.impression_count >= kMaxPopupImpressions) {
                    ++out.skipped;
                    if (!r.skip(item, level + 1)) {
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
            return r.skip(h, level);
        }
        if (!time_of(h, target)) {
            ++out.skipped;
            return r.skip(h, level);
        }
        return true;
    }

    // "p": { id: { ... }, ... } at nesting `level` (the map's own).
    bool popups(const Head& map, size_t level) {
        if (!r.enter(map, level)) {
            return false;
        }
        for (uint64_t k = 0; k < map.u; ++k) {
            std::string_view id;
            if (!read_key(r, &id, level + 1)) {
                return false;
            }
            Head h;
            if (!r.head(&h)) {
                return false;
            }
            if (id.empty() || id.size() > kMaxIdBytes || h.type != Kind::kMap ||
                out.caps.entries.size() >= kMaxPopupCapsEntries) {
                ++out.skipped;
                if (!r.skip(h, level + 1)) {
                    return false;
                }
                continue;
            }
            if (!r.enter(h, level + 1)) {
                return false;
            }
            PopupCapsEntry e;
            e.id = id;
            for (uint64_t f = 0; f < h.u; ++f) {
                std::string_view name;
                if (!read_key(r, &name, level + 2) || !field(name, e, level + 2)) {
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
        if (h.type != Kind::kMap) {
            return fail(PopupCapsError::kNotAMap);
        }
        if (!r.enter(h, 1)) {
            return false;
        }
        int64_t version = kPopupCapsSchemaVersion;
        for (uint64_t k = 0; k < h.u; ++k) {
            std::string_view name;
            if (!read_key(r, &name, 2)) {
                return false;
            }
            Head v;
            if (!r.head(&v)) {
                return false;
            }
            if (name == "v" && v.is_integer()) {
                if (v.type == Kind::kNegInt || v.u < 1 ||
                    v.u > static_cast<uint64_t>(kPopupCapsSchemaVersion)) {
                    version = -1;
                }
            } else if (name == "p" && v.type == Kind::kMap) {
                if (!popups(v, 2)) {
                    return false;
                }
            } else if (!r.skip(v, 2)) {
                return false;
            }
        }
        if (!r.at_end()) {
            return fail(PopupCapsError::kMalformed);
        }
        if (version != kPopupCapsSchemaVersion) {
            return fail(PopupCapsError::kUnsupportedVersion);
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
        MsgpackLimits limits;
        limits.max_depth = kMaxPopupCapsDepth;
        Decoder d{MsgpackReader(bytes, limits), out};
        if (!d.top()) {
            out.error = d.error != PopupCapsError::kNone ? d.error : caps_error(d.r.error());
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
