// RequestFactsBuilder tests: UTM over Referer, device class, logged-in, whitelisted cookies.
#include "tailor/request/facts_builder.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace tailor {
namespace {

constexpr std::string_view kIphone =
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

TEST(RequestFactsBuilder, CopiesThePlainFacts) {
    RequestView v;
    v.visitor_id = "q3Zf0x8W2mYbT1kL9cVn_A";
    v.now = 1700000000;
    v.path = "/p/1";
    v.query = "a=1";
    v.popup_runtime_path = "/rt.js";
    v.popup_beacon_path = "/b";
    v.consent_personalization = true;
    RequestFactsBuilder b(v);
    const RequestFacts& f = b.facts();
    EXPECT_EQ(f.visitor_id, "q3Zf0x8W2mYbT1kL9cVn_A");
    EXPECT_EQ(f.now, 1700000000);
    EXPECT_EQ(f.path, "/p/1");
    EXPECT_EQ(f.query, "a=1");
    EXPECT_EQ(f.popup_runtime_path, "/rt.js");
    EXPECT_EQ(f.popup_beacon_path, "/b");
    EXPECT_TRUE(f.consent_personalization);
    EXPECT_FALSE(f.logged_in);
    EXPECT_EQ(f.cookie_count, 0u);
    EXPECT_EQ(f.referrer_source, "direct");
    EXPECT_EQ(f.device_class, "unknown");
}

TEST(RequestFactsBuilder, UtmSourceWinsOverTheReferrer) {
    RequestView v;
    v.query = "utm_source=news%20letter&utm_medium=email";
    v.referer = "https://www.google.com/search?q=x";
    v.host = "shop.example";
    RequestFactsBuilder b(v);
    EXPECT_EQ(b.facts().referrer_source, "news letter");
}

TEST(RequestFactsBuilder, AnyUtmTagKeepsTheSourceEvenWhenItIsEmpty) {
    // a campaign link without utm_source is still a campaign, not "search"
    RequestView v;
    v.query = "utm_campaign=spring";
    v.referer = "https://www.google.com/";
    v.host = "shop.example";
    RequestFactsBuilder b(v);
    EXPECT_EQ(b.facts().referrer_source, "");
}

TEST(RequestFactsBuilder, WithoutUtmTheReferrerClassIsTheSource) {
    RequestView v;
    v.host = "shop.example";
    v.referer = "https://www.google.de/";
    RequestFactsBuilder search(v);
    EXPECT_EQ(search.facts().referrer_source, "search");
    v.referer = "https://shop.example/cart";
    RequestFactsBuilder internal(v);
    EXPECT_EQ(internal.facts().referrer_source, "internal");
}

TEST(RequestFactsBuilder, DeviceClassComesFromTheUserAgent) {
    RequestView v;
    v.user_agent = kIphone;
    RequestFactsBuilder b(v);
    EXPECT_EQ(b.facts().device_class, "mobile");
}

TEST(RequestFactsBuilder, LoggedInFollowsTheConfiguredValue) {
    EXPECT_TRUE(is_logged_in_value("sess-8f2c"));
    EXPECT_TRUE(is_logged_in_value("1"));
    EXPECT_FALSE(is_logged_in_value("0"));
    EXPECT_FALSE(is_logged_in_value(""));
    RequestView v;
    v.logged_in = "abc";
    RequestFactsBuilder yes(v);
    EXPECT_TRUE(yes.facts().logged_in);
    v.logged_in = "0";
    RequestFactsBuilder no(v);
    EXPECT_FALSE(no.facts().logged_in);
}

TEST(RequestFactsBuilder, OnlyWhitelistedCookiesReachTheRules) {
    const std::string_view headers[] = {"ab=x; secret=s3; tailor_vid=a.k1.m", "tier=\"gold\""};
    const std::string_view names[] = {"ab", "tier", "absent"};
    RequestView v;
    v.cookie_headers = headers;
    v.cookie_header_count = 2;
    v.rule_cookie_names = names;
    v.rule_cookie_name_count = 3;
    v.visitor_cookie_name = "tailor_vid";
    RequestFactsBuilder b(v);
    const RequestFacts& f = b.facts();
    ASSERT_EQ(f.cookie_count, 2u);
    EXPECT_EQ(f.cookies[0].name, "ab");
    EXPECT_EQ(f.cookies[0].value, "x");
    EXPECT_EQ(f.cookies[1].name, "tier");
    EXPECT_EQ(f.cookies[1].value, "gold");
}

TEST(RequestFactsBuilder, TheVisitorCookieIsNeverShownEvenWhenListed) {
    const std::string_view headers[] = {"tailor_vid=a.k1.m; ab=y"};
    const std::string_view names[] = {"tailor_vid", "ab", "ab"};
    RequestView v;
    v.cookie_headers = headers;
    v.cookie_header_count = 1;
    v.rule_cookie_names = names;
    v.rule_cookie_name_count = 3;
    v.visitor_cookie_name = "tailor_vid";
    RequestFactsBuilder b(v);
    ASSERT_EQ(b.facts().cookie_count, 1u);  // a name listed twice shows once
    EXPECT_EQ(b.facts().cookies[0].name, "ab");
}

TEST(RequestFactsBuilder, TheFirstHeaderWithTheCookieWins) {
    const std::string_view headers[] = {"x=1", "ab=first", "ab=second"};
    const std::string_view names[] = {"ab"};
    RequestView v;
    v.cookie_headers = headers;
    v.cookie_header_count = 3;
    v.rule_cookie_names = names;
    v.rule_cookie_name_count = 1;
    RequestFactsBuilder b(v);
    ASSERT_EQ(b.facts().cookie_count, 1u);
    EXPECT_EQ(b.facts().cookies[0].value, "first");
}

TEST(RequestFactsBuilder, CookiesAreBoundedInCountAndSize) {
    std::vector<std::string> names_owned;
    for (size_t i = 0; i < kMaxRuleCookies + 4; ++i) {
        names_owned.push_back("c" + std::to_string(i));
    }
    std::string header;
    for (const std::string& n : names_owned) {
        header += n + "=v; ";
    }
    const std::string big(kMaxRuleCookieValueBytes + 1, 'x');
    header += "big=" + big;
    names_owned.insert(names_owned.begin(), "big");
    std::vector<std::string_view> names(names_owned.begin(), names_owned.end());
    const std::string_view headers[] = {header};
    RequestView v;
    v.cookie_headers = headers;
    v.cookie_header_count = 1;
    v.rule_cookie_names = names.data();
    v.rule_cookie_name_count = names.size();
    RequestFactsBuilder b(v);
    ASSERT_EQ(b.facts().cookie_count, kMaxRuleCookies);
    EXPECT_EQ(b.facts().cookies[0].name, "c0");  // "big" was over the cap
}

}  // namespace
}  // namespace tailor
