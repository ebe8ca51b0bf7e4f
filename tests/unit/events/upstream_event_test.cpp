// UpstreamEvent: what a backend's event header may say, what is refused and why, and the blob
// it becomes (products[] included) as the decoder and the Segment format read it back.
#include "tailor/events/upstream_event.h"

#include <gtest/gtest.h>

#include <string>

#include "tailor/events/decode.h"
#include "tailor/events/plan.h"
#include "tailor/triggers/apply.h"
#include "tailor/triggers/forward.h"

namespace tailor {
namespace {

constexpr const char* kOrder =
    R"({"event":"Order Completed","properties":{"order_id":"A-1","revenue":42.5,)"
    R"("currency":"EUR","products":[{"product_id":"MUG-1","name":"Blue Mug","price":21.25,)"
    R"("quantity":2},{"product_id":"BEANS-2","quantity":1}]}})";

UpstreamEventError parse(std::string_view header, UpstreamEvent* e,
                         size_t max = kDefaultUpstreamEventBytes) {
    return parse_upstream_event(header, max, e);
}

TEST(UpstreamEvent, OrderWithProductsIsAccepted) {
    UpstreamEvent e;
    ASSERT_EQ(parse(kOrder, &e), UpstreamEventError::kOk);
    EXPECT_EQ(e.type, EventType::kOrderCompleted);
    EXPECT_EQ(e.name, "Order Completed");
    ASSERT_EQ(e.properties.size(), 3u);
    EXPECT_EQ(e.properties[0].name, "order_id");
    EXPECT_EQ(e.properties[0].kind, PropertyKind::kString);
    EXPECT_EQ(e.properties[1].name, "revenue");
    EXPECT_EQ(e.properties[1].value, "42.5");
    EXPECT_EQ(e.properties[1].kind, PropertyKind::kNumber);
    ASSERT_EQ(e.products.size(), 2u);
    ASSERT_EQ(e.products[0].property_count, 4u);
    EXPECT_EQ(e.products[0].properties[1].name, "name");
    EXPECT_EQ(e.products[0].properties[1].value, "Blue Mug");
    ASSERT_EQ(e.products[1].property_count, 2u);
    EXPECT_EQ(e.products[1].properties[0].value, "BEANS-2");
}

TEST(UpstreamEvent, EncodedOrderDecodesWithItsLinesAndFormatsAsSegment) {
    UpstreamEvent u;
    ASSERT_EQ(parse(kOrder, &u), UpstreamEventError::kOk);
    Event e(*EventId::generate(1718000000123));
    e.type = u.type;
    e.vid = "q3Zf0x8W2mYbT1kL9cVn_A";
    e.ts_ms = 1718000000123;
    e.path = "/checkout/done";
    e.properties = u.properties.data();
    e.property_count = u.properties.size();
    e.products = u.products.data();
    e.product_count = u.products.size();
    std::string blob;
    const EncodeResult r = encode_event(e, &blob);
    ASSERT_EQ(r.status, EncodeStatus::kOk);
    EXPECT_EQ(r.dropped_properties, 0u);

    const auto d = decode_event(blob);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->properties.size(), 3u);
    ASSERT_EQ(d->products.size(), 2u);
    ASSERT_EQ(d->products[0].size(), 4u);
    EXPECT_EQ(d->products[0][0].text, "MUG-1");
    EXPECT_EQ(d->products[0][2].number, 21.25);
    EXPECT_EQ(d->products[0][3].integer, 2);
    EXPECT_EQ(d->products[1][0].text, "BEANS-2");
    EXPECT_EQ(event_routing(blob)->type, "Order Completed");

