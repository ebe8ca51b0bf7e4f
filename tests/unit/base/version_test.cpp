#include <algorithm>

#include <gtest/gtest.h>

#include "tailor/base/version.h"

TEST(Version, IsSemver) {
    auto v = tailor::version();
    EXPECT_EQ(std::count(v.begin(), v.end(), '.'), 2);
}
