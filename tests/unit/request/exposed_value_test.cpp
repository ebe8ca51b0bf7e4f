// ExposedValue tests: only short token-like values leave as variables or headers.
#include "tailor/request/exposed_value.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(ExposedValue, ShortIdentifiersAreExposed) {
    EXPECT_TRUE(is_exposable_value("repeat_buyer"));
    EXPECT_TRUE(is_exposable_value("vip-2024.q1:a"));
    EXPECT_TRUE(is_exposable_value(std::string(kMaxExposedValueBytes, 'a')));
}

TEST(ExposedValue, HeaderBreakersAreNot) {
    EXPECT_FALSE(is_exposable_value("vip\r\nSet-Cookie: a=1"));
    EXPECT_FALSE(is_exposable_value("vip\n"));
    EXPECT_FALSE(is_exposable_value("vip\r"));
    EXPECT_FALSE(is_exposable_value(std::string("v\0p", 3)));
    EXPECT_FALSE(is_exposable_value("a b"));
    EXPECT_FALSE(is_exposable_value("a;b"));
    EXPECT_FALSE(is_exposable_value("a,b"));
    EXPECT_FALSE(is_exposable_value("\"a\""));
    EXPECT_FALSE(is_exposable_value("caf\xc3\xa9"));
}

TEST(ExposedValue, EmptyAndOverlongAreNot) {
    EXPECT_FALSE(is_exposable_value(""));
    EXPECT_FALSE(is_exposable_value(std::string(kMaxExposedValueBytes + 1, 'a')));
}

}  // namespace
}  // namespace tailor
