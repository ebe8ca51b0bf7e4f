// MsgpackReader: the one bounded, zero-copy cursor over untrusted MessagePack bytes.
//
// Every blob Tailor reads back (the profile and live maps, the pop-up caps,
// the event codec) may have been written by someone else or cut short by the
// network. Decoders walk it through this cursor instead of building a tree:
// every read checks the bytes left, a declared length or count the rest of
// the input cannot hold is refused before anything is sized from it, nesting
// is capped, and the first failure sticks with its reason. Strings are views
// into the input, which must outlive what a decoder hands out.
//
// msgpack-c stays for encoding (and for the profile decoder's test oracle,
// profile/reference_decode.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "tailor/base/msgpack_format.h"

namespace tailor {

// Nesting no reader follows past (the top value is level 1); the same fixed
// stack msgpack-c uses. A reader's own max_depth is clamped to it.
inline constexpr size_t kMsgpackMaxDepth = 32;
// Largest str, bin or ext payload read (the largest profile a directive may
// allow, kMaxProfileBytesLimit, fits in it).
inline constexpr size_t kMsgpackMaxBytes = 4 * 1024 * 1024;
// Largest array (items) and map (pairs) read.
inline constexpr size_t kMsgpackMaxArrayItems = 1024 * 1024;
inline constexpr size_t kMsgpackMaxMapPairs = 1024 * 1024;

// MsgpackLimits
//
// One reader's bounds; a decoder narrows max_depth to its schema.
struct MsgpackLimits {
    size_t max_depth = kMsgpackMaxDepth;
    size_t max_bytes = kMsgpackMaxBytes;
    size_t max_array_items = kMsgpackMaxArrayItems;
    size_t max_map_pairs = kMsgpackMaxMapPairs;
};

// MsgpackError
//
// Why a read failed; the reader keeps the first one.
enum class MsgpackError : unsigned char {
    kNone = 0,
    kTruncated,  // ends before what it declares (a length or count included)
    kMalformed,  // the never-used byte 0xc1
    kTooDeep,    // a container nested deeper than max_depth
    kTooLarge,   // a payload over max_bytes, a count over max_array_items / max_map_pairs
    kWrongType,  // a typed read (read_str, read_int, ...) met another type
};

// msgpack_error_name
//
// Example:
//   msgpack_error_name(MsgpackError::kTooDeep) == "too-deep"
[[nodiscard]] std::string_view msgpack_error_name(MsgpackError error) noexcept;

// MsgpackHead
//
// One value's header. `u` is the kBool (0/1), the kUint value, the raw bits of
// a float, the payload length of kStr/kBin/kExt, the items of kArray or the
// pairs of kMap; `i` is the kNegInt value or the kExt type.
struct MsgpackHead {
    MsgpackType type = MsgpackType::kNil;
    uint64_t u = 0;
    int64_t i = 0;

    [[nodiscard]] bool is_container() const noexcept {
        return type == MsgpackType::kArray || type == MsgpackType::kMap;
    }
    [[nodiscard]] bool has_payload() const noexcept {
        return type == MsgpackType::kStr || type == MsgpackType::kBin || type == MsgpackType::kExt;
    }
    [[nodiscard]] bool is_integer() const noexcept {
        return type == MsgpackType::kUint || type == MsgpackType::kNegInt;
    }
    [[nodiscard]] bool is_float() const noexcept {
        return type == MsgpackType::kFloat32 || type == MsgpackType::kFloat64;
    }
    // Values a container's count says follow it: items, or keys and values.
    [[nodiscard]] uint64_t values() const noexcept { return type == MsgpackType::kMap ? u * 2 : u; }
    // A float's value (any other head: 0).
    [[nodiscard]] double float_value() const noexcept;
};

// MsgpackReader
//
// A cursor over `bytes`, which it never copies: they must outlive the reader
// (a temporary std::string does not). head() reads one value's
// header; then a str/bin/ext payload is read with payload() (or passed with
// skip()), a container is checked with enter() before its values are read
// one by one, and any value can be passed whole with skip(). Levels count
// from 1 for the top value; a decoder passes the level of the value it holds.
//
// Example:
//   MsgpackReader r(blob);
//   MsgpackHead h;
//   if (r.head(&h) && h.type == MsgpackType::kMap && r.enter(h, 1)) {
//       for (uint64_t k = 0; k < h.u; ++k) {
//           std::string_view key;
//           if (!r.read_str(&key) || !r.skip_value(2)) break;
//       }
//   }
//   r.error()  // MsgpackError::kNone when the whole map was well formed
class MsgpackReader {
  public:
    explicit MsgpackReader(std::string_view bytes, const MsgpackLimits& limits = {}) noexcept
        : p_(reinterpret_cast<const unsigned char*>(bytes.data())),
          end_(p_ + bytes.size()),
          limits_(limits) {
        if (limits_.max_depth > kMsgpackMaxDepth) {
            limits_.max_depth = kMsgpackMaxDepth;
        }
    }

