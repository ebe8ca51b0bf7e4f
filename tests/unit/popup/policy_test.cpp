// PopupPolicy: caps windows, cooldowns, time zones, clock edges, exclusions and the one winner.
#include "tailor/popup/policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace tailor {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
// 2025-11-20T00:00:00Z, a UTC midnight
constexpr int64_t kMidnight = 1763596800;

PopupCandidate candidate(std::string_view id, PopupIntent intent = PopupIntent::kCart,
                         double priority = 0, uint32_t order = 0) {
    PopupCandidate c;
    c.id = id;
    c.intent = intent;
    c.priority = priority;
    c.order = order;
    return c;
}

PopupVisitorFacts facts(int64_t now) {
    PopupVisitorFacts f;
    f.now = now;
    f.visit = 5;
    return f;
}

PopupCapsEntry entry(std::string_view id) {
    PopupCapsEntry e;
    e.id = id;
    return e;
}

void shown(PopupCapsEntry& e, int64_t at) {
    e.impressions[e.impression_count++] = at;
}

TEST(PopupPolicy, NeverShownIsEligible) {
    EXPECT_EQ(popup_eligibility(candidate("a"), nullptr, facts(kMidnight), {}),
              PopupVerdict::kChosen);
}

TEST(PopupPolicy, PerVisitCountsOnlyThisVisit) {
    PopupCandidate c = candidate("a");
    c.caps.per_day = 0;
    PopupCapsEntry e = entry("a");
    e.visit = 5;
    e.visit_impressions = 1;
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kCapVisit);
    e.visit = 4;  // last shown during the previous visit
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kChosen);
    c.caps.per_visit = 2;  // at the cap minus one
    e.visit = 5;
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kChosen);
    e.visit_impressions = 2;
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kCapVisit);
    c.caps.per_visit = 0;  // no cap
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, UnknownVisitNumberDoesNotCapPerVisit) {
    PopupCandidate c = candidate("a");
    c.caps.per_day = 0;
    PopupCapsEntry e = entry("a");
    e.visit = 0;
    e.visit_impressions = 3;
    PopupVisitorFacts f = facts(kMidnight);
    f.visit = 0;
    EXPECT_EQ(popup_eligibility(c, &e, f, {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, PerDayEndsExactlyAtMidnightUtc) {
    PopupCandidate c = candidate("a");
    PopupCapsEntry e = entry("a");
    shown(e, kMidnight - 1);  // 23:59:59 yesterday
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kChosen);
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight - 1), {}), PopupVerdict::kCapDay);
    PopupCapsEntry today = entry("a");
    shown(today, kMidnight);  // exactly midnight belongs to the new day
    EXPECT_EQ(popup_eligibility(c, &today, facts(kMidnight + kDay - 1), {}), PopupVerdict::kCapDay);
    EXPECT_EQ(popup_eligibility(c, &today, facts(kMidnight + kDay), {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, PerDayFollowsTheConfiguredTimeZone) {
    PopupCandidate c = candidate("a");
    PopupCapsEntry e = entry("a");
    shown(e, kMidnight - 2 * kHour);                   // 22:00 UTC, 23:00 at UTC+1, 17:00 at UTC-5
    PopupVisitorFacts f = facts(kMidnight + 30 * 60);  // 00:30 UTC
    EXPECT_EQ(popup_eligibility(c, &e, f, {}), PopupVerdict::kChosen);      // UTC: new day
    EXPECT_EQ(popup_eligibility(c, &e, f, {60}), PopupVerdict::kChosen);    // 01:30 vs 23:00
    EXPECT_EQ(popup_eligibility(c, &e, f, {-300}), PopupVerdict::kCapDay);  // 19:30 vs 17:00
    EXPECT_EQ(popup_eligibility(c, &e, f, {180}), PopupVerdict::kCapDay);   // 03:30 vs 01:00
    EXPECT_EQ(popup_day(kMidnight, {}), popup_day(kMidnight + kDay - 1, {}));
    EXPECT_EQ(popup_day(kMidnight - 1, {}) + 1, popup_day(kMidnight, {}));
    EXPECT_EQ(popup_day(3600, {-120}), -1);  // before the epoch's midnight in UTC-2
    EXPECT_EQ(popup_day(kMidnight, {-60}) + 1, popup_day(kMidnight + kHour, {-60}));
}

TEST(PopupPolicy, TimeZoneOffsetsAreClampedTo14Hours) {
    EXPECT_EQ(popup_day(kMidnight, {100000}), popup_day(kMidnight, {840}));
    EXPECT_EQ(popup_day(kMidnight, {-100000}), popup_day(kMidnight, {-840}));
}

TEST(PopupPolicy, PerDayCountsSeveralImpressions) {
    PopupCandidate c = candidate("a");
    c.caps.per_day = 3;
    PopupCapsEntry e = entry("a");
    shown(e, kMidnight + 3 * kHour);
    shown(e, kMidnight + 2 * kHour);
    shown(e, kMidnight - kHour);  // yesterday
    const PopupVisitorFacts f = facts(kMidnight + 4 * kHour);
    EXPECT_EQ(popup_eligibility(c, &e, f, {}), PopupVerdict::kChosen);
    shown(e, kMidnight + 1);
    EXPECT_EQ(popup_eligibility(c, &e, f, {}), PopupVerdict::kCapDay);
    c.caps.per_day = 0;
    EXPECT_EQ(popup_eligibility(c, &e, f, {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, ImpressionFromTheFutureCountsForToday) {
    // the clock went back (or another server's is ahead): still capped
    PopupCandidate c = candidate("a");
    PopupCapsEntry e = entry("a");
    shown(e, kMidnight + 3 * kDay);
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kCapDay);
}

TEST(PopupPolicy, CooldownEndsExactlyAtItsBoundary) {
    PopupCandidate c = candidate("a");
    c.caps.cooldown_hours = 24;
    PopupCapsEntry e = entry("a");
    e.closed_at = kMidnight;
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight + 24 * kHour - 1), {}),
              PopupVerdict::kCooldown);
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight + 24 * kHour), {}), PopupVerdict::kChosen);
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kCooldown);
    c.caps.cooldown_hours = 0;
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight + 1), {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, CloseInTheFutureKeepsTheCooldown) {
    PopupCandidate c = candidate("a");
    PopupCapsEntry e = entry("a");
    e.closed_at = kMidnight + 10 * kDay;  // the clock went backwards
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kCooldown);
}

