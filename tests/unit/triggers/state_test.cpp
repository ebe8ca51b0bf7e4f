// TriggerState: the hash form reads back what it wrote, and tolerates what it does not know.
#include "tailor/triggers/state.h"

#include <gtest/gtest.h>

namespace tailor {
namespace {

TEST(TriggerState, FieldsRoundTrip) {
    TriggerState s;
    s.into = "cust-1";
    s.from = {"a", "b"};
    s.bot = true;
    s.cart_at = 5;
    s.cart = {"SKU-1", "SKU 2"};
    s.cart_fired = 4;
    s.browse_at = 7;
    s.browse = {"X"};
    s.browse_fired = 6;
    s.order_at = 9;
    s.winback_fired = 8;
    s.watches["SKU-1"] = PriceWatch{19.99, 3, 17.5};
    s.replenish_fired["COFFEE"] = 11;
    s.replenish_next = 12;
    s.sent = {1, 2};
    TriggerState r = trigger_state_from_fields(s.to_fields());
    EXPECT_EQ(r.into, "cust-1");
    EXPECT_EQ(r.from, s.from);
    EXPECT_TRUE(r.bot);
    EXPECT_EQ(r.cart, s.cart);
    EXPECT_EQ(r.cart_at, 5);
    EXPECT_EQ(r.cart_fired, 4);
    EXPECT_EQ(r.browse, s.browse);
    EXPECT_EQ(r.browse_at, 7);
    EXPECT_EQ(r.browse_fired, 6);
    EXPECT_EQ(r.order_at, 9);
    EXPECT_EQ(r.winback_fired, 8);
    ASSERT_EQ(r.watches.count("SKU-1"), 1u);
    EXPECT_DOUBLE_EQ(r.watches["SKU-1"].viewed_price, 19.99);
    EXPECT_EQ(r.watches["SKU-1"].viewed_at, 3);
    EXPECT_DOUBLE_EQ(r.watches["SKU-1"].fired_price, 17.5);
    EXPECT_EQ(r.replenish_fired["COFFEE"], 11);
    EXPECT_EQ(r.replenish_next, 12);
    EXPECT_EQ(r.sent, s.sent);
}

TEST(TriggerState, AnEmptyStateHasNoFields) {
    EXPECT_TRUE(TriggerState().to_fields().empty());
}

TEST(TriggerState, UnknownFieldsAndBadValuesAreIgnored) {
    TriggerState r = trigger_state_from_fields(
        {{"future_field", "x"}, {"cart_at", "not a number"}, {"pw:SKU", "garbage"}});
    EXPECT_EQ(r.cart_at, 0);
    EXPECT_TRUE(r.watches.empty());
}

}  // namespace
}  // namespace tailor
