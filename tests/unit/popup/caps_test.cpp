// PopupCaps: decoding tailor:{vid}:caps, its bounds and its refusals.
#include "tailor/popup/caps.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace tailor {
namespace {

// A tiny MessagePack writer for the tests' blobs.
struct Pack {
    std::string b;

    Pack& raw(std::initializer_list<int> bytes) {
        for (int c : bytes) {
            b.push_back(static_cast<char>(c));
        }
        return *this;
    }
    Pack& map(uint32_t n) {
        if (n < 16) {
            return raw({0x80 | static_cast<int>(n)});
        }
        return raw({0xde, static_cast<int>(n >> 8), static_cast<int>(n & 0xff)});
    }
    Pack& arr(uint32_t n) {
        if (n < 16) {
            return raw({0x90 | static_cast<int>(n)});
        }
        return raw({0xdc, static_cast<int>(n >> 8), static_cast<int>(n & 0xff)});
    }
    Pack& str(std::string_view s) {
        if (s.size() < 32) {
            raw({0xa0 | static_cast<int>(s.size())});
        } else {
            raw({0xd9, static_cast<int>(s.size())});
        }
        b.append(s);
        return *this;
    }
    Pack& uint(uint64_t v) {
        if (v < 128) {
            return raw({static_cast<int>(v)});
        }
        raw({0xcf});
        for (int shift = 56; shift >= 0; shift -= 8) {
            b.push_back(static_cast<char>((v >> shift) & 0xff));
        }
        return *this;
    }
};

constexpr int64_t kT = 1763600000;

// {"v":1,"p":{"cart-rescue":{"imp":[T,T-100],"visit":4,"visit_imp":1,"close":T-50,"conv":0}}}
std::string typical() {
    Pack p;
    p.map(2).str("v").uint(1).str("p").map(1).str("cart-rescue").map(5);
    p.str("imp").arr(2).uint(kT).uint(kT - 100);
    p.str("visit").uint(4).str("visit_imp").uint(1).str("close").uint(kT - 50).str("conv").uint(0);
    return p.b;
}

TEST(PopupCaps, DecodesTheTypicalRecord) {
    const std::string blob = typical();  // the ids view it
    auto r = decode_popup_caps(blob);
    ASSERT_EQ(r.error, PopupCapsError::kNone);
    ASSERT_EQ(r.caps.entries.size(), 1u);
    const PopupCapsEntry* e = r.caps.find("cart-rescue");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->impression_count, 2u);
    EXPECT_EQ(e->impressions[0], kT);
    EXPECT_EQ(e->impressions[1], kT - 100);
    EXPECT_EQ(e->visit, 4);
    EXPECT_EQ(e->visit_impressions, 1);
    EXPECT_EQ(e->closed_at, kT - 50);
    EXPECT_EQ(e->converted_at, 0);
    EXPECT_EQ(r.caps.find("other"), nullptr);
    EXPECT_EQ(r.skipped, 0u);
}

TEST(PopupCaps, IdsViewTheInputBytes) {
    std::string blob = typical();
    auto r = decode_popup_caps(blob);
    ASSERT_EQ(r.caps.entries.size(), 1u);
    const char* id = r.caps.entries[0].id.data();
    EXPECT_GE(id, blob.data());
    EXPECT_LT(id, blob.data() + blob.size());
}

TEST(PopupCaps, EmptyBlobIsNoCapsNotAnError) {
    auto r = decode_popup_caps("");
    EXPECT_EQ(r.error, PopupCapsError::kNone);
    EXPECT_TRUE(r.caps.entries.empty());
}

TEST(PopupCaps, MissingVersionIsOneAndNewerIsRefused) {
    Pack ok;
    ok.map(1).str("p").map(1).str("a").map(1).str("close").uint(5);
    EXPECT_EQ(decode_popup_caps(ok.b).error, PopupCapsError::kNone);
    Pack newer;
    newer.map(2).str("p").map(1).str("a").map(0).str("v").uint(2);
    auto r = decode_popup_caps(newer.b);
    EXPECT_EQ(r.error, PopupCapsError::kUnsupportedVersion);
    EXPECT_TRUE(r.caps.entries.empty());
    Pack negative;
    negative.map(1).str("v").raw({0xff});
    EXPECT_EQ(decode_popup_caps(negative.b).error, PopupCapsError::kUnsupportedVersion);
}

TEST(PopupCaps, UnknownKeysAndWrongTypesAreSkipped) {
    Pack p;
    p.map(3).str("v").uint(1).str("future").map(1).str("x").arr(2).uint(1).str("y");
    p.str("p").map(2).str("a").map(4);
    p.str("close").str("yesterday");                    // wrong type
    p.str("conv").raw({0xcb, 0, 0, 0, 0, 0, 0, 0, 0});  // a float: wrong type
    p.str("imp").arr(3).uint(10).raw({0xc0}).uint(30);  // nil skipped
    p.str("new_field").raw({0xc3});
    p.str("b").uint(7);  // not a map
    auto r = decode_popup_caps(p.b);
    ASSERT_EQ(r.error, PopupCapsError::kNone);
    ASSERT_EQ(r.caps.entries.size(), 1u);
    const PopupCapsEntry& e = r.caps.entries[0];
    EXPECT_EQ(e.closed_at, 0);
    EXPECT_EQ(e.converted_at, 0);
    ASSERT_EQ(e.impression_count, 2u);
    EXPECT_EQ(e.impressions[1], 30);
    EXPECT_EQ(r.skipped, 4u);
}

