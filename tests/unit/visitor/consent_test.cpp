// Consent tests: policy text, GPC, and the OneTrust and Cookiebot cookies as CMPs write them.
#include "tailor/visitor/consent.h"

#include <gtest/gtest.h>

#include <string>

#include "tailor/base/outcome.h"

namespace tailor {
namespace {

ConsentPolicy policy(std::string_view text) {
    std::string err;
    auto p = parse_consent_policy(text, &err);
    EXPECT_TRUE(p) << text << ": " << err;
    return p.value_or(ConsentPolicy());
}

std::string policy_error(std::string_view text) {
    std::string err;
    EXPECT_FALSE(parse_consent_policy(text, &err)) << text;
    return err;
}

// As OneTrust writes it (shortened), URL-encoded.
constexpr std::string_view kOneTrustGranted =
    "isGpcEnabled=0&datestamp=Tue+Mar+05+2024+10%3A12%3A01+GMT%2B0100&version=202401.1.0"
    "&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId=3f2a9c1e-0000-4000-8000-1234"
    "&interactionCount=1&landingPath=NotLandingPage"
    "&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0%2CC0004%3A1&AwaitingReconsent=false"
    "&geolocation=DE%3BBE";
constexpr std::string_view kOneTrustDenied =
    "isGpcEnabled=0&version=202401.1.0&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A1%2CC0004%3A0"
    "&AwaitingReconsent=false";

// As Cookiebot writes it, URL-encoded.
constexpr std::string_view kCookiebotMarketingOff =
    "{stamp:%27HlYvZ1aG3e0%2BkYj9WZqk2fBKqQ1s0yNjMSvYo6GFQeVR7cQ3pwGNtA%3D%3D%27%2Cnecessary:"
    "true%2Cpreferences:true%2Cstatistics:true%2Cmarketing:false%2Cmethod:%27explicit%27%2C"
    "ver:1%2Cutc:1709629921845%2Cregion:%27de%27}";
constexpr std::string_view kCookiebotMarketingOn =
    "{stamp:%27-1%2C-1%27%2Cnecessary:true%2Cpreferences:false%2Cstatistics:false%2C"
    "marketing:true%2Cmethod:%27implied%27%2Cver:1%2Cutc:1709629921845%2Cregion:%27us-06%27}";

TEST(ConsentPolicy, ParsesEverySource) {
    EXPECT_EQ(policy("none").source(), ConsentSource::kNone);
    EXPECT_EQ(policy("variable").source(), ConsentSource::kVariable);
    EXPECT_EQ(policy("onetrust").source(), ConsentSource::kOneTrust);
    EXPECT_EQ(policy("cookiebot").source(), ConsentSource::kCookiebot);
}

TEST(ConsentPolicy, DefaultsToTargetingAndMarketing) {
    EXPECT_EQ(policy("onetrust").category(), "C0004");
    EXPECT_EQ(policy("cookiebot").category(), "marketing");
    EXPECT_EQ(policy("none").category(), "");
}

TEST(ConsentPolicy, TakesAGroupOrCategory) {
    EXPECT_EQ(policy("onetrust:C0002").category(), "C0002");
    EXPECT_EQ(policy("onetrust:SPD_BG").category(), "SPD_BG");
    EXPECT_EQ(policy("cookiebot:preferences").category(), "preferences");
    EXPECT_EQ(policy("cookiebot:statistics").category(), "statistics");
}

TEST(ConsentPolicy, RefusesUnknownSource) {
    EXPECT_EQ(policy_error("usercentrics"),
              "unknown consent source \"usercentrics\" (expected none, variable, "
              "onetrust[:GROUP] or cookiebot[:CATEGORY])");
    EXPECT_FALSE(policy_error("").empty());
    EXPECT_FALSE(policy_error("OneTrust").empty());
    EXPECT_EQ(policy_error("a\"b").find("a\"b"), std::string::npos);  // not echoed
}

TEST(ConsentPolicy, RefusesArgumentsWhereNoneBelong) {
    EXPECT_EQ(policy_error("none:x"), "consent source \"none\" takes no argument");
    EXPECT_EQ(policy_error("variable:"), "consent source \"variable\" takes no argument");
}

TEST(ConsentPolicy, RefusesBadGroups) {
    EXPECT_EQ(policy_error("onetrust:"),
              "onetrust group must be 1..32 characters of [A-Za-z0-9_-]");
    EXPECT_FALSE(policy_error("onetrust:C0004:1").empty());
    EXPECT_FALSE(policy_error("onetrust:" + std::string(33, 'C')).empty());
    EXPECT_EQ(policy("onetrust:" + std::string(32, 'C')).category().size(), 32u);
}

TEST(ConsentPolicy, RefusesCategoriesThatAreNotOptional) {
    EXPECT_EQ(policy_error("cookiebot:necessary"),
              "cookiebot category must be marketing, preferences or statistics");
    EXPECT_FALSE(policy_error("cookiebot:Marketing").empty());
    EXPECT_FALSE(policy_error("cookiebot:").empty());
}

TEST(ConsentPolicy, TextRoundTrips) {
    for (std::string_view text : {"none", "variable", "onetrust:C0004", "onetrust:X_1",
                                  "cookiebot:marketing", "cookiebot:statistics"}) {
        EXPECT_EQ(consent_policy_text(policy(text)), text);
        EXPECT_EQ(policy(consent_policy_text(policy(text))), policy(text));
    }
    EXPECT_EQ(consent_policy_text(policy("onetrust")), "onetrust:C0004");
}

TEST(ConsentPolicy, ZeroBytesAreNone) {
    static_assert(std::is_trivially_copyable_v<ConsentPolicy>);
    alignas(ConsentPolicy) unsigned char zeros[sizeof(ConsentPolicy)] = {};
    const auto* p = reinterpret_cast<const ConsentPolicy*>(zeros);
    EXPECT_EQ(p->source(), ConsentSource::kNone);
    EXPECT_EQ(p->category(), "");
}

TEST(ConsentPolicy, NamesTheConsentCookie) {
    EXPECT_EQ(consent_cookie_name(ConsentSource::kOneTrust), "OptanonConsent");
    EXPECT_EQ(consent_cookie_name(ConsentSource::kCookiebot), "CookieConsent");
    EXPECT_EQ(consent_cookie_name(ConsentSource::kNone), "");
    EXPECT_EQ(consent_cookie_name(ConsentSource::kVariable), "");
}

TEST(Consent, GpcHeaderOneIsOptOut) {
    EXPECT_TRUE(is_gpc_opt_out("1"));
    EXPECT_TRUE(is_gpc_opt_out(" 1\t"));
    EXPECT_FALSE(is_gpc_opt_out("0"));
    EXPECT_FALSE(is_gpc_opt_out(""));
    EXPECT_FALSE(is_gpc_opt_out("true"));
    EXPECT_FALSE(is_gpc_opt_out("11"));
}

TEST(Consent, NoneAllowsWithoutGpc) {
    EXPECT_EQ(decide_consent(policy("none"), false, ""), ConsentDecision::kAllowed);
    EXPECT_EQ(decide_consent(policy("none"), false, std::string(10000, 'x')),
              ConsentDecision::kAllowed);
}

TEST(Consent, GpcWinsOverEverySource) {
    EXPECT_EQ(decide_consent(policy("none"), true, ""), ConsentDecision::kGpcOptOut);
    EXPECT_EQ(decide_consent(policy("variable"), true, "1"), ConsentDecision::kGpcOptOut);
    EXPECT_EQ(decide_consent(policy("onetrust"), true, kOneTrustGranted),
              ConsentDecision::kGpcOptOut);
    EXPECT_EQ(decide_consent(policy("cookiebot"), true, "-1"), ConsentDecision::kGpcOptOut);
}

TEST(Consent, VariableGrantsOnlyOnYesWords) {
    const ConsentPolicy p = policy("variable");
    for (std::string_view v : {"1", "true", "TRUE", "yes", "Yes", "granted", "GRANTED"}) {
        EXPECT_EQ(decide_consent(p, false, v), ConsentDecision::kAllowed) << v;
    }
    for (std::string_view v : {"", "0", "false", "no", "denied", " 1", "1 ", "yess", "y"}) {
        EXPECT_EQ(decide_consent(p, false, v), ConsentDecision::kNoConsent) << v;
    }
}

TEST(Consent, OneTrustGrantedGroupAllows) {
    EXPECT_EQ(decide_consent(policy("onetrust"), false, kOneTrustGranted),
              ConsentDecision::kAllowed);
    EXPECT_EQ(decide_consent(policy("onetrust:C0002"), false, kOneTrustGranted),
              ConsentDecision::kAllowed);
}

TEST(Consent, OneTrustDeniedGroupRefuses) {
    EXPECT_EQ(decide_consent(policy("onetrust"), false, kOneTrustDenied),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust:C0003"), false, kOneTrustGranted),
              ConsentDecision::kNoConsent);
}

TEST(Consent, OneTrustMissingGroupRefuses) {
    EXPECT_EQ(decide_consent(policy("onetrust:C0005"), false, kOneTrustGranted),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "isGpcEnabled=0&version=1"),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, ""), ConsentDecision::kNoConsent);
}

