#include "tailor/request/personal_data.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(PersonalData, EmailInAnySpellingIsAnEmail) {
    for (const char* v : {"ann@example.com", "ann%40example.com", "ann%2540example.com",
                          "ann&#64;example.com", "ann&#x40;example.com", "ann&commat;example.com",
                          "Ann.Lee%2Bshop%40mail.example", "write+to+ann%40example.com+today",
                          "ann\xEF\xBC\xA0"
                          "example.com"}) {
        EXPECT_EQ(personal_shape(v), PersonalShape::kEmail) << v;
    }
}

TEST(PersonalData, AtSignAloneIsNoEmail) {
    EXPECT_EQ(personal_shape("%40shop"), PersonalShape::kNone);
    EXPECT_EQ(personal_shape("a+%40+b"), PersonalShape::kNone);
    EXPECT_FALSE(contains_email("@handle"));
}

TEST(PersonalData, PhoneNumbersInTheirUsualSpellings) {
    for (const char* v : {"%2B49+30+1234567", "%2B4915112345678", "0049-30-1234567",
                          "(030) 123 4567", "555-123-4567", "030123456789", "call+555.123.4567"}) {
        EXPECT_EQ(personal_shape(v), PersonalShape::kPhone) << "[" << v << "]";
    }
}

TEST(PersonalData, DatesPricesAndIdsAreNoPhone) {
    for (const char* v : {"2024-05-01", "01.05.2024", "1299.00", "123456789", "SKU1234567",
                          "page 2", "42", "1000-2000", "00123"}) {
        EXPECT_EQ(personal_shape(v), PersonalShape::kNone) << v;
    }
}

TEST(PersonalData, CardNumbersPassingLuhnAreCards) {
    EXPECT_EQ(personal_shape("4111111111111111"), PersonalShape::kCard);
    EXPECT_EQ(personal_shape("4111-1111-1111-1111"), PersonalShape::kCard);
    EXPECT_EQ(personal_shape("4006381333931"), PersonalShape::kNone);  // an EAN-13
}

TEST(PersonalData, RandomRunsAreTokens) {
    for (const char* v :
         {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig", "3f2c9a1e-4b7d-4e8a-9c6f-1a2b3c4d5e6f",
          "d41d8cd98f00b204e9800998ecf8427e", "a8F3kL9zQ2xV7mN1", "01HF8ZK3Q4Y6W2N9T5R7M0PXJB"}) {
        EXPECT_EQ(personal_shape(v), PersonalShape::kToken) << v;
    }
}

TEST(PersonalData, SlugsWordsAndShortCodesAreNoTokens) {
    for (const char* v :
         {"mens-linen-shirt-2024-summer-collection", "red+shoes", "SKU12345ABCDEF67", "newsletter",
          "spring_sale_2024", "Donaudampfschifffahrtsgesellschaft", "price-asc", "ABC-123"}) {
        EXPECT_EQ(personal_shape(v), PersonalShape::kNone) << v;
    }
}

TEST(PersonalData, OverlongValuesAreUnreadable) {
    EXPECT_EQ(personal_shape(std::string(kMaxCheckedValueBytes + 1, 'a')),
              PersonalShape::kUnreadable);
    EXPECT_EQ(personal_shape(std::string(kMaxCheckedValueBytes, 'a')), PersonalShape::kNone);
}

TEST(PersonalData, PropertyValuesLoseOnlyAddressesAndCards) {
    EXPECT_TRUE(is_personal_property_value("ann%40example.com"));
    EXPECT_TRUE(is_personal_property_value("4111 1111 1111 1111"));
    EXPECT_FALSE(is_personal_property_value("3f2c9a1e-4b7d-4e8a-9c6f-1a2b3c4d5e6f"));
    EXPECT_FALSE(is_personal_property_value("0001234567"));
}

TEST(PersonalData, ShapeNames) {
    EXPECT_EQ(personal_shape_name(PersonalShape::kEmail), "email");
    EXPECT_EQ(personal_shape_name(PersonalShape::kNone), "");
}

TEST(PersonalData, PersonalQueryNames) {
    for (const char* n :
         {"email", "user[email]", "email[]", "email ", "amp;email", "reset_token", "otp",
          "customer_id", "phone_number", "_kx", "mc_eid", "password2", "tel_no", "first-name"}) {
        EXPECT_TRUE(is_personal_query_name(n)) << n;
    }
    for (const char* n : {"page", "sku", "hotel", "utm_source", "category", "sort", "q", "e"}) {
        EXPECT_FALSE(is_personal_query_name(n)) << n;
    }
}

TEST(PersonalData, PersonalVariables) {
    EXPECT_EQ(personal_variable("$remote_addr"), "remote_addr");
    EXPECT_EQ(personal_variable("ip=${binary_remote_addr}!"), "binary_remote_addr");
    EXPECT_EQ(personal_variable("$http_user_agent"), "http_user_agent");
    EXPECT_EQ(personal_variable("$HTTP_COOKIE"), "HTTP_COOKIE");
    EXPECT_EQ(personal_variable("$http_authorization"), "http_authorization");
    EXPECT_EQ(personal_variable("$cookie_session"), "cookie_session");
    EXPECT_EQ(personal_variable("$arg_email"), "arg_email");
    EXPECT_EQ(personal_variable("$http_x_forwarded_for"), "http_x_forwarded_for");
    EXPECT_EQ(personal_variable("$request_uri"), "request_uri");
    EXPECT_EQ(personal_variable("$arg_sku-$arg_customer_id"), "arg_customer_id");
    EXPECT_EQ(personal_variable("$arg_sku"), "");
    EXPECT_EQ(personal_variable("$uri $arg_price ${arg_cat}"), "");
    EXPECT_EQ(personal_variable("literal"), "");
    EXPECT_EQ(personal_variable("$"), "");
}

}  // namespace
}  // namespace tailor
