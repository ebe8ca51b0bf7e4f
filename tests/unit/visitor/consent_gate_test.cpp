// ConsentGate tests: GPC precedence, the consent -> outcome mapping, and what a refusal means.
#include "tailor/visitor/consent_gate.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

ConsentPolicy policy(std::string_view text) {
    std::string err;
    auto p = parse_consent_policy(text, &err);
    EXPECT_TRUE(p) << text << ": " << err;
    return p.value_or(ConsentPolicy());
}

TEST(ConsentGate, WithoutAPolicyOnlyGpcGates) {
    ConsentGateInput in;
    EXPECT_EQ(consent_outcome(in), Outcome::kNone);
    in.sec_gpc = " 1 ";
    EXPECT_EQ(consent_outcome(in), Outcome::kGpc);
    in.sec_gpc = "0";
    EXPECT_EQ(consent_outcome(in), Outcome::kNone);
}

TEST(ConsentGate, GpcWinsOverAGrantedConsent) {
    const ConsentPolicy p = policy("variable");
    ConsentGateInput in;
    in.policy = &p;
    in.value = "granted";
    EXPECT_EQ(consent_outcome(in), Outcome::kNone);
    in.sec_gpc = "1";
    EXPECT_EQ(consent_outcome(in), Outcome::kGpc);
}

TEST(ConsentGate, GpcOffIgnoresTheHeaderButNotThePolicy) {
    const ConsentPolicy p = policy("variable");
    ConsentGateInput in;
    in.policy = &p;
    in.honor_gpc = false;
    in.sec_gpc = "1";
    in.value = "yes";
    EXPECT_EQ(consent_outcome(in), Outcome::kNone);
    in.value = "no";
    EXPECT_EQ(consent_outcome(in), Outcome::kNoConsent);
}

TEST(ConsentGate, AMissingOrUnreadableValueDenies) {
    const ConsentPolicy p = policy("onetrust");
    ConsentGateInput in;
    in.policy = &p;
    EXPECT_EQ(consent_outcome(in), Outcome::kNoConsent);  // could not be read
    in.value = "";
    EXPECT_EQ(consent_outcome(in), Outcome::kNoConsent);  // no cookie
    in.value = "groups=C0001%3A1%2CC0004%3A1";
    EXPECT_EQ(consent_outcome(in), Outcome::kNone);
    in.value = "groups=C0001%3A1%2CC0004%3A0";
    EXPECT_EQ(consent_outcome(in), Outcome::kNoConsent);
}

TEST(ConsentGate, PolicyNoneAllowsWhateverTheValue) {
    const ConsentPolicy p = policy("none");
    ConsentGateInput in;
    in.policy = &p;
    in.value = "";
    EXPECT_EQ(consent_outcome(in), Outcome::kNone);
}

TEST(ConsentGate, OnlyTheGateRefusalsCountAsRefused) {
    EXPECT_TRUE(consent_outcome_refused(Outcome::kGpc));
    EXPECT_TRUE(consent_outcome_refused(Outcome::kNoConsent));
    for (Outcome o :
         {Outcome::kNone, Outcome::kHit, Outcome::kCached, Outcome::kMiss, Outcome::kNewVisitor,
          Outcome::kTimeout, Outcome::kError, Outcome::kDown, Outcome::kBadProfile}) {
        EXPECT_FALSE(consent_outcome_refused(o)) << outcome_name(o);
    }
}

TEST(ConsentGate, CrawlersAreRefusedAfterGpcWithoutAskingThePolicy) {
    ConsentGateInput in;
    in.user_agent = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    EXPECT_EQ(consent_outcome(in), Outcome::kBot);
    EXPECT_TRUE(consent_outcome_refused(Outcome::kBot));
    EXPECT_EQ(outcome_name(Outcome::kBot), "bot");
    in.sec_gpc = "1";
    EXPECT_EQ(consent_outcome(in), Outcome::kGpc);
    in = ConsentGateInput();
    in.user_agent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0 Safari/537.36";
    EXPECT_EQ(consent_outcome(in), Outcome::kNone);
    in.user_agent = {};
    EXPECT_EQ(consent_outcome(in), Outcome::kNone) << "no User-Agent is no crawler by itself";
}

}  // namespace
}  // namespace tailor