TEST(Consent, OneTrustUnencodedGroupsAreReadToo) {
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=C0001:1,C0004:1"),
              ConsentDecision::kAllowed);
}

TEST(Consent, OneTrustGroupIsMatchedWhole) {
    EXPECT_EQ(decide_consent(policy("onetrust:C000"), false, "groups=C0004%3A1"),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=XC0004%3A1"),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=C0004%3A10"),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "xgroups=C0004%3A1"),
              ConsentDecision::kNoConsent);
}

TEST(Consent, OneTrustFirstMentionDecides) {
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=C0004%3A0%2CC0004%3A1"),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=C0004%3A0&groups=C0004%3A1"),
              ConsentDecision::kNoConsent);
}

TEST(Consent, OneTrustBadEscapeRefuses) {
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=C0004%3A1%2"),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=C0004%3A1%"),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("onetrust"), false, "groups=C0004%zz1"),
              ConsentDecision::kNoConsent);
}

TEST(Consent, CookiebotCategoryTrueAllows) {
    EXPECT_EQ(decide_consent(policy("cookiebot"), false, kCookiebotMarketingOn),
              ConsentDecision::kAllowed);
    EXPECT_EQ(decide_consent(policy("cookiebot:statistics"), false, kCookiebotMarketingOff),
              ConsentDecision::kAllowed);
    EXPECT_EQ(decide_consent(policy("cookiebot:preferences"), false, kCookiebotMarketingOff),
              ConsentDecision::kAllowed);
}

