#include "tailor/events/path.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

std::string event_path(std::string_view uri, const SensitiveQuery& q = SensitiveQuery(),
                       size_t* removed = nullptr) {
    std::string p;
    const size_t n = append_event_path(&p, uri, q);
    if (removed != nullptr) {
        *removed = n;
    }
    return p;
}

TEST(EventPath, KeepsOnlyAllowedShopParameters) {
    size_t removed = 0;
    EXPECT_EQ(event_path("/p/shirt?product=12&variant=3&color=blue&coupon=X&price=9&page=2",
                         SensitiveQuery(), &removed),
              "/p/shirt?product=12&variant=3&color=blue&page=2");
    EXPECT_EQ(removed, 0u) << "a merely unlisted name is not counted as sensitive";
}

TEST(EventPath, IssueExamplesLeaveNothing) {
    const std::string uri =
        "/search?user%5Bemail%5D=ann%40example.com&email%5B%5D=ann%40example.com"
        "&Email+=ann%40example.com&amp;email=ann%40example.com&reset_token=9f8e7d6c5b4a"
        "&otp=123456&customer_id=C-991&phone_number=%2B4930123456"
        "&utm_term=ann%40example.com&q=ann%40example.com&utm_source=ann%40example.com"
        "&utm_medium=email&page=2";
    size_t removed = 0;
    EXPECT_EQ(event_path(uri, SensitiveQuery(), &removed), "/search?utm_medium=email&page=2");
    EXPECT_EQ(removed, 10u);  // q is not allowed by default: dropped, not counted
}

TEST(EventPath, HtmlEscapedAndEncodedNamesAreTheirName) {
    EXPECT_EQ(event_path("/c?amp;page=2&%70age=3&Page=4&amp%3Bsort=new"),
              "/c?amp;page=2&%70age=3&Page=4&amp%3Bsort=new");
    EXPECT_EQ(event_path("/c?category[]=a&category%5B%5D=b&user[page]=1"),
              "/c?category[]=a&category%5B%5D=b");
}

TEST(EventPath, AllowedValuesAreCheckedToo) {
    size_t removed = 0;
    EXPECT_EQ(event_path("/c?utm_campaign=spring&utm_content=%2B49+30+1234567"
                         "&product=eyJhbGciOiJIUzI1NiJ9xyz&page=4111111111111111",
                         SensitiveQuery(), &removed),
              "/c?utm_campaign=spring");
    EXPECT_EQ(removed, 3u);
}

TEST(EventPath, OperatorAllowsAndStrips) {
    SensitiveQuery q;
    EXPECT_TRUE(q.allow("q").empty());
    EXPECT_TRUE(q.allow("filter_*").empty());
    EXPECT_EQ(q.allow("email"), "names personal data");
    EXPECT_EQ(q.allow("customer_id"), "names personal data");
    EXPECT_FALSE(q.allow("").empty());
    EXPECT_FALSE(q.allow("a b").empty());
    EXPECT_FALSE(q.allow("*").empty());
    ASSERT_TRUE(q.add("utm_term"));
    EXPECT_EQ(event_path("/s?q=red+shoes&filter_size=42&utm_term=shoes&x=1", q),
              "/s?q=red+shoes&filter_size=42");
    EXPECT_EQ(event_path("/s?q=ann%40example.com", q), "/s");
}

TEST(EventPath, BeaconParametersAreNotCounted) {
    size_t removed = 1;
    EXPECT_EQ(event_path("/_tailor/beacon?e=shown&p=cart-reminder", SensitiveQuery(), &removed),
              "/_tailor/beacon");
    EXPECT_EQ(removed, 0u);
}

TEST(EventPath, PersonalPathSegmentsAreRedacted) {
    size_t removed = 0;
    EXPECT_EQ(event_path("/account/reset/d41d8cd98f00b204e9800998ecf8427e/confirm?page=1",
                         SensitiveQuery(), &removed),
              "/account/reset/redacted/confirm?page=1");
    EXPECT_EQ(removed, 1u);
    EXPECT_EQ(event_path("/unsubscribe/ann%40example.com"), "/unsubscribe/redacted");
    EXPECT_EQ(event_path("/products/mens-linen-shirt/"), "/products/mens-linen-shirt/");
    EXPECT_EQ(event_path("/"), "/");
    EXPECT_EQ(event_path("//a"), "//a");
}

TEST(EventPath, NeverLongerThanTheCap) {
    std::string uri;
    for (int i = 0; i < 300; ++i) {
        uri += "/d41d8cd98f00b204e98";
        uri += std::to_string(i);
    }
    EXPECT_LE(event_path(uri).size(), kMaxEventPathBytes);
}

// Each name's verdict is remembered per worker: never across policies, nor across a change.
TEST(EventPath, RememberedVerdictsFollowThePolicyThatMadeThem) {
    SensitiveQuery keeps;
    ASSERT_TRUE(keeps.allow("coupon").empty());
    const SensitiveQuery plain;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(event_path("/c?coupon=SPRING", keeps), "/c?coupon=SPRING");
        EXPECT_EQ(event_path("/c?coupon=SPRING", plain), "/c");
    }
    ASSERT_TRUE(keeps.add("coupon"));  // strip wins over allow, from now on
    size_t removed = 0;
    EXPECT_EQ(event_path("/c?coupon=SPRING", keeps, &removed), "/c");
    EXPECT_EQ(removed, 1u);

    SensitiveQuery copy = keeps;
    EXPECT_NE(copy.serial(), keeps.serial());
    EXPECT_EQ(event_path("/c?coupon=SPRING", copy), "/c");
    SensitiveQuery moved = std::move(copy);
    EXPECT_NE(moved.serial(), copy.serial());
    EXPECT_EQ(event_path("/c?coupon=SPRING", moved), "/c");
}

// Names that fill the remembered verdicts many times over keep their own.
TEST(EventPath, ManyNamesKeepTheirVerdicts) {
    const SensitiveQuery q;
    for (int round = 0; round < 2; ++round) {
        for (int i = 0; i < 500; ++i) {
            const std::string n = std::to_string(i);
            size_t removed = 0;
            EXPECT_EQ(event_path("/p?x" + n + "=1&utm_" + n + "=a&token" + n + "=b", q, &removed),
                      "/p?utm_" + n + "=a");
            EXPECT_EQ(removed, 1u) << n;
        }
    }
}

}  // namespace
}  // namespace tailor
