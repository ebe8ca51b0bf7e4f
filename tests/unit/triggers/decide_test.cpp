// The trigger decisions: what an event changes, when a visitor is next due, and which
// triggers fire or are suppressed (orders on linked ids, caps, exclusions, consent, bots).
#include <gtest/gtest.h>

#include <string>

#include "tailor/triggers/apply.h"
#include "tailor/triggers/fire.h"

namespace tailor {
namespace {

constexpr int64_t kT0 = 1750000000000;
constexpr int64_t kMin = 60 * 1000;

DecodedEvent event(EventType type, int64_t ts, std::string sku = "", double price = 0) {
    DecodedEvent e;
    e.type = type;
    e.vid = "v";
    e.id = "id-" + std::to_string(ts);
    e.ts_ms = ts;
    e.device = "desktop";
    if (!sku.empty()) {
        DecodedProperty p;
        p.name = "product_id";
        p.text = sku;
        e.properties.push_back(p);
    }
    if (price > 0) {
        DecodedProperty p;
        p.name = "price";
        p.is_number = true;
        p.number = price;
        e.properties.push_back(p);
    }
    return e;
}

FireContext context() {
    FireContext ctx;
    ctx.vid = "v";
    return ctx;
}

TEST(TriggerApply, CartFollowsAddsRemovesAndOrders) {
    TriggerState s;
    apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &s);
    apply_trigger_event(event(EventType::kProductAdded, kT0 + 1, "B"), &s);
    EXPECT_EQ(s.cart, (std::vector<std::string>{"B", "A"}));
    EXPECT_EQ(s.cart_at, kT0 + 1);
    apply_trigger_event(event(EventType::kProductRemoved, kT0 + 2, "B"), &s);
    EXPECT_EQ(s.cart, (std::vector<std::string>{"A"}));
    apply_trigger_event(event(EventType::kOrderCompleted, kT0 + 3), &s);
    EXPECT_TRUE(s.cart.empty());
    EXPECT_EQ(s.order_at, kT0 + 3);
    // an add that happened before the order, arriving late, was part of it
    apply_trigger_event(event(EventType::kProductAdded, kT0 + 2, "C"), &s);
    EXPECT_TRUE(s.cart.empty());
}

TEST(TriggerApply, ProductIdIsReadAsTheLiveStateReadsIt) {
    DecodedEvent e = event(EventType::kProductViewed, kT0);
    DecodedProperty p;
    p.name = "ProductID";
    p.text = "K-1";
    e.properties.push_back(p);
    EXPECT_EQ(trigger_product_id(e), "K-1");
    EXPECT_EQ(trigger_product_id(event(EventType::kProductViewed, kT0)), "");
}

TEST(TriggerApply, ViewsWatchPricesAndANewPriceRearmsTheWatch) {
    TriggerState s;
    apply_trigger_event(event(EventType::kProductViewed, kT0, "A", 20), &s);
    ASSERT_EQ(s.watches.count("A"), 1u);
    s.watches["A"].fired_price = 17;
    apply_trigger_event(event(EventType::kProductViewed, kT0 + 1, "A", 20), &s);
    EXPECT_DOUBLE_EQ(s.watches["A"].fired_price, 17);
    apply_trigger_event(event(EventType::kProductViewed, kT0 + 2, "A", 18), &s);
    EXPECT_DOUBLE_EQ(s.watches["A"].fired_price, 0);
    EXPECT_DOUBLE_EQ(s.watches["A"].viewed_price, 18);
}

TEST(TriggerApply, IdentifyLinksBothWaysAndBotsOnlyMarkTheVisitor) {
    TriggerState s;
    DecodedEvent id = event(EventType::kIdentify, kT0);
    id.previous_vid = "anon";
    EXPECT_EQ(apply_trigger_event(id, &s).link_prev, "anon");
    apply_trigger_event(id, &s);
    EXPECT_EQ(s.from, (std::vector<std::string>{"anon"}));

    TriggerState b;
    DecodedEvent bot = event(EventType::kProductAdded, kT0, "A");
    bot.device = "bot";
    apply_trigger_event(bot, &b);
    EXPECT_TRUE(b.bot);
    EXPECT_TRUE(b.cart.empty());
    EXPECT_FALSE(next_trigger_check_ms(b, TriggerConfig{}, kT0).has_value());
}

TEST(TriggerApply, NextCheckIsTheEarliestPendingDueTime) {
    TriggerConfig c;
    TriggerState s;
    EXPECT_FALSE(next_trigger_check_ms(s, c, kT0).has_value());
    apply_trigger_event(event(EventType::kProductViewed, kT0, "A"), &s);
    EXPECT_EQ(next_trigger_check_ms(s, c, kT0), kT0 + c.browse_delay_ms);
    apply_trigger_event(event(EventType::kProductAdded, kT0 + kMin, "A"), &s);
    EXPECT_EQ(next_trigger_check_ms(s, c, kT0 + kMin), kT0 + kMin + c.cart_delay_ms);
}

TEST(TriggerApply, WinBackIsScheduledFromTheLastOrderOfAnyLinkedIdOrTheProfile) {
    TriggerConfig c;
    TriggerState s;
    EXPECT_FALSE(next_trigger_check_ms(s, c, kT0).has_value());
    EXPECT_EQ(next_trigger_check_ms(s, c, kT0, kT0 - kMsPerDay),
              kT0 - kMsPerDay + c.winback_after_ms);
    s.winback_fired = kT0 - kMsPerDay;
    EXPECT_FALSE(next_trigger_check_ms(s, c, kT0, kT0 - kMsPerDay).has_value());
}

TEST(TriggerDecide, CartAbandonmentFiresOnceAtItsDelay) {
    TriggerConfig c;
    TriggerState s;
    apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &s);
    FireContext ctx = context();
    EXPECT_TRUE(decide_triggers(&s, &s.sent, ctx, c, kT0 + c.cart_delay_ms - 1).records.empty());
    FireDecision d = decide_triggers(&s, &s.sent, ctx, c, kT0 + c.cart_delay_ms);
    ASSERT_EQ(d.records.size(), 1u);
    const TriggerRecord& r = d.records[0];
    EXPECT_EQ(r.kind, TriggerKind::kCartAbandonment);
    EXPECT_EQ(r.products, (std::vector<std::string>{"A"}));
    EXPECT_EQ(r.id, "v/cart_abandonment/" + std::to_string(kT0));
    EXPECT_EQ(trigger_klaviyo_metric(r.kind), "Tailor Abandoned Cart");
    EXPECT_EQ(s.sent, (std::vector<int64_t>{kT0 + c.cart_delay_ms}));
    EXPECT_TRUE(decide_triggers(&s, &s.sent, ctx, c, kT0 + 10 * c.cart_delay_ms).records.empty());
}

