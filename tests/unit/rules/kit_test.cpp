// The rule kit's helpers: lifecycle stages, reorder prompts, rewards, recommendations,
// suppression and experiments, with the edge dates that break them.
#include <gtest/gtest.h>

#include "tailor/decision/experiment.h"
#include "rules/test_support.h"

namespace tailor {
namespace {

using namespace rules_test;

// One slot per stage, each filled with the stage's name, so a test reads the
// stage off the decision (and off the `segment` variable).
constexpr std::string_view kStagePack = R"(
local t = require "tailor"
t.slot "stage" { promotional = false,
  t.rule "stage" { html = "{{stage}}", vars = function(v) return { stage = t.stage(v) } end },
}
)";

std::string stage_of(const Profile& p, int64_t now = kNow, std::string_view pack = kStagePack) {
    auto rt = runtime(pack);
    if (!rt) {
        return "<no runtime>";
    }
    Evaluated r = evaluate(*rt, p, now);
    EXPECT_EQ(r.decision.variable("segment"), r.slot("stage"));
    return r.slot("stage");
}

Profile buyer(int64_t orders, int64_t days_since_order, int64_t spent = 1000) {
    Profile p;
    p.has_shop_profile = true;
    p.orders_count = orders;
    p.last_order_at = kNow - days_since_order * kDay;
    p.total_spent = spent;
    p.first_seen = kNow - 500 * kDay;
    return p;
}

TEST(RulesKitLifecycle, NonBuyers) {
    Profile p;
    EXPECT_EQ(stage_of(p), "new_visitor");
    p.visits = 1;
    EXPECT_EQ(stage_of(p), "new_visitor");
    p.visits = 2;
    EXPECT_EQ(stage_of(p), "returning_visitor");
    p.consent.email = ConsentFlag::kGranted;
    EXPECT_EQ(stage_of(p), "new_subscriber");
    p.consent.email = ConsentFlag::kDenied;
    EXPECT_EQ(stage_of(p), "returning_visitor");
}

TEST(RulesKitLifecycle, BuyersByFrequencyAndMonetary) {
    EXPECT_EQ(stage_of(buyer(1, 3)), "new_buyer");
    EXPECT_EQ(stage_of(buyer(2, 3)), "repeat_buyer");
    EXPECT_EQ(stage_of(buyer(4, 3)), "repeat_buyer");
    EXPECT_EQ(stage_of(buyer(5, 3)), "vip");
    EXPECT_EQ(stage_of(buyer(1, 3, 49999)), "new_buyer");
    EXPECT_EQ(stage_of(buyer(1, 3, 50000)), "vip");  // exactly at the spend threshold
}

TEST(RulesKitLifecycle, RecencyThresholdsAreInclusive) {
    Profile p = buyer(5, 0);
    p.last_order_at = kNow - 60 * kDay + 1;  // one second short of 60 days
    EXPECT_EQ(stage_of(p), "vip");
    p.last_order_at = kNow - 60 * kDay;  // exactly 60 days
    EXPECT_EQ(stage_of(p), "at_risk");
    p.last_order_at = kNow - 90 * kDay + 1;
    EXPECT_EQ(stage_of(p), "at_risk");
    p.last_order_at = kNow - 90 * kDay;  // exactly 90 days: a lapsed VIP is lapsed
    EXPECT_EQ(stage_of(p), "lapsed");
}

TEST(RulesKitLifecycle, ClockBeforeLastOrderAndFirstSeenCountsAsZeroDays) {
    Profile p = buyer(1, 0);
    p.last_order_at = kNow + 3600;  // the shop's clock runs ahead of ours
    p.first_seen = kNow + 7200;
    EXPECT_EQ(stage_of(p), "new_buyer");
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "d" { promotional = false,
  t.rule "d" { html = "{{days_since_first_seen}}/{{days_since_last_order}}" } }
)");
    ASSERT_TRUE(rt);
    EXPECT_EQ(evaluate(*rt, p).slot("d"), "0/0");
}

