// MsgpackFormat: what each MessagePack first byte says, as one table built at compile time.
//
// MsgpackReader (msgpack_reader.h) decodes every header with one load from
// this table instead of a switch; the table is written from the spec's
// format list (github.com/msgpack/msgpack/blob/master/spec.md#formats).
#pragma once

#include <cstdint>

namespace tailor {

// MsgpackType
//
// Integers are split by sign, whatever their encoding: kUint for >= 0,
// kNegInt for < 0, so `int8 5` and `uint64 5` read alike.
enum class MsgpackType : unsigned char {
    kNil = 0,
    kBool,
    kUint,
    kNegInt,
    kFloat32,
    kFloat64,
    kStr,
    kBin,
    kExt,
    kArray,
    kMap,
};

namespace msgpack_detail {

// What a first byte says, so head() decodes every format with one load and
// no switch: the type, how many big-endian bytes follow (a value, a length
// or a count), the value of a fix* format, and how to finish.
enum ByteFlag : unsigned char {
    kPlain = 0,
    kSigned = 1,      // int 8..64: sign-extend the `width` bytes
    kExtType = 2,     // ext: a type byte follows the length
    kNegFix = 4,      // negative fixint: the byte is the value
    kInvalid = 8,     // 0xc1
    kContainer = 16,  // array, map: `fixed` or the `width` bytes are the count
    kPayload = 32,    // str, bin, ext: `fixed` or the `width` bytes are the length
};

struct ByteInfo {
    MsgpackType type = MsgpackType::kNil;
    unsigned char width = 0;
    unsigned char fixed = 0;
    unsigned char flags = kPlain;
};

constexpr ByteInfo byte_info(unsigned c) noexcept {
    using T = MsgpackType;
    const auto u8 = [](unsigned v) { return static_cast<unsigned char>(v); };
    if (c <= 0x7f) {
        return {T::kUint, 0, u8(c), kPlain};
    }
    if (c <= 0x8f) {
        return {T::kMap, 0, u8(c & 0x0f), kPlain};
    }
    if (c <= 0x9f) {
        return {T::kArray, 0, u8(c & 0x0f), kPlain};
    }
    if (c <= 0xbf) {
        return {T::kStr, 0, u8(c & 0x1f), kPlain};
    }
    if (c >= 0xe0) {
        return {T::kNegInt, 0, 0, kNegFix};
    }
    switch (c) {
        case 0xc0:
            return {T::kNil, 0, 0, kPlain};
        case 0xc2:
        case 0xc3:
            return {T::kBool, 0, u8(c & 1), kPlain};
        case 0xc4:
        case 0xc5:
        case 0xc6:
            return {T::kBin, u8(1u << (c - 0xc4)), 0, kPlain};
        case 0xc7:
        case 0xc8:
        case 0xc9:
            return {T::kExt, u8(1u << (c - 0xc7)), 0, kExtType};
        case 0xca:
            return {T::kFloat32, 4, 0, kPlain};
        case 0xcb:
            return {T::kFloat64, 8, 0, kPlain};
        case 0xcc:
        case 0xcd:
        case 0xce:
        case 0xcf:
            return {T::kUint, u8(1u << (c - 0xcc)), 0, kPlain};
        case 0xd0:
        case 0xd1:
        case 0xd2:
        case 0xd3:
            return {T::kUint, u8(1u << (c - 0xd0)), 0, kSigned};
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8:
            return {T::kExt, 0, u8(1u << (c - 0xd4)), kExtType};
        case 0xd9:
        case 0xda:
        case 0xdb:
            return {T::kStr, u8(1u << (c - 0xd9)), 0, kPlain};
        case 0xdc:
        case 0xdd:
            return {T::kArray, u8(2u << (c - 0xdc)), 0, kPlain};
        case 0xde:
        case 0xdf:
            return {T::kMap, u8(2u << (c - 0xde)), 0, kPlain};
        default:
            return {T::kNil, 0, 0, kInvalid};
    }
}

struct ByteTable {
    ByteInfo at[256];
};

constexpr ByteTable make_byte_table() noexcept {
    ByteTable t{};
    for (unsigned c = 0; c < 256; ++c) {
        ByteInfo b = byte_info(c);
        if (b.type == MsgpackType::kArray || b.type == MsgpackType::kMap) {
            b.flags = static_cast<unsigned char>(b.flags | kContainer);
        } else if (b.type == MsgpackType::kStr || b.type == MsgpackType::kBin ||
                   b.type == MsgpackType::kExt) {
            b.flags = static_cast<unsigned char>(b.flags | kPayload);
        }
        t.at[c] = b;
    }
    return t;
}

inline constexpr ByteTable kBytes = make_byte_table();

// The big-endian value of width 1, 2, 4 or 8 at `p`.
inline uint64_t load_be(const unsigned char* p, unsigned width) noexcept {
    switch (width) {
        case 1:
            return p[0];
        case 2:
            return static_cast<uint64_t>(p[0]) << 8 | p[1];
        case 4:
            return static_cast<uint64_t>(p[0]) << 24 | static_cast<uint64_t>(p[1]) << 16 |
                   static_cast<uint64_t>(p[2]) << 8 | p[3];
        default:  // spelled out so compilers emit one byte-swapping load
            return static_cast<uint64_t>(p[0]) << 56 | static_cast<uint64_t>(p[1]) << 48 |
                   static_cast<uint64_t>(p[2]) << 40 | static_cast<uint64_t>(p[3]) << 32 |
                   static_cast<uint64_t>(p[4]) << 24 | static_cast<uint64_t>(p[5]) << 16 |
                   static_cast<uint64_t>(p[6]) << 8 | p[7];
    }
}

}  // namespace msgpack_detail

}  // namespace tailor