    const std::string segment = segment_event_json(*d);
    EXPECT_NE(segment.find(R"("products":[{"product_id":"MUG-1","name":"Blue Mug","price":21.25,)"
                           R"("quantity":2},{"product_id":"BEANS-2","quantity":1}])"),
              std::string::npos)
        << segment;
    const std::string klaviyo = klaviyo_event_json(*d);
    EXPECT_NE(klaviyo.find(R"("Items":[{"ProductID":"MUG-1")"), std::string::npos) << klaviyo;
    EXPECT_NE(klaviyo.find(R"("value":42.5)"), std::string::npos) << klaviyo;
}

TEST(UpstreamEvent, CustomNamesAndTrackTypeAreAcceptedIdentifyIsNot) {
    UpstreamEvent e;
    EXPECT_EQ(parse(R"({"type":"track","event":"Subscription Renewed"})", &e),
              UpstreamEventError::kOk);
    EXPECT_EQ(e.type, EventType::kCustom);
    EXPECT_EQ(e.name, "Subscription Renewed");
    EXPECT_TRUE(e.properties.empty());
    EXPECT_EQ(parse(R"({"event":"Identify"})", &e), UpstreamEventError::kBadName);
    EXPECT_EQ(parse(R"({"event":"9 lives"})", &e), UpstreamEventError::kBadName);
    EXPECT_EQ(parse(R"({"event":"bad\nname"})", &e), UpstreamEventError::kBadName);
}

TEST(UpstreamEvent, RefusesOtherShapes) {
    UpstreamEvent e;
    EXPECT_EQ(parse(R"(["Order Completed"])", &e), UpstreamEventError::kNotAnEvent);
    EXPECT_EQ(parse(R"({"properties":{}})", &e), UpstreamEventError::kNotAnEvent);
    EXPECT_EQ(parse(R"({"event":1})", &e), UpstreamEventError::kNotAnEvent);
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":[]})", &e),
              UpstreamEventError::kNotAnEvent);
    // the visitor is the module's to name
    EXPECT_EQ(parse(R"({"event":"Order Completed","userId":"cust-1"})", &e),
              UpstreamEventError::kNotAnEvent);
    EXPECT_EQ(parse(R"({"event":"Order Completed","anonymousId":"x"})", &e),
              UpstreamEventError::kNotAnEvent);
    EXPECT_EQ(parse(R"({"type":"identify","event":"Order Completed"})", &e),
              UpstreamEventError::kNotAnEvent);
}

TEST(UpstreamEvent, MalformedJsonIsRefused) {
    UpstreamEvent e;
    EXPECT_EQ(parse("", &e), UpstreamEventError::kMalformed);
    EXPECT_EQ(parse("{\"event\":\"Order Completed\"", &e), UpstreamEventError::kMalformed);
    EXPECT_EQ(parse(R"({"event":"A","event":"Order Completed"})", &e),
              UpstreamEventError::kMalformed);  // duplicate key
    EXPECT_EQ(parse(R"({"event":"A","properties":{"x":{"y":{"z":{}}}}})", &e),
              UpstreamEventError::kMalformed);  // too deep
}

TEST(UpstreamEvent, SizeAtTheBoundAndOnePast) {
    const std::string head = R"({"event":"Order Completed","properties":{"order_id":")";
    const std::string tail = "\"}}";
    std::string at = head + std::string(100 - head.size() - tail.size(), 'a') + tail;
    ASSERT_EQ(at.size(), 100u);
    UpstreamEvent e;
    EXPECT_EQ(parse(at, &e, 100), UpstreamEventError::kOk);
    EXPECT_EQ(parse(at, &e, 99), UpstreamEventError::kTooLarge);
    // the configured bound never goes past the hard one
    EXPECT_EQ(parse(std::string(kMaxUpstreamEventBytes + 1, ' '), &e, 1 << 30),
              UpstreamEventError::kTooLarge);
}