TEST(RulesKitLifecycle, LeapDayCountsAsADay) {
    // last order 2024-02-28T12:00Z; on 2024-03-01T12:00Z that is 2 days
    Profile p = buyer(1, 0);
    p.last_order_at = 1709121600;
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "d" { t.rule "d" { html = "{{days_since_last_order}}" } }
)");
    ASSERT_TRUE(rt);
    EXPECT_EQ(evaluate(*rt, p, kNow).slot("d"), "2");
}

TEST(RulesKitLifecycle, ThresholdsAreConfigurable) {
    constexpr std::string_view pack = R"(
local t = require "tailor"
t.config { lifecycle = { at_risk_days = 30, lapsed_days = 60, vip_orders = 3 } }
t.slot "stage" { promotional = false,
  t.rule "stage" { html = "{{stage}}", vars = function(v) return { stage = t.stage(v) } end },
}
)";
    EXPECT_EQ(stage_of(buyer(3, 5), kNow, pack), "vip");
    EXPECT_EQ(stage_of(buyer(2, 30), kNow, pack), "at_risk");
    EXPECT_EQ(stage_of(buyer(2, 60), kNow, pack), "lapsed");
}

TEST(RulesKitLifecycle, PredicateAcceptsAListOfStages) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "hero" { t.rule "buyers" { when = t.lifecycle { "new_buyer", "repeat_buyer" }, html = "b" } }
)");
    ASSERT_TRUE(rt);
    EXPECT_EQ(evaluate(*rt, buyer(1, 1)).slot("hero"), "b");
    EXPECT_EQ(evaluate(*rt, buyer(3, 1)).slot("hero"), "b");
    EXPECT_EQ(evaluate(*rt, buyer(9, 1)).slot("hero"), "<default>");
}

TEST(RulesKitHelpers, AffinityLoginCartAndRequest) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "aff" { t.rule "coffee" { when = t.affinity("coffee", 0.8), html = "coffee" } }
t.slot "top" { t.rule "top" { when = t.top_category "coffee", html = "top" } }
t.slot "login" { t.rule "in" { when = t.logged_in(), html = "in" },
                 t.rule "out" { html = "out" } }
t.slot "cart" { t.rule "cart" { when = { t.cart_has_items(), t.cart_value_at_least(3000) },
                                html = "{{cart_count}} for {{cart_value}}" } }
t.slot "req" { t.rule "req" { when = t.all { t.path "^/products/", t.device "mobile",
                                             t.source "newsletter", t.cookie("ab", "x") },
                              html = "{{request.path}}" } }
t.slot "neg" { t.rule "neg" { when = t.no(t.any { t.tier "gold", t.points_at_least(10000) }),
                              html = "neg" } }
)");
    ASSERT_TRUE(rt);
    Profile p = typical_profile();
    p.cart = {{"A", 2, kNow, 1500}, {"B", 1, kNow, 0}};
    RequestFacts f = facts();
    f.logged_in = true;
    f.path = "/products/x";
    f.device_class = "mobile";
    f.referrer_source = "newsletter";
    RequestCookie cookies[] = {{"ab", "x"}};
    f.cookies = cookies;
    f.cookie_count = 1;
    Evaluated r = evaluate(*rt, p, f);
    EXPECT_EQ(r.slot("aff"), "coffee");
    EXPECT_EQ(r.slot("top"), "top");
    EXPECT_EQ(r.slot("login"), "in");
    EXPECT_EQ(r.slot("cart"), "3 for 3000");
    EXPECT_EQ(r.slot("req"), "/products/x");
    EXPECT_EQ(r.slot("neg"), "<default>");  // gold

    p.affinities = {{"coffee", 0.79}};
    p.cart.clear();
    p.loyalty.tier = "silver";
    r = evaluate(*rt, p);
    EXPECT_EQ(r.slot("aff"), "<default>");
    EXPECT_EQ(r.slot("login"), "out");
    EXPECT_EQ(r.slot("cart"), "<default>");
    EXPECT_EQ(r.slot("req"), "<default>");
    EXPECT_EQ(r.slot("neg"), "neg");
}

