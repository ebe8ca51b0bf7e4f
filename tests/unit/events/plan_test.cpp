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

// The log phase skips the response when plan_possible says no: it must never say no where
// plan_events would emit something, for any outcome and any response.
TEST(EventPlan, ImpossibleMeansNothingForEveryResponse) {
    for (size_t o = 0; o < kOutcomeCount; o++) {
        for (int beacon = 0; beacon < 2; beacon++) {
            for (std::string_view vid : {std::string_view(), std::string_view("v1")}) {
                bool possible = plan_possible(vid, beacon != 0, static_cast<Outcome>(o));
                bool any = false;
                for (unsigned status : {200u, 204u, 303u, 404u}) {
                    for (size_t declared : {size_t{0}, size_t{2}}) {
                        PlanRequest q = page();
                        q.vid = vid;
                        q.previous_vid = "anon";
                        q.beacon_recorded = beacon != 0;
                        q.outcome = static_cast<Outcome>(o);
                        q.status = status;
                        q.declared = declared;
                        q.upstream = true;
                        any = any || plan_events(q).any();
                    }
                }
                EXPECT_EQ(possible, any) << outcome_name(static_cast<Outcome>(o)) << " beacon "
                                         << beacon << " vid \"" << vid << "\"";
            }
        }
    }
    EXPECT_FALSE(plan_possible("v1", false, Outcome::kGpc));
    EXPECT_FALSE(plan_possible("v1", false, Outcome::kBot));
    EXPECT_TRUE(plan_possible("v1", true, Outcome::kNone));  // the beacon checked consent itself
}

}  // namespace
}  // namespace tailor