TEST(UpstreamEvent, PersonalNamesAndValuesAreRefused) {
    UpstreamEvent e;
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"email":"x"}})", &e),
              UpstreamEventError::kPersonalData);
    EXPECT_EQ(e.detail, "email");
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"customerEmail":"x"}})", &e),
              UpstreamEventError::kPersonalData);
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"coupon":"ann@example.com"}})", &e),
              UpstreamEventError::kPersonalData);
    EXPECT_EQ(e.detail, "coupon");
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"note":"4111111111111111"}})", &e),
              UpstreamEventError::kPersonalData);
    // Segment's product name is a product's, inside products[] only
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"name":"Ann Smith"}})", &e),
              UpstreamEventError::kPersonalData);
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"products":[{"name":"Mug",)"
                    R"("phone":"1"}]}})",
                    &e),
              UpstreamEventError::kPersonalData);
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"products":[)"
                    R"({"name":"ann@example.com"}]}})",
                    &e),
              UpstreamEventError::kPersonalData);
    EXPECT_TRUE(e.properties.empty());
    EXPECT_TRUE(e.products.empty());
    // names a query string may not carry either, in any case style
    for (const char* name :
         {"customer_id", "customerId", "user_id", "UserID", "session_id", "account", "login"}) {
        const std::string h =
            std::string(R"({"event":"Order Completed","properties":{")") + name + R"(":"x"}})";
        EXPECT_EQ(parse(h, &e), UpstreamEventError::kPersonalData) << name;
    }
}

TEST(UpstreamEvent, SegmentsEcommercePropertyNamesAllPass) {
    std::string h = R"({"event":"Order Completed","properties":{)";
    for (const char* name :
         {"order_id", "checkout_id", "affiliation", "total", "subtotal", "revenue", "shipping",
          "tax", "discount", "coupon", "currency", "cart_id", "payment_method", "step"}) {
        h += std::string("\"") + name + "\":\"1\",";
    }
    h += R"("products":[{"product_id":"1","sku":"1","category":"1","name":"1","brand":"1",)"
         R"("variant":"1","price":1,"quantity":1,"coupon":"1","position":1,"url":"1",)"
         R"("image_url":"1"}]}})";
    UpstreamEvent e;
    EXPECT_EQ(parse(h, &e), UpstreamEventError::kOk) << e.detail;
    EXPECT_EQ(e.products[0].property_count, 12u);
}

TEST(UpstreamEvent, ValuesMustBeStringsOrPlainNumbers) {
    UpstreamEvent e;
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"coupon":null}})", &e),
              UpstreamEventError::kOk);
    EXPECT_TRUE(e.properties.empty());  // null is absent
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"revenue":"12.50"}})", &e),
              UpstreamEventError::kOk);
    EXPECT_EQ(e.properties[0].kind, PropertyKind::kNumber);
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"order_id":"00123"}})", &e),
              UpstreamEventError::kOk);
    EXPECT_EQ(e.properties[0].kind, PropertyKind::kString);
    EXPECT_EQ(parse(R"({"event":"Order Completed","properties":{"order_id":123}})", &e),
              UpstreamEventError::kOk);
    EXPECT_EQ(e.properties[0].kind, PropertyKind::kNumber);
    for (const char* bad :
         {R"({"revenue":"12,50"})", R"({"revenue":1e3})", R"({"test":true})", R"({"x":{"a":1}})",
          R"({"x":[1]})", R"({"9x":"a"})", R"({"products":{}})", R"({"products":[1]})"}) {
        const std::string h =
            std::string(R"({"event":"Order Completed","properties":)") + bad + "}";
        EXPECT_EQ(parse(h, &e), UpstreamEventError::kBadProperty) << bad;
    }
}

