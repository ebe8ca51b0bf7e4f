// EventSchema: Segment names and Klaviyo metrics, custom names, property kinds and names.
#include "tailor/events/schema.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(EventSchema, SegmentNamesAndKlaviyoMetrics) {
    EXPECT_EQ(event_type_name(EventType::kProductViewed), "Product Viewed");
    EXPECT_EQ(klaviyo_metric_name(EventType::kProductViewed), "Viewed Product");
    EXPECT_EQ(klaviyo_metric_name(EventType::kProductAdded), "Added to Cart");
    EXPECT_EQ(klaviyo_metric_name(EventType::kCheckoutStarted), "Started Checkout");
    EXPECT_EQ(klaviyo_metric_name(EventType::kOrderCompleted), "Placed Order");
    EXPECT_EQ(klaviyo_metric_name(EventType::kPageViewed), "Active on Site");
    EXPECT_EQ(klaviyo_metric_name(EventType::kCartViewed), "");
    EXPECT_EQ(event_type_name(EventType::kCustom), "");
}

TEST(EventSchema, ParsesKnownAndCustomNames) {
    EXPECT_EQ(parse_event_type("Order Completed"), EventType::kOrderCompleted);
    EXPECT_EQ(parse_event_type("Products Searched"), EventType::kProductsSearched);
    EXPECT_EQ(parse_event_type("Wishlist Added"), EventType::kCustom);
    EXPECT_EQ(parse_event_type("product viewed"), EventType::kCustom);
    EXPECT_EQ(parse_event_type(""), std::nullopt);
    EXPECT_EQ(parse_event_type("bad\nname"), std::nullopt);
    EXPECT_EQ(parse_event_type("9 lives"), std::nullopt);
    EXPECT_EQ(parse_event_type(std::string(kMaxEventNameBytes + 1, 'a')), std::nullopt);
}

TEST(EventSchema, PropertyNamesThatNamePersonalDataAreRefused) {
    EXPECT_EQ(check_property_name("product_id"), PropertyNameError::kOk);
    EXPECT_EQ(check_property_name("ProductID"), PropertyNameError::kOk);
    EXPECT_EQ(check_property_name("product_name"), PropertyNameError::kOk);
    EXPECT_EQ(check_property_name("price"), PropertyNameError::kOk);
    for (const char* pii :
         {"email", "Email", "e_mail", "customerEmail", "phone", "billing_phone", "name",
          "first_name", "LastName", "full_name", "user_name", "shipping_address", "ip",
          "ip_address", "user_agent", "password", "birth_date", "zip", "credit_card"}) {
        EXPECT_EQ(check_property_name(pii), PropertyNameError::kPersonalData) << pii;
    }
    EXPECT_EQ(check_property_name(""), PropertyNameError::kEmpty);
    EXPECT_EQ(check_property_name(std::string(41, 'a')), PropertyNameError::kTooLong);
    EXPECT_EQ(check_property_name("9lives"), PropertyNameError::kBadCharacter);
    EXPECT_EQ(check_property_name("a-b"), PropertyNameError::kBadCharacter);
    EXPECT_EQ(property_name_error_reason(PropertyNameError::kPersonalData),
              "names personal data, which events never carry");
}

TEST(EventSchema, DefaultKindsFollowSegmentNumericProperties) {
    EXPECT_EQ(default_property_kind("price"), PropertyKind::kNumber);
    EXPECT_EQ(default_property_kind("quantity"), PropertyKind::kNumber);
    EXPECT_EQ(default_property_kind("revenue"), PropertyKind::kNumber);
    EXPECT_EQ(default_property_kind("product_id"), PropertyKind::kString);
    EXPECT_EQ(default_property_kind("sku"), PropertyKind::kString);
}

}  // namespace
}  // namespace tailor
