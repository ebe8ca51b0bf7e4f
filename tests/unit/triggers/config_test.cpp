// TriggerConfig: durations, the file's settings and the refusals that name their line.
#include "tailor/triggers/config.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(TriggerConfig, DurationsTakeAUnitAndABareNumberIsSeconds) {
    EXPECT_EQ(parse_duration_ms("90m"), 90 * 60 * 1000);
    EXPECT_EQ(parse_duration_ms("2d"), 2 * kMsPerDay);
    EXPECT_EQ(parse_duration_ms("1h"), kMsPerHour);
    EXPECT_EQ(parse_duration_ms("45"), 45000);
    EXPECT_EQ(parse_duration_ms("45s"), 45000);
    EXPECT_FALSE(parse_duration_ms("").has_value());
    EXPECT_FALSE(parse_duration_ms("h").has_value());
    EXPECT_FALSE(parse_duration_ms("1x").has_value());
    EXPECT_FALSE(parse_duration_ms("-1h").has_value());
    EXPECT_FALSE(parse_duration_ms("99999999999d").has_value());
}

TEST(TriggerConfig, DefaultsAreTheDocumentedOnes) {
    TriggerConfig c;
    EXPECT_EQ(c.cart_delay_ms, kMsPerHour);
    EXPECT_EQ(c.cap_per_day, 1);
    EXPECT_EQ(c.cap_per_week, 3);
    EXPECT_FALSE(c.require_email_consent);
}

TEST(TriggerConfig, FileSettingsApplyOverTheDefaults) {
    TriggerConfig c;
    std::string err;
    ASSERT_TRUE(
        parse_trigger_config("# evaluator\ncart_delay = 30m\n\ncap_per_day=2  # more\n"
                             "price_drop_min = 0.1\nwin_back = off\n",
                             &c, &err))
        << err;
    EXPECT_EQ(c.cart_delay_ms, 30 * 60 * 1000);
    EXPECT_EQ(c.cap_per_day, 2);
    EXPECT_DOUBLE_EQ(c.price_drop_min, 0.1);
    EXPECT_FALSE(c.winback);
    EXPECT_EQ(c.cap_per_week, 3);
}

TEST(TriggerConfig, BadLinesNameTheirLineAndReason) {
    TriggerConfig c;
    std::string err;
    EXPECT_FALSE(parse_trigger_config("cart_delay = 1h\ncart_dealy = 2h\n", &c, &err));
    EXPECT_EQ(err, "line 2: unknown setting \"cart_dealy\"");
    EXPECT_FALSE(parse_trigger_config("cart_delay\n", &c, &err));
    EXPECT_EQ(err, "line 1: expected name = value");
    EXPECT_FALSE(parse_trigger_config("price_drop_min = 1.5\n", &c, &err));
    EXPECT_EQ(err, "line 1: bad value for price_drop_min");
    EXPECT_FALSE(parse_trigger_config("cap_per_day = many\n", &c, &err));
    EXPECT_FALSE(parse_trigger_config("win_back = maybe\n", &c, &err));
}

}  // namespace
}  // namespace tailor
