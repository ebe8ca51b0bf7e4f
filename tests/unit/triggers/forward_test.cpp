// The forwarding formats: Klaviyo's Events API body and the Segment message, exact text.
#include "tailor/triggers/forward.h"

#include <gtest/gtest.h>

#include <string>

#include "tailor/base/version.h"
#include "tailor/triggers/json_text.h"

namespace tailor {
namespace {

DecodedProperty text(std::string name, std::string value) {
    DecodedProperty p;
    p.name = std::move(name);
    p.text = std::move(value);
    return p;
}

DecodedProperty num(std::string name, double value) {
    DecodedProperty p;
    p.name = std::move(name);
    p.is_number = true;
    p.number = value;
    return p;
}

DecodedProperty integer(std::string name, int64_t value) {
    DecodedProperty p;
    p.name = std::move(name);
    p.is_number = true;
    p.is_integer = true;
    p.integer = value;
    return p;
}

DecodedEvent order() {
    DecodedEvent e;
    e.type = EventType::kOrderCompleted;
    e.name = "Order Completed";
    e.id = "0190076c-fc00-7abc-8def-0123456789ab";
    e.vid = "cust-1";
    e.ts_ms = 1750000000123;
    e.path = "/thanks";
    e.referrer_class = "internal";
    e.device = "mobile";
    e.properties = {text("order_id", "A-1"), num("revenue", 42.5), text("product_id", "SKU-1"),
                    integer("quantity", 2)};
    return e;
}

TEST(JsonText, EscapesAndKeepsShortNumbers) {
    JsonText j;
    j.begin_object().key("s").string("a\"b\\c\n\x01").key("n").number(19.99);
    j.key("i").integer(-3).key("l").begin_array().string("x").boolean(true).end_array();
    j.end_object();
    EXPECT_EQ(j.text(), R"({"s":"a\"b\\c\n\u0001","n":19.99,"i":-3,"l":["x",true]})");
    EXPECT_EQ(iso8601_utc(1750000000123), "2025-06-15T15:06:40.123Z");
    EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
}

TEST(KlaviyoMapping, PlacedOrderRenamesProductIdAndCarriesValueAndUniqueId) {
    EXPECT_EQ(klaviyo_event_json(order()),
              R"({"data":{"type":"event","attributes":{"properties":{"order_id":"A-1",)"
              R"("revenue":42.5,"ProductID":"SKU-1","quantity":2,"path":"/thanks",)"
              R"("device":"mobile"},"time":"2025-06-15T15:06:40.123Z","value":42.5,)"
              R"("unique_id":"0190076c-fc00-7abc-8def-0123456789ab",)"
              R"("metric":{"data":{"type":"metric","attributes":{"name":"Placed Order"}}},)"
              R"("profile":{"data":{"type":"profile","attributes":{"external_id":"cust-1"}}}}}})");
}

TEST(KlaviyoMapping, AnEventWithoutAKlaviyoMetricKeepsItsSegmentName) {
    DecodedEvent e = order();
    e.type = EventType::kCartViewed;
    e.name = "Cart Viewed";
    e.properties.clear();
    std::string j = klaviyo_event_json(e);
    EXPECT_NE(j.find(R"("attributes":{"name":"Cart Viewed"})"), std::string::npos) << j;
    EXPECT_EQ(j.find(R"("value")"), std::string::npos) << "value is Placed Order's only";
}

TEST(KlaviyoMapping, IdentifyLinksBothIdsOnTheProfile) {
    DecodedEvent e = order();
    e.type = EventType::kIdentify;
    e.name = "Identify";
    e.previous_vid = "anon-1";
    EXPECT_EQ(klaviyo_event_json(e),
              R"({"data":{"type":"profile","attributes":{"external_id":"cust-1",)"
              R"("anonymous_id":"anon-1"}}})");
}

TEST(SegmentMapping, AnOrderNestsItsProductFieldsInProducts) {
    EXPECT_EQ(segment_event_json(order()),
              R"({"type":"track","event":"Order Completed","anonymousId":"cust-1",)"
              R"("messageId":"0190076c-fc00-7abc-8def-0123456789ab",)"
              R"("timestamp":"2025-06-15T15:06:40.123Z","properties":{"order_id":"A-1",)"
              R"("revenue":42.5,"products":[{"product_id":"SKU-1","quantity":2}]},)"
              R"("context":{"library":{"name":"tailor","version":")" +
                  std::string(version()) +
                  R"("},"page":{"path":"/thanks"},"referrer":{"type":"internal"},)"
                  R"("device":{"type":"mobile"}}})");
}

TEST(SegmentMapping, AProductViewStaysFlatWithSegmentsProductId) {
    DecodedEvent e = order();
    e.type = EventType::kProductViewed;
    e.name = "Product Viewed";
    e.properties = {text("ProductID", "SKU-2"), num("price", 19.99)};
    e.utm_source = "news";
    e.utm_campaign = "june";
    e.exposures = {{"hero", "exp1", "b"}};
    std::string j = segment_event_json(e);
    EXPECT_NE(j.find(R"("properties":{"product_id":"SKU-2","price":19.99})"), std::string::npos)
        << j;
    EXPECT_NE(j.find(R"("campaign":{"source":"news","name":"june"})"), std::string::npos) << j;
    EXPECT_NE(j.find(R"("tailor":{"experiments":[{"rule":"hero","experiment":"exp1",)"
                     R"("variant":"b"}]})"),
              std::string::npos)
        << j;
}

TEST(SegmentMapping, PagesAndIdentifiesUseTheirOwnTypes) {
    DecodedEvent e = order();
    e.type = EventType::kPageViewed;
    e.name = "Page Viewed";
    e.properties.clear();
    std::string j = segment_event_json(e);
    EXPECT_EQ(j.rfind(R"({"type":"page","anonymousId":"cust-1")", 0), 0u) << j;
    EXPECT_NE(j.find(R"("properties":{"path":"/thanks"})"), std::string::npos) << j;
    e.type = EventType::kIdentify;
    e.previous_vid = "anon-1";
    j = segment_event_json(e);
    EXPECT_EQ(j.rfind(R"({"type":"identify","userId":"cust-1","anonymousId":"anon-1")", 0), 0u)
        << j;
    EXPECT_NE(j.find(R"("traits":{})"), std::string::npos) << j;
}

}  // namespace
}  // namespace tailor