TEST(TriggerDecide, AnOrderOnALinkedIdAfterTheCartSuppressesIt) {
    TriggerConfig c;
    TriggerState s;
    apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &s);
    FireContext ctx = context();
    ctx.linked_order_at = kT0 + kMin;
    FireDecision d = decide_triggers(&s, &s.sent, ctx, c, kT0 + c.cart_delay_ms);
    EXPECT_TRUE(d.records.empty());
    ASSERT_EQ(d.suppressed.size(), 1u);
    EXPECT_EQ(d.suppressed[0].reason, "ordered");
    EXPECT_TRUE(s.sent.empty());

    TriggerState later;  // an order before the cart does not count
    apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &later);
    ctx.linked_order_at = kT0 - 1;
    EXPECT_EQ(decide_triggers(&later, &later.sent, ctx, c, kT0 + c.cart_delay_ms).records.size(),
              1u);
}

TEST(TriggerDecide, CapsCountEveryTriggerOfThePerson) {
    TriggerConfig c;  // 1 a day, 3 a week
    TriggerState s;
    std::vector<int64_t> person_sent = {kT0 - 2 * kMsPerHour};
    apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &s);
    FireDecision d = decide_triggers(&s, &person_sent, context(), c, kT0 + c.cart_delay_ms);
    ASSERT_EQ(d.suppressed.size(), 1u);
    EXPECT_EQ(d.suppressed[0].reason, "capped");

    TriggerState w;
    std::vector<int64_t> week = {kT0 - 2 * kMsPerDay, kT0 - 3 * kMsPerDay, kT0 - 4 * kMsPerDay};
    apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &w);
    d = decide_triggers(&w, &week, context(), c, kT0 + c.cart_delay_ms);
    ASSERT_EQ(d.suppressed.size(), 1u);
    EXPECT_EQ(d.suppressed[0].reason, "capped");

    TriggerState old;
    std::vector<int64_t> last_week = {kT0 - 8 * kMsPerDay};
    apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &old);
    EXPECT_EQ(decide_triggers(&old, &last_week, context(), c, kT0 + c.cart_delay_ms).records.size(),
              1u);
    EXPECT_EQ(last_week.size(), 1u) << "the week-old send was pruned";
}