    [[nodiscard]] bool at_end() const noexcept { return p_ == end_; }
    [[nodiscard]] size_t remaining() const noexcept { return static_cast<size_t>(end_ - p_); }
    [[nodiscard]] MsgpackError error() const noexcept { return error_; }
    [[nodiscard]] const MsgpackLimits& limits() const noexcept { return limits_; }

    // fail
    //
    // Records `error` unless one is already recorded; always false, so a
    // decoder can `return r.fail(MsgpackError::kWrongType);`.
    bool fail(MsgpackError error) noexcept {
        if (error_ == MsgpackError::kNone) {
            error_ = error;
        }
        return false;
    }

    // head
    //
    // Reads the next value's header (its length or count bytes included, and
    // a number's value); kTruncated or kMalformed (0xc1) otherwise. A
    // kStr/kBin/kExt payload is left for payload() or skip(), which check it
    // is there, so a decoder may first refuse a value for its type.
    // Always inlined (as read_str is): the cursor then stays in registers in
    // a decoder's loop; left to itself the compiler outlines it and the caps
    // and routing reads cost a tenth more than the hand-written ones did.
    [[nodiscard, gnu::always_inline]] bool head(MsgpackHead* h) noexcept {
        if (p_ == end_) {
            return fail(MsgpackError::kTruncated);
        }
        const unsigned char c = *p_;
        // Keys (fixstr) and small numbers (fixint) are most of every blob.
        if (c <= 0x7f) {
            ++p_;
            *h = {MsgpackType::kUint, c, 0};
            return true;
        }
        if (c >= 0xa0 && c <= 0xbf) {
            ++p_;
            *h = {MsgpackType::kStr, static_cast<uint64_t>(c & 0x1f), 0};
            return true;
        }
        const msgpack_detail::ByteInfo b = msgpack_detail::kBytes.at[c];
        if ((b.flags & msgpack_detail::kInvalid) != 0) {
            return fail(MsgpackError::kMalformed);
        }
        ++p_;
        MsgpackHead out{b.type, b.fixed, 0};
        if (b.width != 0) {
            if (remaining() < b.width) {
                return fail(MsgpackError::kTruncated);
            }
            out.u = msgpack_detail::load_be(p_, b.width);
            p_ += b.width;
        }
        if ((b.flags &
             (msgpack_detail::kNegFix | msgpack_detail::kSigned | msgpack_detail::kExtType)) != 0) {
            if ((b.flags & msgpack_detail::kNegFix) != 0) {
                out = {MsgpackType::kNegInt, 0, static_cast<int64_t>(static_cast<signed char>(c))};
            } else if ((b.flags & msgpack_detail::kSigned) != 0) {
                const unsigned shift = 64 - 8 * static_cast<unsigned>(b.width);
                const auto v = static_cast<int64_t>(out.u << shift) >> shift;
                out = v < 0 ? MsgpackHead{MsgpackType::kNegInt, 0, v}
                            : MsgpackHead{MsgpackType::kUint, static_cast<uint64_t>(v), 0};
            } else {  // kExtType
                if (p_ == end_) {
                    return fail(MsgpackError::kTruncated);
                }
                out.i = static_cast<signed char>(*p_++);
            }
        }
        *h = out;
        return true;
    }

    // try_fixstr, try_uint
    //
    // Fast paths for what most of a blob is (fixstr keys and text, small
    // unsigned numbers): try_fixstr reads the next value if it is a fixstr,
    // try_uint if it is a positive fixint or a uint 8/16/32, and only when
    // its bytes are all there; otherwise they read nothing and return false,
    // leaving the value to head() and its checks (and error()).
    [[nodiscard, gnu::always_inline]] bool try_fixstr(std::string_view* out) noexcept {
        if (p_ == end_ || (*p_ & 0xe0) != 0xa0) {
            return false;
        }
        const size_t len = *p_ & 0x1fu;
        if (len >= remaining() || len > limits_.max_bytes) {
            return false;
        }
        *out = std::string_view(reinterpret_cast<const char*>(p_ + 1), len);
        p_ += 1 + len;
        return true;
    }

