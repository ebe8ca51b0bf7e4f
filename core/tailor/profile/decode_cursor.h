// Internal to profile decoding (decode.cpp, decode_fields.cpp): one bounded pass over a
// blob's bytes, with typed field reads that count what they leave out.
//
// The cursor is MsgpackReader (base/msgpack_reader.h) plus what the old
// scan-then-msgpack-c path (reference_decode.h) refused beyond the reader's
// own checks: a tree msgpack-c would have built over kMaxProfileZoneBytes,
// tallied container by container in the order the scan met them. Every
// value is read or passed through the reader, in byte order, so the first
// refusal is the one the scan would have found first: a blob is refused
// for the same reason even though its fields were read on the way.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include "tailor/base/msgpack_reader.h"
#include "tailor/profile/decode.h"
#include "tailor/profile/profile.h"
#include "tailor/profile/scan.h"

namespace tailor {
namespace profile_detail {

constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();

// Cursor: every read takes the nesting level of the value it reads (the top
// map is 1, its keys and values 2, ...) and returns false only when the blob
// is refused (error() says why); a value of the wrong type or range is
// counted, passed and leaves its target alone. Nil counts as a missing key,
// so writers may clear a field by writing nil.
class Cursor {
  public:
    Cursor(std::string_view bytes, size_t max_depth, ProfileDecodeStats* stats) noexcept
        : r_(bytes, limits_for(max_depth)), stats_(stats) {}

    // Why the blob is refused; kMalformed if the pass stopped for no reason.
    [[nodiscard]] ProfileError error() const noexcept;
    // A `v` outside 1..kProfileSchemaVersion was met; the blob is refused
    // once the rest of it proved well formed.
    [[nodiscard]] bool version_refused() const noexcept { return version_refused_; }
    [[nodiscard]] int64_t version() const noexcept { return version_; }
    [[nodiscard]] bool at_end() const noexcept { return r_.at_end(); }

    [[nodiscard, gnu::always_inline]] bool head(MsgpackHead* h) noexcept { return r_.head(h); }

    // open: a container whose head was read at `level`, checked and tallied.
    [[nodiscard]] bool open(const MsgpackHead& h, size_t level) noexcept {
        return r_.enter(h, level) && tally(h);
    }

    // skip: the rest of a value whose head was read at `level`. A number,
    // nil or bool has none: only strings and containers leave the fast path.
    [[nodiscard, gnu::always_inline]] bool skip(const MsgpackHead& h, size_t level) noexcept {
        if (!h.has_payload() && !h.is_container()) {
            return true;
        }
        return skip_rest(h, level);
    }

    [[nodiscard]] bool skip_value(size_t level) noexcept {
        MsgpackHead h;
        return r_.head(&h) && skip(h, level);
    }

    // key: a map key; any other type than str reads as "" (which no field
    // has), as msgpack-c's tree gave the old path.
    [[nodiscard, gnu::always_inline]] bool key(size_t level, std::string_view* out) noexcept {
        if (r_.try_fixstr(out)) {
            return true;
        }
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type == MsgpackType::kStr) {
            return r_.payload(h, out);
        }
        *out = {};
        return skip(h, level);
    }

    // payload: the str payload of a head just read.
    [[nodiscard]] bool payload(const MsgpackHead& h, std::string_view* out) noexcept {
        return r_.payload(h, out);
    }

    // unknown: a key this schema does not know; its value is passed.
    [[nodiscard]] bool unknown(size_t level) noexcept {
        ++stats_->unknown;
        return skip_value(level);
    }

    [[nodiscard, gnu::always_inline]] bool text(size_t level, std::string_view* out) noexcept {
        if (r_.try_fixstr(out)) {
            return true;
        }
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type == MsgpackType::kStr) {
            return r_.payload(h, out);
        }
        return wrong(h, level);
    }