TEST(PopupCaps, TimesOutOfRangeAreSkipped) {
    Pack p;
    p.map(1)
        .str("p")
        .map(1)
        .str("a")
        .map(2)
        .str("close")
        .uint(253402300800ull)
        .str("conv")
        .raw({0xd0, 0x80});  // -128
    auto r = decode_popup_caps(p.b);
    ASSERT_EQ(r.error, PopupCapsError::kNone);
    EXPECT_EQ(r.caps.entries[0].closed_at, 0);
    EXPECT_EQ(r.caps.entries[0].converted_at, 0);
    EXPECT_EQ(r.skipped, 2u);
}

TEST(PopupCaps, ImpressionsAtTheCapAreKeptOnePastIsDropped) {
    for (size_t n : {kMaxPopupImpressions, kMaxPopupImpressions + 1}) {
        Pack p;
        p.map(1).str("p").map(1).str("a").map(1).str("imp").arr(static_cast<uint32_t>(n));
        for (size_t i = 0; i < n; ++i) {
            p.uint(1000 + i);
        }
        auto r = decode_popup_caps(p.b);
        ASSERT_EQ(r.error, PopupCapsError::kNone);
        EXPECT_EQ(r.caps.entries[0].impression_count, kMaxPopupImpressions);
        EXPECT_EQ(r.caps.entries[0].impressions[0], 1000);  // the newest (first) are kept
        EXPECT_EQ(r.skipped, n - kMaxPopupImpressions);
    }
}

TEST(PopupCaps, EntriesAtTheCapAreKeptOnePastIsDropped) {
    for (size_t n : {kMaxPopupCapsEntries, kMaxPopupCapsEntries + 1}) {
        Pack p;
        p.map(1).str("p").map(static_cast<uint32_t>(n));
        for (size_t i = 0; i < n; ++i) {
            p.str("popup-" + std::to_string(i)).map(0);
        }
        auto r = decode_popup_caps(p.b);
        ASSERT_EQ(r.error, PopupCapsError::kNone);
        EXPECT_EQ(r.caps.entries.size(), kMaxPopupCapsEntries);
        EXPECT_EQ(r.skipped, n - kMaxPopupCapsEntries);
    }
}

TEST(PopupCaps, IdsLongerThan64BytesAreSkipped) {
    Pack p;
    p.map(1).str("p").map(2).str(std::string(64, 'a')).map(0).str(std::string(65, 'b')).map(0);
    auto r = decode_popup_caps(p.b);
    ASSERT_EQ(r.error, PopupCapsError::kNone);
    EXPECT_EQ(r.caps.entries.size(), 1u);
    EXPECT_EQ(r.skipped, 1u);
}

TEST(PopupCaps, SizeAtTheLimitIsReadOnePastIsRefused) {
    // {"pad": <bin of the right size>}
    auto blob = [](size_t total) {
        Pack p;
        p.map(1).str("pad");
        size_t payload = total - p.b.size() - 3;
        p.raw({0xc5, static_cast<int>(payload >> 8), static_cast<int>(payload & 0xff)});
        p.b.append(payload, 'x');
        return p.b;
    };
    EXPECT_EQ(decode_popup_caps(blob(kMaxPopupCapsBytes)).error, PopupCapsError::kNone);
    EXPECT_EQ(decode_popup_caps(blob(kMaxPopupCapsBytes + 1)).error, PopupCapsError::kTooLarge);
}

TEST(PopupCaps, NestingAtTheLimitIsReadOnePastIsRefused) {
    auto nested = [](size_t depth) {  // {"x": [[[...]]]}, the top map is level 1
        Pack p;
        p.map(1).str("x");
        for (size_t i = 1; i < depth; ++i) {
            p.arr(i + 1 < depth ? 1 : 0);
        }
        return p.b;
    };
    EXPECT_EQ(decode_popup_caps(nested(kMaxPopupCapsDepth)).error, PopupCapsError::kNone);
    EXPECT_EQ(decode_popup_caps(nested(kMaxPopupCapsDepth + 1)).error, PopupCapsError::kTooDeep);
}

TEST(PopupCaps, TruncatedAndLyingLengthsAreRefused) {
    std::string blob = typical();
    for (size_t cut = 1; cut < blob.size(); ++cut) {
        auto r = decode_popup_caps(std::string_view(blob).substr(0, cut));
        EXPECT_EQ(r.error, PopupCapsError::kTruncated) << cut;
        EXPECT_TRUE(r.caps.entries.empty());
    }
    // a map claiming 4 billion pairs in 5 bytes
    EXPECT_EQ(decode_popup_caps(std::string("\xdf\xff\xff\xff\xff", 5)).error,
              PopupCapsError::kTruncated);
    // a string claiming 4 GiB
    EXPECT_EQ(decode_popup_caps(std::string("\x81\xdb\xff\xff\xff\xff", 6)).error,
              PopupCapsError::kTruncated);
}

TEST(PopupCaps, NotAMapAndTrailingBytesAndC1AreRefused) {
    EXPECT_EQ(decode_popup_caps(std::string("\x91\xc0", 2)).error, PopupCapsError::kNotAMap);
    EXPECT_EQ(decode_popup_caps(std::string("\x80\x00", 2)).error, PopupCapsError::kMalformed);
    EXPECT_EQ(decode_popup_caps(std::string("\x81\xa1k\xc1", 4)).error, PopupCapsError::kMalformed);
    EXPECT_EQ(popup_caps_error_name(PopupCapsError::kTooDeep), "too-deep");
}

TEST(PopupCaps, ExtAndBinValuesAreSkipped) {
    Pack p;
    p.map(3).str("t").raw({0xd6, 0xff, 0, 0, 0, 1}).str("b").raw({0xc4, 2, 1, 2}).str("p").map(0);
    EXPECT_EQ(decode_popup_caps(p.b).error, PopupCapsError::kNone);
}

}  // namespace
}  // namespace tailor
