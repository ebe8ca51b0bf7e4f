// MsgpackWriter writes the bytes libmsgpackc's packer writes, at every format boundary.
#include "tailor/base/msgpack_writer.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace tailor {
namespace {

int append_to(void* data, const char* buf, size_t len) {
    static_cast<std::string*>(data)->append(buf, len);
    return 0;
}

// The same value through both: libmsgpackc's bytes and ours.
void expect_same(const std::function<void(msgpack_packer*)>& theirs,
                 const std::function<void(MsgpackWriter*)>& ours, const std::string& what) {
    std::string want;
    msgpack_packer pk;
    msgpack_packer_init(&pk, &want, append_to);
    theirs(&pk);

    std::string got(want.size() + MsgpackWriter::kMaxHeaderBytes, '\0');
    MsgpackWriter w(got.data(), got.size());
    ours(&w);
    ASSERT_TRUE(w.ok()) << what;
    got.resize(w.size());
    EXPECT_EQ(got, want) << what;
}

TEST(MsgpackWriter, UnsignedIntegersTakeLibmsgpackcsSmallestFormat) {
    const std::vector<uint64_t> values = {0,
                                          1,
                                          127,
                                          128,
                                          255,
                                          256,
                                          65535,
                                          65536,
                                          4294967295ULL,
                                          4294967296ULL,
                                          std::numeric_limits<uint64_t>::max()};
    for (uint64_t v : values) {
        expect_same([v](msgpack_packer* pk) { msgpack_pack_uint64(pk, v); },
                    [v](MsgpackWriter* w) { w->uint(v); }, "uint64 " + std::to_string(v));
        if (v <= std::numeric_limits<uint32_t>::max()) {
            const auto u = static_cast<uint32_t>(v);
            expect_same([u](msgpack_packer* pk) { msgpack_pack_uint32(pk, u); },
                        [u](MsgpackWriter* w) { w->uint(u); }, "uint32 " + std::to_string(u));
        }
    }
}

TEST(MsgpackWriter, SignedIntegersTakeLibmsgpackcsSmallestFormat) {
    const std::vector<int64_t> values = {0,
                                         1,
                                         127,
                                         128,
                                         65536,
                                         1718000000000LL,
                                         -1,
                                         -32,
                                         -33,
                                         -128,
                                         -129,
                                         -32768,
                                         -32769,
                                         -2147483648LL,
                                         -2147483649LL,
                                         std::numeric_limits<int64_t>::min(),
                                         std::numeric_limits<int64_t>::max()};
    for (int64_t v : values) {
        expect_same([v](msgpack_packer* pk) { msgpack_pack_int64(pk, v); },
                    [v](MsgpackWriter* w) { w->int64(v); }, "int64 " + std::to_string(v));
    }
}

TEST(MsgpackWriter, DoublesAreAlwaysFloat64) {
    for (double v : {0.0, -0.0, 19.99, 1e300, -1.5}) {
        expect_same([v](msgpack_packer* pk) { msgpack_pack_double(pk, v); },
                    [v](MsgpackWriter* w) { w->float64(v); }, "double " + std::to_string(v));
    }
}

TEST(MsgpackWriter, StringsUseFixstrThenStr8Str16Str32) {
    for (size_t n : {0, 1, 31, 32, 255, 256, 65535, 65536}) {
        const std::string s(n, 'x');
        expect_same(
            [&s](msgpack_packer* pk) {
                msgpack_pack_str(pk, s.size());
                msgpack_pack_str_body(pk, s.data(), s.size());
            },
            [&s](MsgpackWriter* w) { w->str(s); }, "str of " + std::to_string(n));
    }
}

TEST(MsgpackWriter, MapsAndArraysUseFixThen16Then32) {
    for (size_t n : {0, 1, 15, 16, 65535, 65536}) {
        expect_same([n](msgpack_packer* pk) { msgpack_pack_map(pk, n); },
                    [n](MsgpackWriter* w) { w->map(n); }, "map of " + std::to_string(n));
        expect_same([n](msgpack_packer* pk) { msgpack_pack_array(pk, n); },
                    [n](MsgpackWriter* w) { w->array(n); }, "array of " + std::to_string(n));
    }
}

TEST(MsgpackWriter, StopsAtTheEndOfItsBufferAndSaysSo) {
    char buf[4];
    MsgpackWriter w(buf, sizeof buf);
    w.str("abc");
    EXPECT_TRUE(w.ok());
    w.uint(70000);  // 5 bytes: does not fit
    EXPECT_FALSE(w.ok());
    w.uint(1);  // nothing more is written once it failed
    EXPECT_FALSE(w.ok());
    EXPECT_EQ(w.size(), 4u);
}

}  // namespace
}  // namespace tailor