    [[nodiscard, gnu::always_inline]] bool try_uint(uint64_t* out) noexcept {
        if (p_ == end_) {
            return false;
        }
        const unsigned char c = *p_;
        if (c <= 0x7f) {
            *out = c;
            ++p_;
            return true;
        }
        if (c < 0xcc || c > 0xce) {
            return false;
        }
        const unsigned width = 1u << (c - 0xcc);
        if (remaining() <= width) {
            return false;
        }
        *out = msgpack_detail::load_be(p_ + 1, width);
        p_ += 1 + width;
        return true;
    }

    // payload
    //
    // The str/bin/ext payload of the head just read, as a view into the
    // input: kTruncated when the bytes left cannot hold it, kTooLarge over
    // max_bytes.
    [[nodiscard]] bool payload(const MsgpackHead& h, std::string_view* out) noexcept {
        if (!h.has_payload()) {
            return fail(MsgpackError::kWrongType);
        }
        if (!check_payload(h)) {
            return false;
        }
        *out = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(h.u));
        p_ += h.u;
        return true;
    }

    // enter
    //
    // Checks a container head at nesting `level` before its values are read:
    // kTooDeep over max_depth, kTruncated when the bytes left cannot hold its
    // values (each takes at least one), kTooLarge over the count limits.
    [[nodiscard]] bool enter(const MsgpackHead& h, size_t level) noexcept {
        if (!h.is_container()) {
            return fail(MsgpackError::kWrongType);
        }
        if (level > limits_.max_depth) {
            return fail(MsgpackError::kTooDeep);
        }
        if (h.values() > remaining()) {
            return fail(MsgpackError::kTruncated);
        }
        const size_t cap =
            h.type == MsgpackType::kMap ? limits_.max_map_pairs : limits_.max_array_items;
        if (h.u > cap) {
            return fail(MsgpackError::kTooLarge);
        }
        return true;
    }

    // skip
    //
    // Passes the rest of the value whose head was just read at `level`;
    // a container's values are walked without recursion.
    [[nodiscard]] bool skip(const MsgpackHead& h, size_t level) noexcept {
        if (h.has_payload()) {
            if (!check_payload(h)) {
                return false;
            }
            p_ += h.u;
            return true;
        }
        if (!h.is_container()) {
            return true;
        }
        return enter(h, level) &&
               walk_values(h.values(), level + 1, [](const MsgpackHead&) { return true; });
    }

    // skip (with on_container)
    //
    // As skip(h, level), calling `on_container` as walk() does for every
    // array and map the value holds, `h` first: a decoder that reads some
    // values itself and passes the others keeps one tally over all of them.
    // When it returns false, so does skip(), with error() still kNone.
    //
    // Example:
    //   r.skip(h, 2, [&](const MsgpackHead& c) { return (n += c.u) <= cap; });
    template <typename OnContainer>
    [[nodiscard]] bool skip(const MsgpackHead& h, size_t level,
                            OnContainer&& on_container) noexcept {
        if (!h.is_container()) {
            return skip(h, level);
        }
        return enter(h, level) && on_container(h) &&
               walk_values(h.values(), level + 1, on_container);
    }

    // walk
    //
    // Passes one whole value at `level` (>= 1) in one tight loop, without
    // recursion, calling `on_container(const MsgpackHead&)` for each array
    // and map that enter() accepted, before its values. When it returns
    // false the walk stops there and walk() returns false with error()
    // still kNone: the caller's own refusal.
    //
    // Example:
    //   size_t containers = 0;
    //   r.walk(1, [&](const MsgpackHead&) { return ++containers <= 100; });
    template <typename OnContainer>
    [[nodiscard]] bool walk(size_t level, OnContainer&& on_container) noexcept {
        return walk_values(1, level, on_container);
    }

    // skip_value
    //
    // Reads and passes one whole value at `level`.
    [[nodiscard]] bool skip_value(size_t level) noexcept {
        MsgpackHead h;
        return head(&h) && skip(h, level);
    }

    // read_str, read_int, read_map, read_array
    //
    // A value of one type, or kWrongType (the value is then consumed up to
    // its head). read_int takes any integer encoding into int64; a uint64
    // above INT64_MAX is kWrongType. read_map and read_array enter() the
    // container at `level` and return its count.
    [[nodiscard, gnu::always_inline]] bool read_str(std::string_view* out) noexcept {
        MsgpackHead h;
        if (!head(&h)) {
            return false;
        }
        return h.type == MsgpackType::kStr ? payload(h, out) : fail(MsgpackError::kWrongType);
    }

    [[nodiscard]] bool read_int(int64_t* out) noexcept {
        MsgpackHead h;
        if (!head(&h)) {
            return false;
        }
        if (h.type == MsgpackType::kNegInt) {
            *out = h.i;
            return true;
        }
        if (h.type != MsgpackType::kUint || h.u > static_cast<uint64_t>(INT64_MAX)) {
            return fail(MsgpackError::kWrongType);
        }
        *out = static_cast<int64_t>(h.u);
        return true;
    }

