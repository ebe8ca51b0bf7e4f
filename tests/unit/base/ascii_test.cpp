// Ascii: classes never claim bytes >= 0x80, case folding, hex digits, comparisons, trimming.
#include "tailor/base/ascii.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(Ascii, ClassesAreAsciiOnly) {
    for (int b = 0x80; b <= 0xff; ++b) {
        const char c = static_cast<char>(b);
        EXPECT_FALSE(is_ascii_alpha(c) || is_ascii_digit(c) || is_ascii_space(c)) << b;
        EXPECT_EQ(ascii_lower(c), c) << b;
        EXPECT_EQ(hex_value(c), -1) << b;
    }
    EXPECT_TRUE(is_ascii_alnum('z') && is_ascii_alnum('Z') && is_ascii_alnum('0'));
    EXPECT_FALSE(is_ascii_alnum('_') || is_ascii_alnum('@') || is_ascii_alnum('['));
}

TEST(Ascii, HtmlSpaceHasNoVerticalTabButCSpaceDoes) {
    for (char c : kHtmlSpace) {
        EXPECT_TRUE(is_html_space(c) && is_ascii_space(c));
    }
    EXPECT_FALSE(is_html_space('\v'));
    EXPECT_TRUE(is_ascii_space('\v'));
    EXPECT_FALSE(is_ascii_space('\0') || is_ascii_space('x'));
}

TEST(Ascii, HexDigitsOfBothCases) {
    EXPECT_EQ(hex_value('0'), 0);
    EXPECT_EQ(hex_value('9'), 9);
    EXPECT_EQ(hex_value('a'), 10);
    EXPECT_EQ(hex_value('F'), 15);
    EXPECT_EQ(hex_value('g'), -1);
    EXPECT_EQ(hex_value('G'), -1);
    EXPECT_EQ(hex_value('/'), -1);
    EXPECT_EQ(hex_value(':'), -1);
}

TEST(Ascii, CaseInsensitiveEqualityAndSearch) {
    EXPECT_TRUE(ascii_iequals("Granted", "gRANTED"));
    EXPECT_FALSE(ascii_iequals("granted", "grant"));
    EXPECT_FALSE(ascii_iequals("\xC9", "\xE9"));  // Latin-1 case is not ASCII case
    EXPECT_TRUE(ascii_icontains("Mozilla/5.0 (iPhone; CPU)", "iphone"));
    EXPECT_TRUE(ascii_icontains("ANDROID", "android"));
    EXPECT_FALSE(ascii_icontains("andro", "android"));
    EXPECT_TRUE(ascii_icontains("x", ""));
    std::string s = "MiXeD-09";
    ascii_lower_in_place(s.data(), s.size());
    EXPECT_EQ(s, "mixed-09");
}

TEST(Ascii, TrimTakesTheGivenBytesFromBothEnds) {
    EXPECT_EQ(trim("  k1 abc\t"), "k1 abc");
    EXPECT_EQ(trim("k1 abc\r"), "k1 abc\r");
    EXPECT_EQ(trim(" k1 abc\r", " \t\r"), "k1 abc");
    EXPECT_EQ(trim(" \t "), "");
    EXPECT_EQ(trim(""), "");
}

}  // namespace
}  // namespace tailor
