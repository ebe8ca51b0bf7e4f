// Internal to the reference decoder (reference_decode.cpp, reference_fields.cpp): typed field
// access over msgpack-c's object tree, and the per-blob field readers.
#pragma once

#include <msgpack.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "tailor/profile/decode.h"
#include "tailor/profile/profile.h"

namespace tailor {
namespace msgpackc_reference {

constexpr int64_t kMaxCount = std::numeric_limits<int64_t>::max();

inline std::string_view as_view(const msgpack_object_str& s) noexcept {
    return {s.ptr, s.size};
}

inline std::string_view key_of(const msgpack_object_kv& kv) noexcept {
    return kv.key.type == MSGPACK_OBJECT_STR ? as_view(kv.key.via.str) : std::string_view();
}

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

// The parts both blobs may carry; merged once both are read.
struct SharedParts {
    std::vector<ViewedItem> viewed;
    std::vector<CartLine> cart;
    bool has_cart = false;
    int64_t cart_at = 0;
    int64_t first_seen = 0;
    // live only: what the module saw ordered (Order Completed)
    std::vector<Purchase> purchased;
    int64_t last_order_at = 0;
};

// The shop's blob and the module's live blob, field by field into `p` and
// the shared parts (decode_fields.cpp).
void read_shop(Reader& rd, const msgpack_object_map& m, Profile* p, SharedParts* s);
void read_live(Reader& rd, const msgpack_object_map& m, Profile* p, SharedParts* s);

}  // namespace msgpackc_reference
}  // namespace tailor