TEST(TriggerDecide, ExclusionsConsentBotsAndStaleness) {
    TriggerConfig c;
    auto reason = [&](FireContext ctx, int64_t now, TriggerConfig cfg) {
        TriggerState s;
        apply_trigger_event(event(EventType::kProductAdded, kT0, "A"), &s);
        FireDecision d = decide_triggers(&s, &s.sent, ctx, cfg, now);
        return d.suppressed.empty() ? std::string("fired") : d.suppressed[0].reason;
    };
    const int64_t due = kT0 + c.cart_delay_ms;
    FireContext ctx = context();
    EXPECT_EQ(reason(ctx, due, c), "fired");
    ctx.excluded = true;
    EXPECT_EQ(reason(ctx, due, c), "excluded");
    ctx = context();
    ctx.email_consent = ConsentFlag::kDenied;
    EXPECT_EQ(reason(ctx, due, c), "no_consent");
    ctx = context();
    TriggerConfig strict = c;
    strict.require_email_consent = true;
    EXPECT_EQ(reason(ctx, due, strict), "no_consent");
    ctx.email_consent = ConsentFlag::kGranted;
    EXPECT_EQ(reason(ctx, due, strict), "fired");
    ctx = context();
    ctx.linked_bot = true;
    EXPECT_EQ(reason(ctx, due, c), "bot");
    EXPECT_EQ(reason(context(), due + c.stale_after_ms + 1, c), "stale");
}

TEST(TriggerDecide, ProfileFactsGiveFlagsConsentOrdersAndReplenishment) {
    Profile p;
    p.flags.open_return = true;
    p.consent.email = ConsentFlag::kDenied;
    p.last_order_at = kT0 / 1000;
    Purchase coffee;
    coffee.sku = "COFFEE";
    coffee.at = kT0 / 1000;
    coffee.cycle_days = 30;
    p.purchases.push_back(coffee);
    FireContext ctx;
    add_profile_facts(p, &ctx);
    EXPECT_TRUE(ctx.excluded);
    EXPECT_EQ(ctx.email_consent, ConsentFlag::kDenied);
    EXPECT_EQ(ctx.linked_order_at, kT0);
    ASSERT_EQ(ctx.replenish_due.size(), 1u);
    EXPECT_EQ(ctx.replenish_due[0].second, kT0 + 30 * kMsPerDay);
    EXPECT_EQ(ctx.purchased, (std::vector<std::string>{"COFFEE"}));
}