    [[nodiscard]] bool read_map(size_t level, size_t* pairs) noexcept {
        return read_container(MsgpackType::kMap, level, pairs);
    }

    [[nodiscard]] bool read_array(size_t level, size_t* items) noexcept {
        return read_container(MsgpackType::kArray, level, items);
    }

  private:
    [[nodiscard]] bool check_payload(const MsgpackHead& h) noexcept {
        if (h.u > remaining()) {
            return fail(MsgpackError::kTruncated);
        }
        if (h.u > limits_.max_bytes) {
            return fail(MsgpackError::kTooLarge);
        }
        return true;
    }
    [[nodiscard]] bool read_container(MsgpackType type, size_t level, size_t* count) noexcept {
        MsgpackHead h;
        if (!head(&h)) {
            return false;
        }
        if (h.type != type) {
            return fail(MsgpackError::kWrongType);
        }
        if (!enter(h, level)) {
            return false;
        }
        *count = static_cast<size_t>(h.u);
        return true;
    }
    // Passes `count` values at `level`. The cursor lives in locals and the
    // values left in each open container in a fixed stack: enter()'s checks
    // hold `level + open <= max_depth <= kMsgpackMaxDepth`.
    template <typename OnContainer>
    [[nodiscard]] bool walk_values(uint64_t count, size_t level,
                                   OnContainer&& on_container) noexcept {
        uint64_t outer[kMsgpackMaxDepth + 1];
        uint64_t left = count;
        size_t open = 0;
        const unsigned char* p = p_;
        MsgpackError error = MsgpackError::kNone;
        bool stopped = false;
        // Only a limit under 31 bytes can refuse a fixstr.
        const bool tiny_payloads = limits_.max_bytes < 31;
        while (left > 0) {
            if (p == end_) {
                error = MsgpackError::kTruncated;
                break;
            }
            const unsigned char c = *p++;
            if ((c & 0xe0) == 0xa0) {  // fixstr: keys, mostly
                const size_t len = c & 0x1fu;
                if (static_cast<size_t>(end_ - p) < len) {
                    error = MsgpackError::kTruncated;
                    break;
                }
                if (tiny_payloads && len > limits_.max_bytes) {
                    error = MsgpackError::kTooLarge;
                    break;
                }
                p += len;
            } else if (!(c <= 0x7f || c >= 0xe0)) {  // anything but a fixint
                const msgpack_detail::ByteInfo b = msgpack_detail::kBytes.at[c];
                if ((b.flags & msgpack_detail::kInvalid) != 0) {
                    error = MsgpackError::kMalformed;
                    break;
                }
                uint64_t v = b.fixed;
                if (b.width != 0) {
                    if (static_cast<size_t>(end_ - p) < b.width) {
                        error = MsgpackError::kTruncated;
                        break;
                    }
                    v = msgpack_detail::load_be(p, b.width);
                    p += b.width;
                }
                const size_t rest = static_cast<size_t>(end_ - p);
                if ((b.flags & msgpack_detail::kContainer) != 0) {
                    const MsgpackHead h{b.type, v, 0};
                    if (level + open > limits_.max_depth) {
                        error = MsgpackError::kTooDeep;
                        break;
                    }
                    if (h.values() > rest) {
                        error = MsgpackError::kTruncated;
                        break;
                    }
                    if (v > (b.type == MsgpackType::kMap ? limits_.max_map_pairs
                                                         : limits_.max_array_items)) {
                        error = MsgpackError::kTooLarge;
                        break;
                    }
                    if (!on_container(h)) {
                        stopped = true;
                        break;
                    }
                    if (v > 0) {
                        outer[open++] = left;
                        left = h.values();
                        continue;
                    }
                } else if ((b.flags & msgpack_detail::kPayload) != 0) {
                    const uint64_t type_byte = (b.flags & msgpack_detail::kExtType) != 0 ? 1 : 0;
                    if (rest < type_byte || v > rest - type_byte) {
                        error = MsgpackError::kTruncated;
                        break;
                    }
                    if (v > limits_.max_bytes) {
                        error = MsgpackError::kTooLarge;
                        break;
                    }
                    p += type_byte + v;
                }
            }
            // A value is complete: close every container it completes.
            while (--left == 0 && open > 0) {
                left = outer[--open];
            }
        }
        p_ = p;
        if (error != MsgpackError::kNone) {
            return fail(error);
        }
        return !stopped;
    }

    const unsigned char* p_;
    const unsigned char* end_;
    MsgpackLimits limits_;
    MsgpackError error_ = MsgpackError::kNone;
};

}  // namespace tailor