constexpr std::string_view kReorderPack = R"(
local t = require "tailor"
t.slot "reorder" {
  t.reorder_prompt {
    due_within_days = 5, overdue_days = 30,
    catalog = { ["COFFEE-1KG"] = { name = "House blend 1 kg" } },
    html = [[{{sku_name}}: due in {{due_in_days}}, overdue {{overdue_days}}]],
  },
}
)";

Profile consumer(int64_t bought_at, int64_t cycle_days, std::string_view sku = "COFFEE-1KG") {
    Profile p = buyer(2, 10);
    p.purchases = {{sku, "coffee", bought_at, 1, cycle_days, 1500}};
    return p;
}

TEST(RulesKitReorder, DueWithinTheWindowIncludingItsEdge) {
    auto rt = runtime(kReorderPack);
    ASSERT_TRUE(rt);
    // due in exactly 5 days: prompt
    EXPECT_EQ(evaluate(*rt, consumer(kNow - 25 * kDay, 30)).slot("reorder"),
              "House blend 1 kg: due in 5, overdue 0");
    // one second further out: not yet
    EXPECT_EQ(evaluate(*rt, consumer(kNow - 25 * kDay + 1, 30)).slot("reorder"), "<default>");
    // overdue by exactly 30 days: still prompted; by a second more: stale
    EXPECT_EQ(evaluate(*rt, consumer(kNow - 60 * kDay, 30)).slot("reorder"),
              "House blend 1 kg: due in 0, overdue 30");
    EXPECT_EQ(evaluate(*rt, consumer(kNow - 60 * kDay - 1, 30)).slot("reorder"), "<default>");
    // not a consumable
    EXPECT_EQ(evaluate(*rt, consumer(kNow - 30 * kDay, 0)).slot("reorder"), "<default>");
}

TEST(RulesKitReorder, LeapDayDueDate) {
    auto rt = runtime(kReorderPack);
    ASSERT_TRUE(rt);
    // bought 2024-01-30T12:00Z with a 30-day cycle: due 2024-02-29T12:00Z,
    // so on 2024-03-01T12:00Z it is one day overdue
    EXPECT_EQ(evaluate(*rt, consumer(1706616000, 30)).slot("reorder"),
              "House blend 1 kg: due in 0, overdue 1");
    // and on the leap day itself, due today
    EXPECT_EQ(evaluate(*rt, consumer(1706616000, 30), 1709208000).slot("reorder"),
              "House blend 1 kg: due in 0, overdue 0");
}

TEST(RulesKitReorder, NotWhenJustReboughtOrInCart) {
    auto rt = runtime(kReorderPack);
    ASSERT_TRUE(rt);
    Profile p = consumer(kNow - 28 * kDay, 30);
    p.purchases.push_back({"COFFEE-1KG", "coffee", kNow - 2 * kDay, 1, 30, 1500});
    EXPECT_EQ(evaluate(*rt, p).slot("reorder"), "<default>");

    Profile q = consumer(kNow - 28 * kDay, 30);
    q.purchases.push_back({"TEA-100", "tea", kNow - 12 * kDay, 1, 14, 800});
    q.cart = {{"COFFEE-1KG", 1, kNow, 1500}};
    // coffee is in the cart, so the tea (also due, unnamed in the catalog) is prompted
    EXPECT_EQ(evaluate(*rt, q).slot("reorder"), "TEA-100: due in 2, overdue 0");
}