TEST(PopupPolicy, ConversionStopsForGoodUnlessTold) {
    PopupCandidate c = candidate("a");
    PopupCapsEntry e = entry("a");
    e.converted_at = kMidnight - 400 * kDay;
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kConverted);
    c.caps.stop_after_conversion = false;
    EXPECT_EQ(popup_eligibility(c, &e, facts(kMidnight), {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, RecentPurchaseWindowEndsExactlyAtNHours) {
    PopupCandidate c = candidate("a");
    PopupVisitorFacts f = facts(kMidnight);
    f.last_purchase_at = kMidnight - 24 * kHour + 1;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kRecentPurchase);
    f.last_purchase_at = kMidnight - 24 * kHour;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kChosen);
    f.last_purchase_at = kMidnight + kHour;  // a purchase "in the future" is recent
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kRecentPurchase);
    c.exclude.recent_purchase_hours = 0;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, ExclusionsComeBeforeCapsAndCanBeSwitchedOff) {
    PopupCandidate c = candidate("a", PopupIntent::kBrowse);
    PopupVisitorFacts f = facts(kMidnight);
    f.open_return = true;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kOpenReturn);
    c.exclude.open_return = false;
    f.open_complaint = true;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kOpenComplaint);
    c.exclude.open_complaint = false;
    f.from_email = true;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kEmailCampaign);
    c.exclude.email_campaign = false;
    f.has_cart = true;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kHigherIntentFlow);
    c.intent = PopupIntent::kCart;  // a cart pop-up is the cart flow itself
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kChosen);
    c.intent = PopupIntent::kProduct;
    c.exclude.higher_intent_flow = false;
    EXPECT_EQ(popup_eligibility(c, nullptr, f, {}), PopupVerdict::kChosen);
}

