// Referrer and EventPath: utm extraction, host classes, and sensitive query stripping.
#include "tailor/events/path.h"
#include "tailor/request/referrer.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace tailor {
namespace {

static_assert(std::is_trivially_copyable_v<Attribution>);

TEST(Referrer, ReadsUtmTagsPercentDecoded) {
    const auto a = attribution_from_request(
        "id=3&utm_source=news%20letter&utm_medium=email&utm_campaign=spring+sale", "",
        "shop.example");
    EXPECT_EQ(a.utm_source(), "news letter");
    EXPECT_EQ(a.utm_medium(), "email");
    EXPECT_EQ(a.utm_campaign(), "spring sale");
    EXPECT_TRUE(a.has_utm());
    EXPECT_EQ(a.referrer_class(), ReferrerClass::kDirect);
    EXPECT_EQ(a.referrer_host(), "");
}

TEST(Referrer, FirstOccurrenceWinsAndMalformedEscapesStay) {
    const auto a = attribution_from_request("utm_source=a%2&utm_source=b&utm_medium=%zz", "", "x");
    EXPECT_EQ(a.utm_source(), "a%2");
    EXPECT_EQ(a.utm_medium(), "%zz");
    EXPECT_FALSE(attribution_from_request("utm_source", "", "x").has_utm());
}

TEST(Referrer, LongUtmValueIsCutAtACharacterBoundary) {
    std::string v;
    for (int i = 0; i < 60; ++i) {
        v += "%C3%BC";  // ü, two bytes each
    }
    const auto a = attribution_from_request("utm_campaign=a" + v, "", "x");
    EXPECT_EQ(a.utm_campaign().size(), 99u);  // "a" + 49 complete ü
    EXPECT_EQ(a.utm_campaign().substr(0, 3), "a\xC3\xBC");
}

TEST(Referrer, ClassifiesHosts) {
    EXPECT_EQ(classify_referrer_host("www.google.co.uk", "shop.example"), ReferrerClass::kSearch);
    EXPECT_EQ(classify_referrer_host("duckduckgo.com", "shop.example"), ReferrerClass::kSearch);
    EXPECT_EQ(classify_referrer_host("mail.google.com", "shop.example"), ReferrerClass::kEmail);
    EXPECT_EQ(classify_referrer_host("ctrk.klclick.com", "shop.example"), ReferrerClass::kEmail);
    EXPECT_EQ(classify_referrer_host("l.instagram.com", "shop.example"), ReferrerClass::kSocial);
    EXPECT_EQ(classify_referrer_host("t.co", "shop.example"), ReferrerClass::kSocial);
    EXPECT_EQ(classify_referrer_host("not-t.co", "shop.example"), ReferrerClass::kOther);
    EXPECT_EQ(classify_referrer_host("shop.example", "Shop.Example"), ReferrerClass::kInternal);
    EXPECT_EQ(classify_referrer_host("googleblog.example", "shop.example"), ReferrerClass::kOther);
    EXPECT_EQ(classify_referrer_host("", "shop.example"), ReferrerClass::kDirect);
}

TEST(Referrer, KeepsOnlyTheHostOfTheReferer) {
    const auto a = attribution_from_request(
        "", "https://user:pw@WWW.Bing.com:443/search?q=my+email+a%40b.c#x", "shop.example");
    EXPECT_EQ(a.referrer_class(), ReferrerClass::kSearch);
    EXPECT_EQ(a.referrer_host(), "www.bing.com");
}

TEST(Referrer, NonHttpRefererIsOtherWithoutHost) {
    const auto a = attribution_from_request("", "android-app://com.google.app/", "x");
    EXPECT_EQ(a.referrer_class(), ReferrerClass::kOther);
    EXPECT_EQ(a.referrer_host(), "");
}

TEST(Referrer, OverlongHostKeepsClassButNoHost) {
    const std::string host(150, 'a');
    const auto a = attribution_from_request("", "https://" + host + ".com/", "x");
    EXPECT_EQ(a.referrer_class(), ReferrerClass::kOther);
    EXPECT_EQ(a.referrer_host(), "");
}

TEST(Referrer, PersonalUtmValuesAreNotStored) {
    const auto a = attribution_from_request(
        "utm_source=ann%40example.com&utm_medium=email&utm_campaign=%2B49+30+1234567", "", "x");
    EXPECT_EQ(a.utm_source(), "");
    EXPECT_EQ(a.utm_medium(), "email");
    EXPECT_EQ(a.utm_campaign(), "");
    EXPECT_EQ(make_attribution("ann@example.com", "", "", ReferrerClass::kDirect, "").utm_source(),
              "");
}

TEST(Referrer, WebmailAndTrackerHostsAreCutToTheirListedName) {
    auto a = attribution_from_request(
        "", "https://u8823141.ct.sendgrid.net/ls/click?upn=ann%40example.com", "x");
    EXPECT_EQ(a.referrer_class(), ReferrerClass::kEmail);
    EXPECT_EQ(a.referrer_host(), "sendgrid.net");
    a = attribution_from_request("", "https://mail.google.com/mail/u/0/#inbox/ann@example.com",
                                 "x");
    EXPECT_EQ(a.referrer_host(), "mail.google.com");
    a = attribution_from_request("", "https://d41d8cd98f00b204e9800998ecf8427e.example.org/", "x");
    EXPECT_EQ(a.referrer_class(), ReferrerClass::kOther);
    EXPECT_EQ(a.referrer_host(), "");
}

TEST(Referrer, ClassNamesRoundTrip) {
    for (ReferrerClass c :
         {ReferrerClass::kDirect, ReferrerClass::kInternal, ReferrerClass::kSearch,
          ReferrerClass::kSocial, ReferrerClass::kEmail, ReferrerClass::kOther}) {
        EXPECT_EQ(parse_referrer_class(referrer_class_name(c)), c);
    }
}

TEST(ReferrerEventPath, StripsDefaultsCaseAndEscapeInsensitively) {
    std::string p;
    EXPECT_EQ(append_event_path(&p, "/reset?token=abc&lang=de&EMAIL=a%40b.c&%65mail=x#frag",
                                SensitiveQuery()),
              3u);
    EXPECT_EQ(p, "/reset?lang=de");
}

TEST(ReferrerEventPath, StripsKlaviyoAndMailchimpIdentityTokens) {
    std::string p;
    EXPECT_EQ(append_event_path(&p, "/p/shirt?_kx=abc.def&mc_eid=123&color=blue", SensitiveQuery()),
              2u);
    EXPECT_EQ(p, "/p/shirt?color=blue");
}

TEST(ReferrerEventPath, OperatorNamesAreStrippedToo) {
    SensitiveQuery q;
    ASSERT_TRUE(q.add("Coupon"));
    ASSERT_TRUE(q.allow("coupon").empty());
    EXPECT_FALSE(q.add(""));
    EXPECT_FALSE(q.add(std::string(kMaxQueryNameBytes + 1, 'x')));
    std::string p;
    EXPECT_EQ(append_event_path(&p, "/cart?coupon=SECRET10", q), 1u);
    EXPECT_EQ(p, "/cart");
}

TEST(ReferrerEventPath, KeepsOrderSpellingAndEmptyValues) {
    SensitiveQuery q;
    ASSERT_TRUE(q.allow("q").empty());
    ASSERT_TRUE(q.allow("flag").empty());
    std::string p;
    EXPECT_EQ(append_event_path(&p, "/s?q=red+shoes&&page=2&flag", q), 0u);
    EXPECT_EQ(p, "/s?q=red+shoes&page=2&flag");
}

TEST(ReferrerEventPath, CutsAtAParameterBoundary) {
    std::string uri = "/s?a=" + std::string(600, 'x') + "&b=" + std::string(600, 'y');
    SensitiveQuery q;
    ASSERT_TRUE(q.allow("a").empty() && q.allow("b").empty());
    std::string p;
    (void)append_event_path(&p, uri, q);
    EXPECT_EQ(p, "/s?a=" + std::string(600, 'x'));
    std::string longpath = "/" + std::string(2000, 'p') + "?a=1";
    p.clear();
    (void)append_event_path(&p, longpath, SensitiveQuery());
    EXPECT_EQ(p.size(), kMaxEventPathBytes);
}

}  // namespace
}  // namespace tailor