    // integer: an integer within lo..hi (hi >= 0).
    [[nodiscard, gnu::always_inline]] bool integer(size_t level, int64_t lo, int64_t hi,
                                                   int64_t* out) noexcept {
        uint64_t u = 0;
        if (r_.try_uint(&u)) {
            if (u <= static_cast<uint64_t>(hi) && static_cast<int64_t>(u) >= lo) {
                *out = static_cast<int64_t>(u);
            } else {
                ++stats_->wrong_type;
            }
            return true;
        }
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type == MsgpackType::kUint) {
            if (h.u <= static_cast<uint64_t>(hi) && static_cast<int64_t>(h.u) >= lo) {
                *out = static_cast<int64_t>(h.u);
            } else {
                ++stats_->wrong_type;
            }
            return true;
        }
        if (h.type == MsgpackType::kNegInt) {
            if (h.i >= lo && h.i <= hi) {
                *out = h.i;
            } else {
                ++stats_->wrong_type;
            }
            return true;
        }
        return wrong(h, level);
    }

    [[nodiscard, gnu::always_inline]] bool time(size_t level, int64_t* out) noexcept {
        return integer(level, 0, kMaxTime, out);
    }
    [[nodiscard, gnu::always_inline]] bool money(size_t level, int64_t* out) noexcept {
        return integer(level, 0, kMaxMoney, out);
    }
    [[nodiscard]] bool count(size_t level, int64_t* out) noexcept {
        return integer(level, 0, kMaxCount, out);
    }

    [[nodiscard]] bool flag(size_t level, bool* out) noexcept {
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type == MsgpackType::kBool) {
            *out = h.u != 0;
            return true;
        }
        return wrong(h, level);
    }

    [[nodiscard]] bool consent(size_t level, ConsentFlag* out) noexcept {
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type == MsgpackType::kBool) {
            *out = h.u != 0 ? ConsentFlag::kGranted : ConsentFlag::kDenied;
            return true;
        }
        return wrong(h, level);
    }

    // version: the schema version `v`. A non-integer is a wrong-typed field
    // (ignored: schema 1); an integer outside 1..kProfileSchemaVersion means a
    // writer changed what fields mean, so nothing here can be trusted.
    [[nodiscard]] bool version(size_t level) noexcept {
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type == MsgpackType::kUint) {
            if (h.u < 1 || h.u > static_cast<uint64_t>(kProfileSchemaVersion)) {
                version_refused_ = true;
            } else {
                version_ = static_cast<int64_t>(h.u);
            }
            return true;
        }
        if (h.type == MsgpackType::kNegInt) {
            version_refused_ = true;
            return true;
        }
        return wrong(h, level);
    }

    // number: a score from a head just read; integers count (a writer's 1
    // means 1.0), non-finite floats do not. Counts nothing.
    [[nodiscard]] static bool number(const MsgpackHead& h, double* out) noexcept {
        double v = 0;
        if (h.is_float()) {
            v = h.float_value();
        } else if (h.type == MsgpackType::kUint) {
            v = static_cast<double>(h.u);
        } else if (h.type == MsgpackType::kNegInt) {
            v = static_cast<double>(h.i);
        } else {
            return false;
        }
        if (!std::isfinite(v)) {
            return false;
        }
        *out = v;
        return true;
    }

    // pairs: calls fn(key) for each pair of the map whose head `h` was read
    // at `level`; fn reads the value at level + 1 and returns false only
    // when the blob is refused.
    template <typename Fn>
    [[nodiscard]] bool pairs(const MsgpackHead& h, size_t level, Fn&& fn) {
        if (!open(h, level)) {
            return false;
        }
        for (uint64_t i = 0; i < h.u; ++i) {
            std::string_view k;
            if (!key(level + 1, &k) || !fn(k)) {
                return false;
            }
        }
        return true;
    }

    // each_pair: pairs() over a map value at `level`; another type is
    // counted (nil is not) and passed.
    template <typename Fn>
    [[nodiscard]] bool each_pair(size_t level, Fn&& fn) {
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type != MsgpackType::kMap) {
            return wrong(h, level);
        }
        return pairs(h, level, fn);
    }

    // list: replaces *out with the elements of an array value at `level`
    // that are maps with a sku, up to `cap` (the rest counted and passed).
    // parse(pairs, pair_level, &item) reads one element map's pairs. A nil
    // leaves *out alone (missing key); `is_array` says whether it was one.
    template <typename T, typename Parse>
    [[nodiscard]] bool list(size_t level, size_t cap, std::vector<T>* out, Parse&& parse,
                            bool* is_array = nullptr) {
        MsgpackHead h;
        if (!r_.head(&h)) {
            return false;
        }
        if (h.type != MsgpackType::kArray) {
            return wrong(h, level);
        }
        if (is_array != nullptr) {
            *is_array = true;
        }
        if (!open(h, level)) {
            return false;
        }
        out->clear();
        out->reserve(std::min<size_t>(static_cast<size_t>(h.u), cap));
        for (uint64_t i = 0; i < h.u; ++i) {
            if (out->size() == cap) {
                stats_->over_limit += static_cast<uint32_t>(h.u - i);
                for (; i < h.u; ++i) {
                    if (!skip_value(level + 1)) {
                        return false;
                    }
                }
                return true;
            }
            MsgpackHead e;
            if (!r_.head(&e)) {
                return false;
            }
            if (e.type != MsgpackType::kMap) {
                ++stats_->wrong_type;  // nil too: an element is never missing
                if (!skip(e, level + 1)) {
                    return false;
                }
                continue;
            }
            if (!open(e, level + 1)) {
                return false;
            }
            // Read in place (the reserve above holds every kept element).
            T& item = out->emplace_back();
            if (!parse(e.u, level + 2, &item)) {
                return false;
            }
            if (item.sku.empty()) {
                ++stats_->wrong_type;
                out->pop_back();
            }
        }
        return true;
    }

    void count_unknown() noexcept { ++stats_->unknown; }
    void count_wrong_type() noexcept { ++stats_->wrong_type; }
    void count_over_limit() noexcept { ++stats_->over_limit; }

    // wrong: counts a value of the wrong type (not nil) and passes it.
    [[nodiscard, gnu::noinline]] bool wrong(MsgpackHead h, size_t level) noexcept {
        if (h.type != MsgpackType::kNil) {
            ++stats_->wrong_type;
        }
        return skip(h, level);
    }

  private:
    // By value and out of line, as wrong() is: a head whose address escaped
    // would live in memory on every read's fast path.
    [[nodiscard, gnu::noinline]] bool skip_rest(MsgpackHead h, size_t level) noexcept {
        return r_.skip(h, level, [this](const MsgpackHead& c) { return tally(c); });
    }

    static MsgpackLimits limits_for(size_t max_depth) noexcept {
        MsgpackLimits limits;
        limits.max_depth = std::min(max_depth, kMaxProfileDepth);
        return limits;
    }

    // The tree msgpack-c would have built so far, as scan_msgpack_blob counts it.
    bool tally(const MsgpackHead& h) noexcept {
        zone_bytes_ += static_cast<size_t>(h.u) *
                       (h.type == MsgpackType::kMap ? kZoneMapPairBytes : kZoneArrayItemBytes);
        if (zone_bytes_ > kMaxProfileZoneBytes) {
            too_complex_ = true;
            return false;
        }
        return true;
    }

    MsgpackReader r_;
    ProfileDecodeStats* stats_;
    size_t zone_bytes_ = 0;
    int64_t version_ = kProfileSchemaVersion;
    bool too_complex_ = false;
    bool version_refused_ = false;
};