TEST(TriggerDecide, ReplenishmentFiresAtDueMinusLeadAndOncePerDueDate) {
    TriggerConfig c;
    c.replenish_lead_ms = 2 * kMsPerDay;
    TriggerState s;
    FireContext ctx = context();
    ctx.replenish_due = {{"COFFEE", kT0}};
    EXPECT_TRUE(decide_triggers(&s, &s.sent, ctx, c, kT0 - 3 * kMsPerDay).records.empty());
    EXPECT_EQ(s.replenish_next, kT0 - 2 * kMsPerDay);
    FireDecision d = decide_triggers(&s, &s.sent, ctx, c, kT0 - 2 * kMsPerDay);
    ASSERT_EQ(d.records.size(), 1u);
    EXPECT_EQ(d.records[0].kind, TriggerKind::kReplenishmentDue);
    EXPECT_TRUE(decide_triggers(&s, &s.sent, ctx, c, kT0 + 5 * kMsPerDay).records.empty());
}

TEST(TriggerDecide, PriceDropNeedsTheMinimumDropAndFiresAgainOnlyLower) {
    TriggerConfig c;  // 5 %
    c.cap_per_day = 10;
    c.cap_per_week = 10;
    TriggerState s;
    apply_trigger_event(event(EventType::kProductViewed, kT0, "A", 20), &s);
    s.browse_fired = s.browse_at;  // only the price drop here
    FireContext ctx = context();
    ctx.catalog_prices["A"] = 19.5;
    EXPECT_TRUE(decide_triggers(&s, &s.sent, ctx, c, kT0 + kMin).records.empty());
    ctx.catalog_prices["A"] = 19;
    FireDecision d = decide_triggers(&s, &s.sent, ctx, c, kT0 + 2 * kMin);
    ASSERT_EQ(d.records.size(), 1u);
    EXPECT_EQ(d.records[0].id, "v/price_drop/" + std::to_string(kT0) + "/A/1900");
    EXPECT_TRUE(decide_triggers(&s, &s.sent, ctx, c, kT0 + 3 * kMin).records.empty());
    ctx.catalog_prices["A"] = 18;
    EXPECT_EQ(decide_triggers(&s, &s.sent, ctx, c, kT0 + 4 * kMin).records.size(), 1u);
    ctx.purchased = {"A"};
    ctx.catalog_prices["A"] = 10;
    d = decide_triggers(&s, &s.sent, ctx, c, kT0 + 5 * kMin);
    ASSERT_EQ(d.suppressed.size(), 1u);
    EXPECT_EQ(d.suppressed[0].reason, "purchased");
}

TEST(TriggerDecide, WinBackFiresOnceAfterTheLastOrderOfAnyLinkedId) {
    TriggerConfig c;
    TriggerState s;
    FireContext ctx = context();
    ctx.linked_order_at = kT0;
    EXPECT_TRUE(decide_triggers(&s, &s.sent, ctx, c, kT0 + c.winback_after_ms - 1).records.empty());
    FireDecision d = decide_triggers(&s, &s.sent, ctx, c, kT0 + c.winback_after_ms);
    ASSERT_EQ(d.records.size(), 1u);
    EXPECT_EQ(d.records[0].kind, TriggerKind::kWinBack);
    EXPECT_TRUE(
        decide_triggers(&s, &s.sent, ctx, c, kT0 + c.winback_after_ms + kMsPerDay).records.empty());
}

TEST(TriggerDecide, BrowseAbandonmentYieldsToALaterCart) {
    TriggerConfig c;
    TriggerState s;
    apply_trigger_event(event(EventType::kProductViewed, kT0, "A"), &s);
    apply_trigger_event(event(EventType::kProductAdded, kT0 + kMin, "A"), &s);
    s.cart_fired = s.cart_at;  // the cart's own trigger decided elsewhere
    FireDecision d = decide_triggers(&s, &s.sent, context(), c, kT0 + c.browse_delay_ms);
    ASSERT_EQ(d.suppressed.size(), 1u);
    EXPECT_EQ(d.suppressed[0].reason, "in_cart");
}

}  // namespace
}  // namespace tailor
