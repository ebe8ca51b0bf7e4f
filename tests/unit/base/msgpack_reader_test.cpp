// MsgpackReader: every format, the limits at and one past, truncation at every byte, walk and skip.
#include "tailor/base/msgpack_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tailor {
namespace {

std::string bytes(std::initializer_list<int> list) {
    std::string s;
    for (int b : list) {
        s.push_back(static_cast<char>(b));
    }
    return s;
}

MsgpackHead head_of(const std::string& s) {
    MsgpackReader r(s);
    MsgpackHead h;
    EXPECT_TRUE(r.head(&h)) << msgpack_error_name(r.error());
    return h;
}

// `n` arrays of one item each around an empty array: depth n + 1.
std::string nested_arrays(size_t n) {
    return std::string(n, '\x91') + "\x90";
}

// One of every format, wrapped in an array.
std::string every_format() {
    std::string s = bytes({0xdc, 0x00, 20});  // array16 of 20
    s += bytes({0x05, 0xff, 0xc0, 0xc3});     // 5, -1, nil, true
    s += bytes({0xcc, 0xff, 0xcd, 0x01, 0x00, 0xce, 0, 0, 1, 0});
    s += bytes({0xcf, 0, 0, 0, 1, 0, 0, 0, 0});
    s += bytes({0xd0, 0x80, 0xd1, 0xff, 0x00, 0xd2, 0, 0, 0, 7});
    s += bytes({0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe});
    s += bytes({0xca, 0x3f, 0x80, 0, 0, 0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0});
    s += bytes({0xa2, 'h', 'i', 0xd9, 1, 'x', 0xc4, 2, 0xde, 0xad});
    s += bytes({0xd4, 0x01, 0xaa, 0xc7, 1, 0x02, 0xbb});
    s += bytes({0x81, 0xa1, 'k', 0x90});  // {"k": []}
    return s;
}

TEST(MsgpackReader, ReadsEveryScalarFormat) {
    EXPECT_EQ(head_of(bytes({0x7f})).u, 127u);
    EXPECT_EQ(head_of(bytes({0xe0})).i, -32);
    EXPECT_EQ(head_of(bytes({0xc0})).type, MsgpackType::kNil);
    EXPECT_EQ(head_of(bytes({0xc2})).type, MsgpackType::kBool);
    EXPECT_EQ(head_of(bytes({0xc3})).u, 1u);
    EXPECT_EQ(head_of(bytes({0xcc, 0xfe})).u, 254u);
    EXPECT_EQ(head_of(bytes({0xcd, 0x12, 0x34})).u, 0x1234u);
    EXPECT_EQ(head_of(bytes({0xce, 0x12, 0x34, 0x56, 0x78})).u, 0x12345678u);
    EXPECT_EQ(head_of(bytes({0xcf, 0xff, 0, 0, 0, 0, 0, 0, 1})).u, 0xff00000000000001u);
    EXPECT_EQ(head_of(bytes({0xd0, 0x80})).i, -128);
    EXPECT_EQ(head_of(bytes({0xd1, 0x80, 0x00})).i, -32768);
    EXPECT_EQ(head_of(bytes({0xd2, 0xff, 0xff, 0xff, 0xfe})).i, -2);
    EXPECT_EQ(head_of(bytes({0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0})).i, INT64_MIN);
    EXPECT_EQ(head_of(bytes({0xca, 0x3f, 0xc0, 0, 0})).float_value(), 1.5);
    EXPECT_EQ(head_of(bytes({0xcb, 0xc0, 0x04, 0, 0, 0, 0, 0, 0})).float_value(), -2.5);
    const MsgpackHead ext = head_of(bytes({0xd6, 0xff, 1, 2, 3, 4}));
    EXPECT_EQ(ext.type, MsgpackType::kExt);
    EXPECT_EQ(ext.u, 4u);
    EXPECT_EQ(ext.i, -1);  // the timestamp extension
    EXPECT_EQ(head_of(bytes({0xc8, 0x00, 0x02, 0x05, 1, 2})).u, 2u);
    EXPECT_EQ(head_of(bytes({0xc6, 0, 0, 0, 1, 9})).type, MsgpackType::kBin);
    EXPECT_EQ(head_of(bytes({0xdb, 0, 0, 0, 1, 'z'})).type, MsgpackType::kStr);
}

TEST(MsgpackReader, IntegersReadAlikeWhateverTheirWidth) {
    for (const std::string& five :
         {bytes({0x05}), bytes({0xd0, 5}), bytes({0xd3, 0, 0, 0, 0, 0, 0, 0, 5}),
          bytes({0xcf, 0, 0, 0, 0, 0, 0, 0, 5})}) {
        const MsgpackHead h = head_of(five);
        EXPECT_EQ(h.type, MsgpackType::kUint);
        EXPECT_EQ(h.u, 5u);
    }
    const std::string r_bytes = bytes({0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0});
    MsgpackReader r(r_bytes);
    int64_t v = 0;
    EXPECT_FALSE(r.read_int(&v));  // above INT64_MAX
    EXPECT_EQ(r.error(), MsgpackError::kWrongType);
}

TEST(MsgpackReader, PayloadViewsTheInputWithoutCopying) {
    const std::string s = bytes({0xa3, 'a', 'b', 'c', 0xc4, 2, 0x00, 0x01});
    MsgpackReader r(s);
    std::string_view str;
    ASSERT_TRUE(r.read_str(&str));
    EXPECT_EQ(str, "abc");
    EXPECT_EQ(str.data(), s.data() + 1);
    MsgpackHead h;
    std::string_view bin;
    ASSERT_TRUE(r.head(&h) && r.payload(h, &bin));
    EXPECT_EQ(bin, std::string_view("\0\1", 2));
    EXPECT_TRUE(r.at_end());
}

TEST(MsgpackReader, WalksEveryFormatAndEndsExactly) {
    const std::string s = every_format();
    MsgpackReader r(s);
    size_t containers = 0;
    ASSERT_TRUE(r.walk(1, [&](const MsgpackHead&) { return ++containers > 0; }))
        << msgpack_error_name(r.error());
    EXPECT_TRUE(r.at_end());
    EXPECT_EQ(containers, 3u);
    MsgpackReader again(s);
    EXPECT_TRUE(again.skip_value(1));
    EXPECT_TRUE(again.at_end());
}

TEST(MsgpackReader, EveryTruncationIsTruncated) {
    const std::string s = every_format();
    for (size_t n = 0; n < s.size(); ++n) {
        MsgpackReader walker(std::string_view(s).substr(0, n));
        EXPECT_FALSE(walker.walk(1, [](const MsgpackHead&) { return true; })) << n;
        EXPECT_EQ(walker.error(), MsgpackError::kTruncated) << n;
        MsgpackReader skipper(std::string_view(s).substr(0, n));
        EXPECT_FALSE(skipper.skip_value(1)) << n;
        EXPECT_EQ(skipper.error(), MsgpackError::kTruncated) << n;
    }
}

TEST(MsgpackReader, LyingCountsAndLengthsAreRefusedBeforeUse) {
    for (const std::string& lie :
         {bytes({0xdd, 0xff, 0xff, 0xff, 0xff}), bytes({0xdf, 0xff, 0xff, 0xff, 0xff}),
          bytes({0x82, 0xa1, 'k', 0xc0}), bytes({0xdb, 0xff, 0xff, 0xff, 0xff, 'x'}),
          bytes({0xc6, 0x7f, 0xff, 0xff, 0xff}), bytes({0xc9, 0, 0, 0, 9, 1, 2})}) {
        MsgpackReader r(lie);
        EXPECT_FALSE(r.skip_value(1));
        EXPECT_EQ(r.error(), MsgpackError::kTruncated);
    }
    // A map's count promises two values per pair.
    const std::string r_bytes = bytes({0x81, 0xc0});
    MsgpackReader r(r_bytes);
    MsgpackHead h;
    ASSERT_TRUE(r.head(&h));
    EXPECT_FALSE(r.enter(h, 1));
    EXPECT_EQ(r.error(), MsgpackError::kTruncated);
}

TEST(MsgpackReader, C1IsMalformed) {
    const std::string r_bytes = bytes({0x91, 0xc1});
    MsgpackReader r(r_bytes);
    EXPECT_FALSE(r.skip_value(1));
    EXPECT_EQ(r.error(), MsgpackError::kMalformed);
    const std::string h_bytes = bytes({0xc1});
    MsgpackReader h(h_bytes);
    MsgpackHead head;
    EXPECT_FALSE(h.head(&head));
    EXPECT_EQ(h.error(), MsgpackError::kMalformed);
}

TEST(MsgpackReader, DepthAtTheLimitIsReadOnePastIsRefused) {
    MsgpackLimits limits;
    limits.max_depth = 4;
    const std::string at_bytes = nested_arrays(3);
    MsgpackReader at(at_bytes, limits);
    EXPECT_TRUE(at.skip_value(1));
    const std::string past_bytes = nested_arrays(4);
    MsgpackReader past(past_bytes, limits);
    EXPECT_FALSE(past.skip_value(1));
    EXPECT_EQ(past.error(), MsgpackError::kTooDeep);
    // An empty container one level past is still a container too deep.
    const std::string empty_bytes = bytes({0x91, 0x91, 0x91, 0x91, 0x80});
    MsgpackReader empty(empty_bytes, limits);
    EXPECT_FALSE(empty.walk(1, [](const MsgpackHead&) { return true; }));
    EXPECT_EQ(empty.error(), MsgpackError::kTooDeep);
    // Levels count from where the caller stands.
    const std::string inner_bytes = nested_arrays(1);
    MsgpackReader inner(inner_bytes, limits);
    EXPECT_TRUE(inner.skip_value(3));
    const std::string deeper_bytes = nested_arrays(1);
    MsgpackReader deeper(deeper_bytes, limits);
    EXPECT_FALSE(deeper.skip_value(4));
}

TEST(MsgpackReader, MaxDepthIsClampedToTheCeiling) {
    MsgpackLimits limits;
    limits.max_depth = 1000;
    const std::string at_bytes = nested_arrays(kMsgpackMaxDepth - 1);
    MsgpackReader at(at_bytes, limits);
    EXPECT_EQ(at.limits().max_depth, kMsgpackMaxDepth);
    EXPECT_TRUE(at.skip_value(1));
    const std::string past_bytes = nested_arrays(kMsgpackMaxDepth);
    MsgpackReader past(past_bytes, limits);
    EXPECT_FALSE(past.skip_value(1));
    EXPECT_EQ(past.error(), MsgpackError::kTooDeep);
}

TEST(MsgpackReader, PayloadsAtTheLimitAreReadOnePastAreTooLarge) {
    MsgpackLimits limits;
    limits.max_bytes = 4;
    for (const std::string& at : {bytes({0xa4, 'a', 'b', 'c', 'd'}), bytes({0xc4, 4, 1, 2, 3, 4}),
                                  bytes({0xd6, 1, 1, 2, 3, 4})}) {
        MsgpackReader r(at, limits);
        EXPECT_TRUE(r.skip_value(1));
        MsgpackReader w(at, limits);
        EXPECT_TRUE(w.walk(1, [](const MsgpackHead&) { return true; }));
    }
    for (const std::string& past :
         {bytes({0xa5, 'a', 'b', 'c', 'd', 'e'}), bytes({0xc4, 5, 1, 2, 3, 4, 5}),
          bytes({0xd7, 1, 1, 2, 3, 4, 5, 6, 7, 8})}) {
        MsgpackReader r(past, limits);
        EXPECT_FALSE(r.skip_value(1));
        EXPECT_EQ(r.error(), MsgpackError::kTooLarge);
        MsgpackReader w(past, limits);
        EXPECT_FALSE(w.walk(1, [](const MsgpackHead&) { return true; }));
        EXPECT_EQ(w.error(), MsgpackError::kTooLarge);
    }
}

TEST(MsgpackReader, CountsAtTheLimitAreReadOnePastAreTooLarge) {
    MsgpackLimits limits;
    limits.max_array_items = 2;
    limits.max_map_pairs = 1;
    const std::string array_at_bytes = bytes({0x92, 1, 2});
    MsgpackReader array_at(array_at_bytes, limits);
    EXPECT_TRUE(array_at.skip_value(1));
    const std::string array_past_bytes = bytes({0x93, 1, 2, 3});
    MsgpackReader array_past(array_past_bytes, limits);
    EXPECT_FALSE(array_past.skip_value(1));
    EXPECT_EQ(array_past.error(), MsgpackError::kTooLarge);
    const std::string map_at_bytes = bytes({0x81, 1, 2});
    MsgpackReader map_at(map_at_bytes, limits);
    EXPECT_TRUE(map_at.skip_value(1));
    const std::string map_past_bytes = bytes({0x82, 1, 2, 3, 4});
    MsgpackReader map_past(map_past_bytes, limits);
    size_t pairs = 0;
    EXPECT_FALSE(map_past.read_map(1, &pairs));
    EXPECT_EQ(map_past.error(), MsgpackError::kTooLarge);
}

TEST(MsgpackReader, TypedReadsReportTheWrongTypeAndTheFirstErrorSticks) {
    const std::string r_bytes = bytes({0x05, 0x91, 0xc1});
    MsgpackReader r(r_bytes);
    std::string_view s;
    EXPECT_FALSE(r.read_str(&s));
    EXPECT_EQ(r.error(), MsgpackError::kWrongType);
    size_t n = 0;
    EXPECT_FALSE(r.read_map(1, &n));  // an array: its head is consumed
    EXPECT_FALSE(r.skip_value(1));    // 0xc1
    EXPECT_EQ(r.error(), MsgpackError::kWrongType);
    EXPECT_EQ(msgpack_error_name(MsgpackError::kTooDeep), "too-deep");
    EXPECT_EQ(msgpack_error_name(MsgpackError::kWrongType), "wrong-type");
}

TEST(MsgpackReader, WalkStopsWhenTheCallerRefusesAContainer) {
    const std::string s = bytes({0x92, 0x91, 0x01, 0x92, 0x01, 0x02});
    MsgpackReader r(s);
    size_t seen = 0;
    EXPECT_FALSE(r.walk(1, [&](const MsgpackHead& h) {
        ++seen;
        return h.u < 2 || seen == 1;  // refuses the second two-item array
    }));
    EXPECT_EQ(seen, 3u);
    EXPECT_EQ(r.error(), MsgpackError::kNone);
}

TEST(MsgpackReader, SkipPassesOneValueAndLeavesTheRest) {
    const std::string s = bytes({0x82, 0xa1, 'a', 0x91, 0x01, 0xa1, 'b', 0xc0, 0x2a});
    MsgpackReader r(s);
    ASSERT_TRUE(r.skip_value(1));
    int64_t v = 0;
    ASSERT_TRUE(r.read_int(&v));
    EXPECT_EQ(v, 42);
    EXPECT_TRUE(r.at_end());
    MsgpackReader empty("");
    MsgpackHead h;
    EXPECT_FALSE(empty.head(&h));
    EXPECT_EQ(empty.error(), MsgpackError::kTruncated);
}

TEST(MsgpackReader, TryFixstrAndTryUintReadOnlyWholeValuesAndLeaveTheRestToHead) {
    std::string_view text;
    const std::string whole_bytes = bytes({0xa3, 'a', 'b', 'c'});
    MsgpackReader whole(whole_bytes);
    ASSERT_TRUE(whole.try_fixstr(&text));
    EXPECT_EQ(text, "abc");
    EXPECT_TRUE(whole.at_end());

    const std::string cut = bytes({0xa3, 'a', 'b'});
    MsgpackReader short_str(cut);
    EXPECT_FALSE(short_str.try_fixstr(&text));
    EXPECT_EQ(short_str.remaining(), cut.size());
    EXPECT_FALSE(short_str.read_str(&text));
    EXPECT_EQ(short_str.error(), MsgpackError::kTruncated);

    MsgpackLimits tiny;
    tiny.max_bytes = 2;
    const std::string limited_bytes = bytes({0xa3, 'a', 'b', 'c'});
    MsgpackReader limited(limited_bytes, tiny);
    EXPECT_FALSE(limited.try_fixstr(&text));
    EXPECT_FALSE(limited.read_str(&text));
    EXPECT_EQ(limited.error(), MsgpackError::kTooLarge);

    const std::string str8_bytes = bytes({0xd9, 0x01, 'x'});
    MsgpackReader str8(str8_bytes);
    EXPECT_FALSE(str8.try_fixstr(&text));
    ASSERT_TRUE(str8.read_str(&text));
    EXPECT_EQ(text, "x");

    const std::string numbers =
        bytes({0x05, 0xcc, 0xff, 0xcd, 0x01, 0x00, 0xce, 0x00, 0x01, 0x00, 0x00});
    MsgpackReader r(numbers);
    uint64_t u = 0;
    for (uint64_t want : {5ull, 255ull, 256ull, 65536ull}) {
        ASSERT_TRUE(r.try_uint(&u));
        EXPECT_EQ(u, want);
    }
    EXPECT_TRUE(r.at_end());
    EXPECT_FALSE(r.try_uint(&u));
    EXPECT_EQ(r.error(), MsgpackError::kNone);

    // uint 64, negative, a string, a cut uint 32: left to head().
    for (const std::string& other : {bytes({0xcf, 0, 0, 0, 0, 0, 0, 0, 1}), bytes({0xff}),
                                     bytes({0xa1, 'a'}), bytes({0xce, 0x00, 0x01})}) {
        MsgpackReader o(other);
        EXPECT_FALSE(o.try_uint(&u));
        EXPECT_EQ(o.remaining(), other.size());
    }
}

TEST(MsgpackReader, SkipWithOnContainerTalliesEveryContainerItPasses) {
    // {"a": [1, [2]]}
    const std::string s = bytes({0x81, 0xa1, 'a', 0x92, 0x01, 0x91, 0x02});
    MsgpackReader r(s);
    MsgpackHead h;
    ASSERT_TRUE(r.head(&h));
    uint64_t containers = 0;
    uint64_t values = 0;
    ASSERT_TRUE(r.skip(h, 1, [&](const MsgpackHead& c) {
        ++containers;
        values += c.u;
        return true;
    }));
    EXPECT_EQ(containers, 3u);
    EXPECT_EQ(values, 4u);
    EXPECT_TRUE(r.at_end());

    MsgpackReader refused(s);
    ASSERT_TRUE(refused.head(&h));
    EXPECT_FALSE(
        refused.skip(h, 1, [&](const MsgpackHead& c) { return c.type == MsgpackType::kMap; }));
    EXPECT_EQ(refused.error(), MsgpackError::kNone);

    MsgpackReader deep(
        s, MsgpackLimits{2, kMsgpackMaxBytes, kMsgpackMaxArrayItems, kMsgpackMaxMapPairs});
    ASSERT_TRUE(deep.head(&h));
    EXPECT_FALSE(deep.skip(h, 1, [](const MsgpackHead&) { return true; }));
    EXPECT_EQ(deep.error(), MsgpackError::kTooDeep);

    const std::string scalar_bytes = bytes({0x2a});
    MsgpackReader scalar(scalar_bytes);
    ASSERT_TRUE(scalar.head(&h));
    EXPECT_TRUE(scalar.skip(h, 1, [](const MsgpackHead&) { return false; }));
}

}  // namespace
}  // namespace tailor
