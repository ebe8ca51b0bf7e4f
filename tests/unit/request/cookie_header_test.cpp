// CookieHeader tests: finding one cookie among many, quoting, duplicates and garbage.
#include "tailor/request/cookie_header.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tailor {
namespace {

TEST(CookieHeader, FindsTheOnlyCookie) {
    EXPECT_EQ(find_cookie("a=1", "a"), "1");
}

TEST(CookieHeader, FindsACookieAmongSeveral) {
    const std::string_view h = "_ga=GA1.2.3; tailor_vid=abc.k1.mac; cart=7";
    EXPECT_EQ(find_cookie(h, "_ga"), "GA1.2.3");
    EXPECT_EQ(find_cookie(h, "tailor_vid"), "abc.k1.mac");
    EXPECT_EQ(find_cookie(h, "cart"), "7");
}

TEST(CookieHeader, MissingCookieIsNullopt) {
    EXPECT_EQ(find_cookie("a=1; b=2", "c"), std::nullopt);
    EXPECT_EQ(find_cookie("", "c"), std::nullopt);
}

TEST(CookieHeader, SpacesAndTabsAroundPartsAreOptional) {
    EXPECT_EQ(find_cookie("a=1;b=2", "b"), "2");
    EXPECT_EQ(find_cookie("  a = 1 ;\tb\t=\t2\t", "b"), "2");
    EXPECT_EQ(find_cookie("a=1; b=2 ", "b"), "2");
}

TEST(CookieHeader, QuotedValueIsUnquoted) {
    EXPECT_EQ(find_cookie("a=\"x.y.z\"", "a"), "x.y.z");
    EXPECT_EQ(find_cookie("a=\"\"", "a"), "");
}

TEST(CookieHeader, UnbalancedQuoteIsSkippedAsGarbage) {
    EXPECT_EQ(find_cookie("a=\"x; a=2", "a"), "2");
    EXPECT_EQ(find_cookie("a=\"", "a"), std::nullopt);
    EXPECT_EQ(find_cookie("a=x\"y; a=3", "a"), "3");
}

TEST(CookieHeader, FirstDuplicateWins) {
    EXPECT_EQ(find_cookie("a=1; a=2; a=3", "a"), "1");
}

TEST(CookieHeader, NamesAreCaseSensitive) {
    EXPECT_EQ(find_cookie("A=1; a=2", "a"), "2");
    EXPECT_EQ(find_cookie("A=1", "a"), std::nullopt);
}

TEST(CookieHeader, GarbageSegmentsAreSkipped) {
    EXPECT_EQ(find_cookie("junk; ;;=x; a b=1; a=2", "a"), "2");
    EXPECT_EQ(find_cookie(";;;a=1;;;", "a"), "1");
}

TEST(CookieHeader, NameWithSeparatorIsGarbage) {
    EXPECT_EQ(find_cookie("a(b=1; a=2", "a(b"), std::nullopt);
    EXPECT_EQ(find_cookie("a,b=1", "a,b"), std::nullopt);
}

TEST(CookieHeader, EmptyValueIsAValue) {
    EXPECT_EQ(find_cookie("a=; b=2", "a"), "");
}

TEST(CookieHeader, ValueMayHoldEqualsSigns) {
    EXPECT_EQ(find_cookie("a=b=c==; d=1", "a"), "b=c==");
}

TEST(CookieHeader, EmptyNameNeverMatches) {
    EXPECT_EQ(find_cookie("=1; a=2", ""), std::nullopt);
}

TEST(CookieHeader, NameIsNotMatchedAsPrefixOrSuffix) {
    EXPECT_EQ(find_cookie("tailor_vid_old=1; xtailor_vid=2", "tailor_vid"), std::nullopt);
}

TEST(CookieHeader, SearchingHeadersInOrderFindsTheFirst) {
    const std::vector<std::string_view> headers = {"x=1; y=2", "tailor_vid=first",
                                                   "tailor_vid=2nd"};
    std::optional<std::string_view> found;
    for (std::string_view h : headers) {
        if ((found = find_cookie(h, "tailor_vid"))) {
            break;
        }
    }
    EXPECT_EQ(found, "first");
}

TEST(CookieCursor, WalksWellFormedCookiesInOrder) {
    CookieCursor cursor("a=1; junk; b=\"2\";c=");
    Cookie c;
    ASSERT_TRUE(cursor.next(&c));
    EXPECT_EQ(c.name, "a");
    EXPECT_EQ(c.value, "1");
    ASSERT_TRUE(cursor.next(&c));
    EXPECT_EQ(c.name, "b");
    EXPECT_EQ(c.value, "2");
    ASSERT_TRUE(cursor.next(&c));
    EXPECT_EQ(c.name, "c");
    EXPECT_EQ(c.value, "");
    EXPECT_FALSE(cursor.next(&c));
    EXPECT_FALSE(cursor.next(&c));
}

TEST(CookieCursor, ValuesViewTheHeader) {
    const std::string header = "a=1; b=2";
    CookieCursor cursor(header);
    Cookie c;
    ASSERT_TRUE(cursor.next(&c));
    EXPECT_EQ(c.value.data(), header.data() + 2);
}

}  // namespace
}  // namespace tailor