TEST(RulesKitReorder, SoonestDueFirstPerSku) {
    auto rt = runtime(kReorderPack);
    ASSERT_TRUE(rt);
    Profile p = buyer(3, 1);
    p.purchases = {{"TEA-100", "tea", kNow - 13 * kDay, 1, 14, 800},
                   {"COFFEE-1KG", "coffee", kNow - 29 * kDay, 1, 30, 1500}};
    EXPECT_EQ(evaluate(*rt, p).slot("reorder"), "House blend 1 kg: due in 1, overdue 0");
}

TEST(RulesKitRewards, PointsTiersAndExpiry) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "rewards" {
  t.reward_reminder { id = "expiring", min_points = 100, expiring_within_days = 10, priority = 50,
                      html = "{{points}} points expire in {{expire_in_days}} days" },
  t.reward_reminder { min_points = 500, tiers = { "gold", "vip" },
                      html = "{{points}} points, {{tier}}" },
}
)");
    ASSERT_TRUE(rt);
    Profile p = typical_profile();  // 640 points, gold, expiring in 10 days
    EXPECT_EQ(evaluate(*rt, p).slot("rewards"), "640 points expire in 10 days");
    p.loyalty.points_expire_at = kNow + 11 * kDay;  // past the window
    EXPECT_EQ(evaluate(*rt, p).slot("rewards"), "640 points, gold");
    p.loyalty.points = 499;
    EXPECT_EQ(evaluate(*rt, p).slot("rewards"), "<default>");
    p.loyalty.points = 500;
    EXPECT_EQ(evaluate(*rt, p).slot("rewards"), "500 points, gold");
    p.loyalty.tier = "member";
    EXPECT_EQ(evaluate(*rt, p).slot("rewards"), "<default>");
}

constexpr std::string_view kRecsPack = R"(
local t = require "tailor"
t.slot "recs" {
  t.recommendations {
    sources = { "viewed", "paired", "attribute:recs" },
    pairs = { ["COFFEE-1KG"] = { "FILTER-100", "DRIPPER-1", "MUG-2" } },
    catalog = { ["DRIPPER-1"] = { name = "Dripper <V60>", url = "/p/dripper" } },
    limit = 3,
    item_html = [[<li>{{name}}</li>]],
    html = [[<ul data-n="{{count}}">{{{items}}}</ul>]],
  },
}
)";

TEST(RulesKitRecommendations, NeverShowsPurchasedOrCartItems) {
    auto rt = runtime(kRecsPack);
    ASSERT_TRUE(rt);
    Profile p = typical_profile();  // bought COFFEE-1KG, MUG-2, FILTER-100
    p.cart = {{"KETTLE-3", 1, kNow, 4900}};
    // viewed: GRINDER-1, MUG-2 (bought), KETTLE-3 (in cart); pairs: FILTER-100 (bought),
    // DRIPPER-1, MUG-2; the catalog name is escaped
    EXPECT_EQ(evaluate(*rt, p).slot("recs"),
              "<ul data-n=\"2\"><li>GRINDER-1</li><li>Dripper &lt;V60&gt;</li></ul>");
}

TEST(RulesKitRecommendations, AttributeSourceLimitAndMinimum) {
    auto rt = runtime(kRecsPack);
    ASSERT_TRUE(rt);
    Profile p;
    Attribute recs;
    recs.name = "recs";
    recs.text = "A, B,<b>C</b>,D";
    p.attributes = {recs};
    EXPECT_EQ(evaluate(*rt, p).slot("recs"),
              "<ul data-n=\"3\"><li>A</li><li>B</li><li>&lt;b&gt;C&lt;/b&gt;</li></ul>");
    Profile empty;
    EXPECT_EQ(evaluate(*rt, empty).slot("recs"), "<default>");
}