TEST(PopupPolicy, HigherIntentWinsThenPriorityThenDeclarationOrder) {
    std::vector<PopupCandidate> cands = {
        candidate("browse-hi", PopupIntent::kBrowse, 100, 0),
        candidate("product", PopupIntent::kProduct, 0, 1),
        candidate("cart-lo", PopupIntent::kCart, 1, 2),
        candidate("cart-hi", PopupIntent::kCart, 5, 3),
        candidate("cart-hi-later", PopupIntent::kCart, 5, 4),
    };
    PopupCaps caps;
    std::vector<PopupVerdict> why;
    size_t won = choose_popup(cands, &caps, facts(kMidnight), {}, &why);
    ASSERT_EQ(won, 3u);
    EXPECT_EQ(why[3], PopupVerdict::kChosen);
    for (size_t i : {0u, 1u, 2u, 4u}) {
        EXPECT_EQ(why[i], PopupVerdict::kOutranked) << i;
    }
    // the same inputs in another list order choose the same pop-up
    std::vector<PopupCandidate> reversed(cands.rbegin(), cands.rend());
    won = choose_popup(reversed, &caps, facts(kMidnight), {}, &why);
    EXPECT_EQ(reversed[won].id, "cart-hi");
}

TEST(PopupPolicy, ACappedHigherIntentLetsTheNextOneThrough) {
    std::vector<PopupCandidate> cands = {candidate("cart", PopupIntent::kCart, 0, 0),
                                         candidate("product", PopupIntent::kProduct, 0, 1)};
    PopupCaps caps;
    PopupCapsEntry e = entry("cart");
    e.closed_at = kMidnight - kHour;
    caps.entries.push_back(e);
    std::vector<PopupVerdict> why;
    size_t won = choose_popup(cands, &caps, facts(kMidnight), {}, &why);
    EXPECT_EQ(won, 1u);
    EXPECT_EQ(why[0], PopupVerdict::kCooldown);
    EXPECT_EQ(why[1], PopupVerdict::kChosen);
}

TEST(PopupPolicy, NothingIsChosenWithoutCandidatesOrWithUnreadableCaps) {
    std::vector<PopupVerdict> why;
    PopupCaps caps;
    EXPECT_EQ(choose_popup({}, &caps, facts(kMidnight), {}, &why), 0u);
    std::vector<PopupCandidate> one = {candidate("a")};
    EXPECT_EQ(choose_popup(one, nullptr, facts(kMidnight), {}, &why), 1u);
    EXPECT_EQ(why[0], PopupVerdict::kCapsUnreadable);
}

TEST(PopupPolicy, EmailCampaignIsReadFromTheQuery) {
    EXPECT_TRUE(popup_request_from_email("utm_medium=email"));
    EXPECT_TRUE(popup_request_from_email("a=1&UTM_MEDIUM=Email&b"));
    EXPECT_FALSE(popup_request_from_email("utm_medium=emails"));
    EXPECT_FALSE(popup_request_from_email("utm_source=email"));
    EXPECT_FALSE(popup_request_from_email("xutm_medium=email"));
    EXPECT_FALSE(popup_request_from_email(""));
    EXPECT_FALSE(popup_request_from_email("&&="));
}

TEST(PopupPolicy, NamesRoundTrip) {
    PopupIntent i = PopupIntent::kBrowse;
    EXPECT_TRUE(parse_popup_intent("cart", &i));
    EXPECT_EQ(i, PopupIntent::kCart);
    EXPECT_FALSE(parse_popup_intent("checkout", &i));
    EXPECT_EQ(popup_intent_name(PopupIntent::kProduct), "product");
    EXPECT_EQ(popup_verdict_name(PopupVerdict::kCapDay), "cap-per-day");
    EXPECT_EQ(popup_verdict_name(PopupVerdict::kHigherIntentFlow), "higher-intent-flow");
}

}  // namespace
}  // namespace tailor