TEST(Consent, CookiebotCategoryFalseRefuses) {
    EXPECT_EQ(decide_consent(policy("cookiebot"), false, kCookiebotMarketingOff),
              ConsentDecision::kNoConsent);
    EXPECT_EQ(decide_consent(policy("cookiebot:statistics"), false, kCookiebotMarketingOn),
              ConsentDecision::kNoConsent);
}

TEST(Consent, CookiebotOutsideConsentRegionAllows) {
    EXPECT_EQ(decide_consent(policy("cookiebot"), false, "-1"), ConsentDecision::kAllowed);
}

TEST(Consent, CookiebotQuotedCommasDoNotSplitEntries) {
    // A stamp holding ",marketing:true" must not be read as an entry.
    EXPECT_EQ(decide_consent(policy("cookiebot"), false,
                             "{stamp:%27x%2Cmarketing:true%27%2Cmarketing:false}"),
              ConsentDecision::kNoConsent);
}

TEST(Consent, CookiebotUnencodedAndQuotedKeysAreReadToo) {
    EXPECT_EQ(decide_consent(policy("cookiebot"), false, "{necessary:true,marketing:true}"),
              ConsentDecision::kAllowed);
    EXPECT_EQ(decide_consent(policy("cookiebot"), false, "{'necessary':true,'marketing':true}"),
              ConsentDecision::kAllowed);
}

TEST(Consent, CookiebotMalformedRefuses) {
    const ConsentPolicy p = policy("cookiebot");
    for (std::string_view v :
         {"", "{", "}", "{}", "marketing:true", "{marketing:true", "{marketing:'true'}",
          "{marketing:truex}", "{stamp:'unterminated,marketing:true}", "{marketing:true%2}", "-2",
          "{marketing}", "{marketing:true:true}"}) {
        EXPECT_EQ(decide_consent(p, false, v), ConsentDecision::kNoConsent) << v;
    }
}

TEST(Consent, ValueAtTheCapIsReadOnePastIsRefused) {
    const ConsentPolicy p = policy("cookiebot");
    std::string at_cap = "{marketing:true,x:'";
    at_cap += std::string(kMaxConsentValueBytes - at_cap.size() - 2, 'a');
    at_cap += "'}";
    ASSERT_EQ(at_cap.size(), kMaxConsentValueBytes);
    EXPECT_EQ(decide_consent(p, false, at_cap), ConsentDecision::kAllowed);
    std::string past = at_cap;
    past.insert(at_cap.size() - 2, "a");
    EXPECT_EQ(decide_consent(p, false, past), ConsentDecision::kNoConsent);
}

TEST(Consent, DecisionNamesMatchOutcomeNames) {
    EXPECT_EQ(consent_decision_name(ConsentDecision::kAllowed), "allowed");
    EXPECT_EQ(consent_decision_name(ConsentDecision::kGpcOptOut), outcome_name(Outcome::kGpc));
    EXPECT_EQ(consent_decision_name(ConsentDecision::kNoConsent),
              outcome_name(Outcome::kNoConsent));
}

}  // namespace
}  // namespace tailor