TEST(RulesKitRecommendations, ReplenishDedupesAndSkipsOddPairEntries) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "recs" {
  t.recommendations {
    sources = { "replenish", "paired", "viewed" },
    pairs = { ["COFFEE-1KG"] = { "DRIPPER-1", 7, "", "DRIPPER-1", "PAPER-9" },
              ["MUG-2"] = "not a list", ["FILTER-100"] = false },
    limit = 2.5, min_items = 3,
    item_html = [[{{sku}};]], html = [[{{{items}}}]],
  },
}
t.slot "bad" {
  t.recommendations { id = "bad", sources = { "paired" }, pairs = { ["MUG-2"] = 5 },
                      item_html = "x", html = "x" },
}
)");
    ASSERT_TRUE(rt);
    Profile p = typical_profile();
    Evaluated e = evaluate(*rt, p);
    // limit 2.5 takes a third; numbers, "" and repeats are skipped
    EXPECT_EQ(e.slot("recs"), "DRIPPER-1;PAPER-9;GRINDER-1;");
    EXPECT_EQ(e.slot("bad"), "<default>");  // `#5` errors: only its own slot
    p.viewed.clear();
    EXPECT_EQ(evaluate(*rt, p).slot("recs"), "<default>");  // 2 < min_items
    EXPECT_EQ(rt->rule_stats().back().errors, 2u);
}

TEST(RulesKitTemplates, NumbersRenderAsLuaTostring) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "n" { t.rule "n" { html = "{{a}} {{b}} {{c}} {{d}} {{e}} {{f}} {{g}}",
  vars = function(v)
    return { a = 640, b = -3, c = 2.5, d = 1e14, e = 99999999999999, f = -0.0, g = 0 }
  end } }
)");
    ASSERT_TRUE(rt);
    EXPECT_EQ(evaluate(*rt, typical_profile()).slot("n"), "640 -3 2.5 1e+14 99999999999999 -0 0");
}

constexpr std::string_view kSuppressPack = R"(
local t = require "tailor"
t.config { suppress = { recent_purchase_hours = 48 } }
t.slot "promo" { t.rule "promo" { html = "promo" } }
t.slot "service" { promotional = false,
  t.rule "help" { when = function(v) return v.flags.open_return end, html = "return help" } }
)";

TEST(RulesKitSuppression, OpenReturnOrComplaintSwitchesPromotionsOff) {
    auto rt = runtime(kSuppressPack);
    ASSERT_TRUE(rt);
    Profile p = buyer(2, 10);
    EXPECT_EQ(evaluate(*rt, p).slot("promo"), "promo");
    p.flags.open_return = true;
    Evaluated r = evaluate(*rt, p);
    EXPECT_EQ(r.slot("promo"), "<default>");
    EXPECT_EQ(r.slot("service"), "return help");
    EXPECT_EQ(r.decision.variable("suppressed"), "open_return");
    EXPECT_EQ(r.trace.entries[0].outcome, RuleOutcome::kSuppressed);
    p.flags.open_return = false;
    p.flags.open_complaint = true;
    EXPECT_EQ(evaluate(*rt, p).slot("promo"), "<default>");
}

TEST(RulesKitSuppression, RecentPurchaseWithinConfiguredHours) {
    auto rt = runtime(kSuppressPack);
    ASSERT_TRUE(rt);
    Profile p = buyer(2, 0);
    p.last_order_at = kNow - 48 * 3600 + 1;  // 47 h 59 min 59 s ago
    EXPECT_EQ(evaluate(*rt, p).slot("promo"), "<default>");
    p.last_order_at = kNow - 48 * 3600;  // exactly 48 h: no longer recent
    EXPECT_EQ(evaluate(*rt, p).slot("promo"), "promo");
    // a purchase line newer than last_order_at counts too
    p.purchases = {{"X", "", kNow - 3600, 1, 0, 0}};
    EXPECT_EQ(evaluate(*rt, p).slot("promo"), "<default>");
}