TEST(UpstreamEvent, CountsAtTheLimitAndOnePast) {
    auto props = [](size_t n) {
        std::string s = R"({"event":"Order Completed","properties":{)";
        for (size_t i = 0; i < n; ++i) {
            s += (i ? "," : "") + std::string("\"p") + std::to_string(i) + "\":1";
        }
        return s + "}}";
    };
    auto lines = [](size_t n, size_t per_line) {
        std::string s = R"({"event":"Order Completed","properties":{"products":[)";
        for (size_t i = 0; i < n; ++i) {
            s += i ? ",{" : "{";
            for (size_t j = 0; j < per_line; ++j) {
                s += (j ? "," : "") + std::string("\"p") + std::to_string(j) + "\":1";
            }
            s += "}";
        }
        return s + "]}}";
    };
    UpstreamEvent e;
    EXPECT_EQ(parse(props(kMaxEventProperties), &e), UpstreamEventError::kOk);
    EXPECT_EQ(parse(props(kMaxEventProperties + 1), &e), UpstreamEventError::kBadProperty);
    EXPECT_EQ(parse(lines(kMaxEventProducts, 1), &e), UpstreamEventError::kOk);
    EXPECT_EQ(e.products.size(), kMaxEventProducts);
    EXPECT_EQ(parse(lines(kMaxEventProducts + 1, 1), &e), UpstreamEventError::kBadProperty);
    EXPECT_EQ(parse(lines(1, kMaxProductProperties), &e), UpstreamEventError::kOk);
    EXPECT_EQ(parse(lines(1, kMaxProductProperties + 1), &e), UpstreamEventError::kBadProperty);
    EXPECT_EQ(upstream_event_error_name(UpstreamEventError::kBadProperty), "bad_property");
}

}  // namespace
}  // namespace tailor

namespace tailor {
namespace {

TEST(UpstreamEventPlan, EmittedOnA2xxOr3xxWithConsentBesideThePageView) {
    PlanRequest q;
    q.vid = "v1";
    q.outcome = Outcome::kHit;
    q.status = 200;
    q.get = true;
    q.page_type = true;
    q.upstream = true;
    EventPlan p = plan_events(q);
    EXPECT_TRUE(p.upstream && p.page_view && p.any());
    q.status = 303;  // POST /checkout answered with a redirect to the receipt
    q.get = false;
    EXPECT_TRUE(plan_events(q).upstream);
    q.status = 500;
    EXPECT_FALSE(plan_events(q).upstream);
    q.status = 200;
    for (Outcome refused : {Outcome::kNone, Outcome::kGpc, Outcome::kNoConsent, Outcome::kBot,
                            Outcome::kNewVisitor}) {
        q.outcome = refused;
        EXPECT_FALSE(plan_events(q).upstream) << static_cast<int>(refused);
    }
    q.outcome = Outcome::kHit;
    q.upstream = false;
    q.page_type = false;
    EXPECT_FALSE(plan_events(q).any());
}

}  // namespace
}  // namespace tailor

namespace tailor {
namespace {

TEST(UpstreamEventTriggers, AnOrdersLinesEndThePriceWatchOfEachProduct) {
    TriggerState s;
    DecodedEvent view;
    view.type = EventType::kProductViewed;
    view.vid = "v";
    view.ts_ms = 1750000000000;
    view.device = "desktop";
    DecodedProperty price;
    price.name = "price";
    price.is_number = true;
    price.number = 20;
    for (const char* sku : {"A", "B", "C"}) {
        DecodedProperty id;
        id.name = "product_id";
        id.text = sku;
        view.properties = {id, price};
        apply_trigger_event(view, &s);
    }
    ASSERT_EQ(s.watches.size(), 3u);

    UpstreamEvent u;
    ASSERT_EQ(parse_upstream_event(R"({"event":"Order Completed","properties":{"products":[)"
                                   R"({"product_id":"A"},{"sku":"B","name":"Bee"}]}})",
                                   4096, &u),
              UpstreamEventError::kOk);
    Event e(*EventId::generate(1750000000001));
    e.type = u.type;
    e.vid = "v";
    e.ts_ms = 1750000000001;
    e.products = u.products.data();
    e.product_count = u.products.size();
    std::string blob;
    ASSERT_EQ(encode_event(e, &blob).status, EncodeStatus::kOk);
    const auto order = decode_event(blob);
    ASSERT_TRUE(order.has_value());
    apply_trigger_event(*order, &s);
    EXPECT_EQ(s.watches.size(), 1u);
    EXPECT_EQ(s.watches.count("C"), 1u);
    EXPECT_EQ(s.order_at, 1750000000001);
}

}  // namespace
}  // namespace tailor
