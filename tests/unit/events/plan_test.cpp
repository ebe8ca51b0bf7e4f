// plan_events: which events a finished request emits.
#include "tailor/events/plan.h"

#include <gtest/gtest.h>

namespace tailor {
namespace {

PlanRequest page() {
    PlanRequest q;
    q.vid = "v1";
    q.outcome = Outcome::kHit;
    q.status = 200;
    q.get = true;
    q.page_type = true;
    return q;
}

TEST(EventPlan, AConsentedPageIsAPageView) {
    for (Outcome o : {Outcome::kHit, Outcome::kCached, Outcome::kMiss, Outcome::kTimeout,
                      Outcome::kError, Outcome::kDown, Outcome::kBadProfile}) {
        PlanRequest q = page();
        q.outcome = o;
        EventPlan p = plan_events(q);
        EXPECT_TRUE(p.page_view) << outcome_name(o);
        EXPECT_FALSE(p.identify || p.declared || p.beacon);
    }
}

TEST(EventPlan, NoVisitorOrNoConsentEmitsNothing) {
    PlanRequest q = page();
    q.vid = {};
    EXPECT_FALSE(plan_events(q).any());
    for (Outcome o : {Outcome::kNone, Outcome::kGpc, Outcome::kNoConsent, Outcome::kBot}) {
        q = page();
        q.outcome = o;
        q.previous_vid = "known";
        q.declared = 2;
        EXPECT_FALSE(plan_events(q).any()) << outcome_name(o);
    }
}

TEST(EventPlan, AMintedIdEmitsNothingUntilTheBrowserReturnsIt) {
    PlanRequest q = page();
    q.outcome = Outcome::kNewVisitor;
    EXPECT_FALSE(plan_events(q).any());
    q.declared = 1;
    EXPECT_FALSE(plan_events(q).any());
}

TEST(EventPlan, AMintedIdIdentifiedAtOnceRecordsTheCustomerButNoLink) {
    PlanRequest q = page();
    q.outcome = Outcome::kNewVisitor;
    q.previous_vid = "minted";
    EventPlan p = plan_events(q);
    EXPECT_TRUE(p.page_view);
    EXPECT_FALSE(p.identify) << "the minted id has no state to merge; a link would create some";
}

TEST(EventPlan, OnlyA200GetOfAPageTypeWithABodyIsAPageView) {
    PlanRequest q = page();
    q.status = 404;
    EXPECT_FALSE(plan_events(q).any());
    q = page();
    q.status = 304;
    EXPECT_FALSE(plan_events(q).page_view);
    q = page();
    q.header_only = true;
    EXPECT_FALSE(plan_events(q).page_view);
    q = page();
    q.get = false;
    EXPECT_FALSE(plan_events(q).page_view);
    q = page();
    q.page_type = false;
    EXPECT_FALSE(plan_events(q).page_view);
}

TEST(EventPlan, DeclaredEventsReplaceThePageViewOn2xxAnd3xx) {
    PlanRequest q = page();
    q.declared = 1;
    EventPlan p = plan_events(q);
    EXPECT_TRUE(p.declared);
    EXPECT_FALSE(p.page_view);
    q.status = 302;
    q.get = false;  // a POST that redirects: an order placed
    EXPECT_TRUE(plan_events(q).declared);
    q.status = 400;
    EXPECT_FALSE(plan_events(q).any());
}

TEST(EventPlan, AChangedIdIsAnIdentifyBesideThePageView) {
    PlanRequest q = page();
    q.previous_vid = "anon";
    EventPlan p = plan_events(q);
    EXPECT_TRUE(p.identify);
    EXPECT_TRUE(p.page_view);
    q.previous_vid = q.vid;  // the same id: no link
    EXPECT_FALSE(plan_events(q).identify);
    q = page();
    q.previous_vid = "anon";
    q.status = 500;  // the link still happened
    EXPECT_TRUE(plan_events(q).identify);
}

TEST(EventPlan, ARecordedBeaconEmitsOnlyItsEvent) {
    PlanRequest q = page();
    q.beacon_recorded = true;
    q.previous_vid = "anon";
    q.declared = 3;
    q.outcome = Outcome::kNone;  // the beacon handler checked consent itself
    EventPlan p = plan_events(q);
    EXPECT_TRUE(p.beacon);
    EXPECT_FALSE(p.identify || p.page_view || p.declared);
}

}  // namespace
}  // namespace tailor