constexpr std::string_view kExperimentPack = R"(
local t = require "tailor"
t.experiment "hero-copy" { variants = { a = 50, b = 50 }, holdout = 10 }
t.slot "hero" {
  t.rule "hero-a" { experiment = "hero-copy", variant = "a", html = "A" },
  t.rule "hero-b" { experiment = "hero-copy", variant = "b", html = "B" },
}
)";

TEST(RulesKitExperiments, FollowsCoreBucketingAndRecordsOneExposure) {
    auto rt = runtime(kExperimentPack);
    ASSERT_TRUE(rt);
    ExperimentError err;
    auto e = Experiment::create({"hero-copy", "", 10, {{"a", 50}, {"b", 50}}}, &err);
    ASSERT_TRUE(e);
    int seen_a = 0, seen_b = 0, seen_holdout = 0;
    for (int i = 0; i < 200; ++i) {
        std::string vid = "visitor-" + std::to_string(i);
        RequestFacts f = facts();
        f.visitor_id = vid;
        Evaluated r = evaluate(*rt, typical_profile(), f);
        Assignment a = e->assign(vid);
        ASSERT_EQ(r.decision.exposures().size(), 1u);
        EXPECT_EQ(r.decision.exposures()[0].experiment, "hero-copy");
        EXPECT_EQ(r.decision.exposures()[0].variant, a.variant);
        EXPECT_EQ(r.decision.variable("exp_hero-copy"), a.variant);
        if (a.holdout) {
            ++seen_holdout;
            EXPECT_EQ(r.slot("hero"), "<default>");
        } else if (a.variant == "a") {
            ++seen_a;
            EXPECT_EQ(r.slot("hero"), "A");
        } else {
            ++seen_b;
            EXPECT_EQ(r.slot("hero"), "B");
        }
    }
    EXPECT_GT(seen_a, 0);
    EXPECT_GT(seen_b, 0);
    EXPECT_GT(seen_holdout, 0);
}

TEST(RulesKitExperiments, NoExposureWhenNoExperimentRuleMatches) {
    auto rt = runtime(R"(
local t = require "tailor"
t.experiment "x" { variants = { { "on", 1 } }, holdout = 100 }
t.slot "s" { t.rule "r" { experiment = "x", variant = "on", when = t.logged_in(), html = "on" } }
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_TRUE(r.decision.exposures().empty());
    RequestFacts f = facts();
    f.logged_in = true;
    r = evaluate(*rt, typical_profile(), f);
    ASSERT_EQ(r.decision.exposures().size(), 1u);
    EXPECT_EQ(r.decision.exposures()[0].variant, "holdout");
    EXPECT_EQ(r.slot("s"), "<default>");
    EXPECT_EQ(r.trace.entries[0].outcome, RuleOutcome::kHoldout);
}

TEST(RulesKitView, ListsAndTablesReadAsDocumented) {
    auto rt = runtime(R"(
local t = require "tailor"
t.slot "s" { t.rule "r" { html = "{{out}}", vars = function(v)
  local c = v.consumables[1]
  return { out = table.concat({
    #v.purchases, v.purchases[1].sku, #v.viewed, v.viewed[1].sku, v.affinities[1].category,
    v.affinity.tea, c.sku, c.due_in_days, tostring(c.in_cart), v.loyalty.tier,
    v.loyalty.days_to_points_expiry, tostring(v.flags.open_return), v.consent.email,
    tostring(v.consent.request), v.currency, tostring(v.known), v.points, v.tier,
    tostring(v.purchased["MUG-2"]), tostring(v.in_cart["MUG-2"]),
    v.purchase_skus[2], v.viewed_skus[3],
  }, "|") }
end } }
)");
    ASSERT_TRUE(rt);
    Evaluated r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("s"),
              "3|COFFEE-1KG|3|GRINDER-1|coffee|0.3|COFFEE-1KG|3|false|gold|10|false|granted|"
              "true|EUR|true|640|gold|true|nil|MUG-2|KETTLE-3")
        << r.trace.entries[0].detail;
}

}  // namespace
}  // namespace tailor
