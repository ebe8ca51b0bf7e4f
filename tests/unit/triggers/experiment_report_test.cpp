// ExperimentTally: rates, Wilson intervals and lifts against hand-computed figures.
#include "tailor/triggers/experiment_report.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(WilsonInterval, MatchesTheTextbookFigures) {
    Interval i = wilson_interval(10, 100);  // p = 0.1: [0.0552, 0.1744]
    EXPECT_NEAR(i.low, 0.0552291, 1e-6);
    EXPECT_NEAR(i.high, 0.1743657, 1e-6);
    i = wilson_interval(0, 20);  // none of 20: [0, 0.1611]
    EXPECT_DOUBLE_EQ(i.low, 0);
    EXPECT_NEAR(i.high, 0.1611252, 1e-6);
    i = wilson_interval(20, 20);
    EXPECT_NEAR(i.low, 0.8388748, 1e-6);
    EXPECT_DOUBLE_EQ(i.high, 1);
    i = wilson_interval(0, 0);
    EXPECT_DOUBLE_EQ(i.low, 0);
    EXPECT_DOUBLE_EQ(i.high, 0);
}

TEST(RelativeLift, DoubleTheRateIsALiftOfOneWithTheKatzInterval) {
    auto l = relative_lift(20, 100, 10, 100);  // RR 2, 95 % [0.9866, 4.0545]
    ASSERT_TRUE(l.has_value());
    EXPECT_DOUBLE_EQ(l->lift, 1.0);
    EXPECT_NEAR(l->interval.low, -0.0134368, 1e-6);
    EXPECT_NEAR(l->interval.high, 3.0544792, 1e-6);
    EXPECT_FALSE(relative_lift(0, 100, 10, 100).has_value());
    EXPECT_FALSE(relative_lift(10, 100, 0, 100).has_value());
}

TEST(ExperimentTally, CountsVisitorsOnceAndConversionsOnlyAfterExposure) {
    ExperimentTally t;
    // control: 4 exposed, 1 converted (one more ordered before being exposed)
    for (int i = 0; i < 4; i++) {
        t.exposure("c" + std::to_string(i), "hero", "control", 100);
        t.exposure("c" + std::to_string(i), "hero", "control", 200);  // seen again: once
    }
    t.conversion("c0", 150);
    t.conversion("c1", 50);
    // b: 2 exposed, 2 converted, one of them after login under the known id
    t.exposure("b0", "hero", "b", 100);
    t.conversion("b0", 300);
    t.exposure("anon", "hero", "b", 100);
    t.link("anon", "cust");
    t.conversion("cust", 400);
    t.conversion("nobody", 400);  // not exposed: in no row
    auto rows = t.report();
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].variant, "b");
    EXPECT_EQ(rows[0].exposed, 2);
    EXPECT_EQ(rows[0].converted, 2);
    EXPECT_DOUBLE_EQ(rows[0].rate, 1.0);
    ASSERT_TRUE(rows[0].lift_vs_control.has_value());
    EXPECT_DOUBLE_EQ(rows[0].lift_vs_control->lift, 3.0);  // 100 % over 25 %
    EXPECT_FALSE(rows[0].lift_vs_holdout.has_value());
    EXPECT_EQ(rows[1].variant, "control");
    EXPECT_EQ(rows[1].exposed, 4);
    EXPECT_EQ(rows[1].converted, 1);
    EXPECT_DOUBLE_EQ(rows[1].rate, 0.25);
    EXPECT_FALSE(rows[1].lift_vs_control.has_value());
}

TEST(ExperimentTally, LiftsAgainstTheHoldoutToo) {
    ExperimentTally t;
    for (int i = 0; i < 40; i++) {
        t.exposure("h" + std::to_string(i), "e", "holdout", 1);
        t.exposure("v" + std::to_string(i), "e", "v", 1);
        if (i < 2) {
            t.conversion("h" + std::to_string(i), 2);
        }
        if (i < 10) {
            t.conversion("v" + std::to_string(i), 2);
        }
    }
    auto rows = t.report();
    ASSERT_EQ(rows.size(), 2u);
    const VariantReport& v = rows[1];
    ASSERT_EQ(v.variant, "v");
    ASSERT_TRUE(v.lift_vs_holdout.has_value());
    EXPECT_DOUBLE_EQ(v.lift_vs_holdout->lift, 4.0);  // 25 % over 5 %
    EXPECT_NEAR(v.lift_vs_holdout->interval.low, 0.1686973, 1e-6);
    EXPECT_NEAR(v.lift_vs_holdout->interval.high, 20.3913387, 1e-6);
    EXPECT_NEAR(v.rate_interval.low, 0.1418712, 1e-6);
    EXPECT_NEAR(v.rate_interval.high, 0.4019396, 1e-6);
}

}  // namespace
}  // namespace tailor