// same_text: a == b, for the duplicate checks (affinity categories,
// attribute names, viewed skus). Those are mostly a writer's numbered names
// of one length ("category-1", "category-2"), which differ at the end:
// their last bytes settle most pairs without a call to memcmp.
[[gnu::always_inline]] inline bool same_text(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() &&
           (a.empty() || (a.back() == b.back() && std::memcmp(a.data(), b.data(), a.size()) == 0));
}

// The parts both blobs may carry; merged once both are read (decode.cpp).
struct SharedParts {
    std::vector<ViewedItem> viewed;
    std::vector<CartLine> cart;
    bool has_cart = false;
    int64_t cart_at = 0;
    int64_t first_seen = 0;
};

// The live blob's own fields, kept aside until the whole blob proved sound:
// a refused live map must leave no trace in the Profile.
struct LiveParts {
    SharedParts shared;
    int64_t visits = 0;
    int64_t last_seen = 0;
    Acquisition acquisition;
    std::vector<Purchase> purchased;  // what the module saw ordered (Order Completed)
    int64_t last_order_at = 0;
};

// What a decode builds, kept by a ProfileDecoder between decodes for the lists' room.
struct DecodeScratch {
    Profile profile;
    SharedParts shop;
    LiveParts live;
};

// The decode into `s`, which it resets first; *live_error and *stats as ProfileDecodeResult's.
// The Profile is s->profile unless the shop's blob was refused (the error returned).
// Throws std::bad_alloc.
[[nodiscard]] ProfileError decode_into(std::string_view profile_bytes, std::string_view live_bytes,
                                       const ProfileLimits& limits, DecodeScratch* s,
                                       ProfileError* live_error, ProfileDecodeStats* stats);

inline ProfileError Cursor::error() const noexcept {
    switch (r_.error()) {
        case MsgpackError::kTruncated:
            return ProfileError::kTruncated;
        case MsgpackError::kTooDeep:
            return ProfileError::kTooDeep;
        case MsgpackError::kTooLarge:  // a count past the reader's limits is past the zone's too
            return ProfileError::kTooComplex;
        case MsgpackError::kMalformed:
        case MsgpackError::kWrongType:
            return ProfileError::kMalformed;
        case MsgpackError::kNone:
            break;
    }
    return too_complex_ ? ProfileError::kTooComplex : ProfileError::kMalformed;
}

// One top-level pair of each blob: `k` read, its value next at level 2
// (decode_fields.cpp). False only when the blob is refused.
[[nodiscard]] bool read_shop_pair(Cursor& c, std::string_view k, Profile* p, SharedParts* s);
[[nodiscard]] bool read_live_pair(Cursor& c, std::string_view k, LiveParts* live);

}  // namespace profile_detail
}  // namespace tailor
