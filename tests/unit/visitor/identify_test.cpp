// Identify tests: no identity link without consent, invalid ids, and when a link is needed.
#include "tailor/visitor/identify.h"

#include <gtest/gtest.h>

namespace tailor {
namespace {

constexpr std::string_view kCustomer = "cust_0000012345678";
constexpr std::string_view kAnonymous = "q3Zf0x8W2mYbT1kL9cVn_A";

TEST(Identify, AKnownIdLinksTheVisitor) {
    IdentifyInput in;
    in.fresh = true;
    in.outcome = Outcome::kHit;
    in.header = kCustomer;
    in.current_vid = kAnonymous;
    IdentifyDecision d = decide_identify(in);
    EXPECT_EQ(d.action, IdentifyAction::kLink);
    ASSERT_TRUE(d.known);
    EXPECT_EQ(d.known->view(), kCustomer);
}

TEST(Identify, NoIdentityLinkWithoutConsent) {
    IdentifyInput in;
    in.fresh = true;
    in.header = kCustomer;
    in.current_vid = kAnonymous;
    for (Outcome o : {Outcome::kGpc, Outcome::kNoConsent}) {
        in.outcome = o;
        IdentifyDecision d = decide_identify(in);
        EXPECT_EQ(d.action, IdentifyAction::kIgnore) << outcome_name(o);
        EXPECT_FALSE(d.known);
    }
}

TEST(Identify, AnInvalidIdChangesNothing) {
    IdentifyInput in;
    in.fresh = true;
    in.header = "a b\r\nSet-Cookie: x=1";
    in.current_vid = kAnonymous;
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kInvalid);
    in.header = "short";
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kInvalid);
}

TEST(Identify, AnEmptyOrLogoutHeaderForgetsTheVisitor) {
    IdentifyInput in;
    in.fresh = true;
    in.current_vid = kCustomer;
    in.outcome = Outcome::kHit;
    for (std::string_view h : {"", "logout", "LogOut"}) {
        in.header = h;
        const IdentifyDecision d = decide_identify(in);
        EXPECT_EQ(d.action, IdentifyAction::kForget) << h;
        EXPECT_FALSE(d.known) << "nothing links the fresh id to the old one";
    }
    in.outcome = Outcome::kNewVisitor;  // nothing to forget
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kIgnore);
    in.outcome = Outcome::kHit;
    in.fresh = false;  // a stored logout page speaks for someone else
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kIgnore);
    in.fresh = true;
    in.outcome = Outcome::kGpc;
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kIgnore);
}

TEST(Identify, TheSameIdNeedsNoNewCookie) {
    IdentifyInput in;
    in.fresh = true;
    in.header = kCustomer;
    in.current_vid = kCustomer;
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kIgnore);
    in.cookie_pending = true;  // a cookie is being issued anyway: sign the known id
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kLink);
}

TEST(Identify, OnlyAFreshUpstreamResponseIdentifies) {
    IdentifyInput in;
    in.outcome = Outcome::kHit;
    in.header = kCustomer;
    in.current_vid = kAnonymous;
    in.cookie_pending = true;
    IdentifyDecision d = decide_identify(in);  // fresh defaults to false
    EXPECT_EQ(d.action, IdentifyAction::kIgnore);
    EXPECT_FALSE(d.known);
    in.header = "bad value";
    EXPECT_EQ(decide_identify(in).action, IdentifyAction::kIgnore);  // not even logged
}

}  // namespace
}  // namespace tailor
