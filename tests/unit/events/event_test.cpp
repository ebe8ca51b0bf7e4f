// Event: names and Klaviyo mapping, property-name checks, ids, encode/decode round trips, XADD
// argv.
#include "tailor/events/event.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <set>
#include <string>
#include <type_traits>
#include <vector>

namespace tailor {
namespace {

static_assert(std::is_trivially_copyable_v<EventId>);

constexpr int64_t kNow = 1718000000123;

struct Typical {
    EventProperty props[4] = {{"product_id", "SKU-1042"},
                              {"price", "19.99", PropertyKind::kNumber},
                              {"quantity", "2", PropertyKind::kNumber},
                              {"category", "Shirts"}};
    EventExposure exposures[2] = {{"hero-returning", "hero_copy", "b"},
                                  {"reorder", "reorder_nudge", "holdout"}};
    Attribution attribution =
        attribution_from_request("utm_source=newsletter&utm_medium=email&utm_campaign=spring",
                                 "https://mail.google.com/", "shop.example");
    Event event{*EventId::generate(kNow)};

    Typical() {
        event.type = EventType::kProductViewed;
        event.vid = "q3Zf0x8W2mYbT1kL9cVn_A";
        event.ts_ms = kNow;
        event.path = "/products/linen-shirt?color=blue";
        event.attribution = &attribution;
        event.device = DeviceClass::kMobile;
        event.exposures = exposures;
        event.exposure_count = 2;
        event.properties = props;
        event.property_count = 4;
        event.producer = "w0-abcdef";
        event.seq = 42;
    }
};

TEST(Event, SegmentNamesAndKlaviyoMetrics) {
    EXPECT_EQ(event_type_name(EventType::kProductViewed), "Product Viewed");
    EXPECT_EQ(klaviyo_metric_name(EventType::kProductViewed), "Viewed Product");
    EXPECT_EQ(klaviyo_metric_name(EventType::kProductAdded), "Added to Cart");
    EXPECT_EQ(klaviyo_metric_name(EventType::kCheckoutStarted), "Started Checkout");
    EXPECT_EQ(klaviyo_metric_name(EventType::kOrderCompleted), "Placed Order");
    EXPECT_EQ(klaviyo_metric_name(EventType::kPageViewed), "Active on Site");
    EXPECT_EQ(klaviyo_metric_name(EventType::kCartViewed), "");
    EXPECT_EQ(event_type_name(EventType::kCustom), "");
}

TEST(Event, ParsesKnownAndCustomNames) {
    EXPECT_EQ(parse_event_type("Order Completed"), EventType::kOrderCompleted);
    EXPECT_EQ(parse_event_type("Products Searched"), EventType::kProductsSearched);
    EXPECT_EQ(parse_event_type("Wishlist Added"), EventType::kCustom);
    EXPECT_EQ(parse_event_type("product viewed"), EventType::kCustom);
    EXPECT_EQ(parse_event_type(""), std::nullopt);
    EXPECT_EQ(parse_event_type("bad\nname"), std::nullopt);
    EXPECT_EQ(parse_event_type("9 lives"), std::nullopt);
    EXPECT_EQ(parse_event_type(std::string(kMaxEventNameBytes + 1, 'a')), std::nullopt);
}

TEST(Event, PropertyNamesThatNamePersonalDataAreRefused) {
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

TEST(Event, DefaultKindsFollowSegmentNumericProperties) {
    EXPECT_EQ(default_property_kind("price"), PropertyKind::kNumber);
    EXPECT_EQ(default_property_kind("quantity"), PropertyKind::kNumber);
    EXPECT_EQ(default_property_kind("revenue"), PropertyKind::kNumber);
    EXPECT_EQ(default_property_kind("product_id"), PropertyKind::kString);
    EXPECT_EQ(default_property_kind("sku"), PropertyKind::kString);
}

TEST(Event, IdsAreUuidV7WithTheTimestamp) {
    const auto id = EventId::generate(kNow);
    ASSERT_TRUE(id.has_value());
    const std::string_view t = id->text();
    ASSERT_EQ(t.size(), 36u);
    EXPECT_EQ(t[8], '-');
    EXPECT_EQ(t[14], '7');
    EXPECT_TRUE(t[19] == '8' || t[19] == '9' || t[19] == 'a' || t[19] == 'b');
    EXPECT_EQ(id->unix_ms(), kNow);
    EXPECT_EQ(EventId::parse(t), id);
    EXPECT_EQ(EventId::parse("0190076c-fc00-7abc-8def-0123456789AB"), std::nullopt);
    EXPECT_EQ(EventId::parse("not-an-id"), std::nullopt);
    EXPECT_EQ(EventId::generate(-1), std::nullopt);
}

TEST(Event, IdsAreUnique) {
    std::set<std::string> ids;
    for (int i = 0; i < 10000; ++i) {
        ids.insert(std::string(EventId::generate(kNow)->text()));
    }
    EXPECT_EQ(ids.size(), 10000u);
}

TEST(Event, TypicalEventRoundTrips) {
    Typical t;
    std::string blob;
    const EncodeResult r = encode_event(t.event, &blob);
    ASSERT_EQ(r.status, EncodeStatus::kOk);
    EXPECT_EQ(r.dropped_properties, 0u);
    EXPECT_LT(blob.size(), 512u);
    const auto d = decode_event(blob);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->version, kEventSchemaVersion);
    EXPECT_EQ(d->type, EventType::kProductViewed);
    EXPECT_EQ(d->name, "Product Viewed");
    EXPECT_EQ(d->id, t.event.id.text());
    EXPECT_EQ(d->vid, "q3Zf0x8W2mYbT1kL9cVn_A");
    EXPECT_EQ(d->ts_ms, kNow);
    EXPECT_EQ(d->path, "/products/linen-shirt?color=blue");
    EXPECT_EQ(d->utm_source, "newsletter");
    EXPECT_EQ(d->utm_medium, "email");
    EXPECT_EQ(d->utm_campaign, "spring");
    EXPECT_EQ(d->referrer_class, "email");
    EXPECT_EQ(d->referrer_host, "mail.google.com");
    EXPECT_EQ(d->device, "mobile");
    ASSERT_EQ(d->exposures.size(), 2u);
    EXPECT_EQ(d->exposures[1].variant, "holdout");
    ASSERT_EQ(d->properties.size(), 4u);
    EXPECT_EQ(d->property("product_id")->text, "SKU-1042");
    EXPECT_TRUE(d->property("price")->is_number);
    EXPECT_DOUBLE_EQ(d->property("price")->number, 19.99);
    EXPECT_TRUE(d->property("quantity")->is_integer);
    EXPECT_EQ(d->property("quantity")->integer, 2);
    EXPECT_EQ(d->producer, "w0-abcdef");
    EXPECT_EQ(d->seq, 42u);
    EXPECT_EQ(d->property("nope"), nullptr);
}

TEST(Event, EncodingIsPlainMessagePackThatMsgpackCReads) {
    Typical t;
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    ASSERT_EQ(msgpack_unpack_next(&u, blob.data(), blob.size(), &off), MSGPACK_UNPACK_SUCCESS);
    EXPECT_EQ(off, blob.size());
    ASSERT_EQ(u.data.type, MSGPACK_OBJECT_MAP);
    bool saw_type = false;
    for (uint32_t i = 0; i < u.data.via.map.size; ++i) {
        const msgpack_object_kv& kv = u.data.via.map.ptr[i];
        const std::string key(kv.key.via.str.ptr, kv.key.via.str.size);
        if (key == "type") {
            saw_type = true;
            EXPECT_EQ(std::string(kv.val.via.str.ptr, kv.val.via.str.size), "Product Viewed");
        }
    }
    EXPECT_TRUE(saw_type);
    msgpack_unpacked_destroy(&u);
}

TEST(Event, AppendsToTheBufferWithoutTouchingWhatIsThere) {
    Typical t;
    std::string blob = "prefix";
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    EXPECT_EQ(blob.substr(0, 6), "prefix");
    EXPECT_TRUE(decode_event(std::string_view(blob).substr(6)).has_value());
}

TEST(Event, NonNumericNumberPropertyIsDroppedAndCounted) {
    Typical t;
    t.props[1].value = "19,99";
    t.props[2].value = "1e9";
    std::string blob;
    const EncodeResult r = encode_event(t.event, &blob);
    ASSERT_EQ(r.status, EncodeStatus::kOk);
    EXPECT_EQ(r.dropped_properties, 2u);
    const auto d = decode_event(blob);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->properties.size(), 2u);
    EXPECT_EQ(d->property("price"), nullptr);
}

TEST(Event, NumbersKeepTheirValue) {
    for (const char* v :
         {"0", "-5", "9223372036854775807", "99999999999999999999", "0.5", "-0.25", "1234567.89"}) {
        EventProperty p{"value", v, PropertyKind::kNumber};
        Event e(*EventId::generate(kNow));
        e.vid = "AAAAAAAAAAAAAAAAAAAAAA";
        e.ts_ms = kNow;
        e.properties = &p;
        e.property_count = 1;
        std::string blob;
        ASSERT_EQ(encode_event(e, &blob).dropped_properties, 0u) << v;
        const auto d = decode_event(blob);
        ASSERT_TRUE(d.has_value());
        const DecodedProperty* dp = d->property("value");
        ASSERT_NE(dp, nullptr);
        EXPECT_DOUBLE_EQ(dp->number, std::stod(v)) << v;
    }
}

TEST(Event, StringPropertiesStayStrings) {
    Typical t;
    t.props[0].value = "00123";
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    EXPECT_EQ(decode_event(blob)->property("product_id")->text, "00123");
}

TEST(Event, InvalidUtf8BecomesQuestionMarks) {
    Typical t;
    t.props[3].value = "ok\xff\xc3(\xe2\x82\xac";  // bad, bad lead, then a valid euro sign
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    EXPECT_EQ(decode_event(blob)->property("category")->text,
              "ok?"
              "?(\xe2\x82\xac");
}

TEST(Event, LongValuesAreCutAtACharacterBoundary) {
    Typical t;
    std::string v(kMaxPropertyValueBytes - 1, 'x');
    v += "\xc3\xbc tail";
    t.props[3].value = v;
    std::string blob;
    const EncodeResult r = encode_event(t.event, &blob);
    EXPECT_EQ(r.truncated_values, 1u);
    EXPECT_EQ(decode_event(blob)->property("category")->text,
              std::string(kMaxPropertyValueBytes - 1, 'x'));
}

TEST(Event, CapsPropertiesAndExposures) {
    std::vector<EventProperty> props(kMaxEventProperties + 3, EventProperty{"p", "v"});
    std::vector<EventExposure> exps(kMaxEventExposures + 2, EventExposure{"r", "e", "v"});
    Event e(*EventId::generate(kNow));
    e.vid = "AAAAAAAAAAAAAAAAAAAAAA";
    e.ts_ms = kNow;
    e.properties = props.data();
    e.property_count = props.size();
    e.exposures = exps.data();
    e.exposure_count = exps.size();
    std::string blob;
    EXPECT_EQ(encode_event(e, &blob).dropped_properties, 3u);
    const auto d = decode_event(blob);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->properties.size(), kMaxEventProperties);
    EXPECT_EQ(d->exposures.size(), kMaxEventExposures);
}

TEST(Event, RefusesEventsWithoutVisitorTimeOrValidCustomName) {
    Event e(*EventId::generate(kNow));
    std::string blob;
    e.ts_ms = kNow;
    EXPECT_EQ(encode_event(e, &blob).status, EncodeStatus::kInvalid);
    e.vid = "AAAAAAAAAAAAAAAAAAAAAA";
    e.ts_ms = 0;
    EXPECT_EQ(encode_event(e, &blob).status, EncodeStatus::kInvalid);
    e.ts_ms = kNow;
    e.type = EventType::kCustom;
    EXPECT_EQ(encode_event(e, &blob).status, EncodeStatus::kInvalid);
    EXPECT_TRUE(blob.empty());
    e.name = "Wishlist Added";
    ASSERT_EQ(encode_event(e, &blob).status, EncodeStatus::kOk);
    const auto d = decode_event(blob);
    EXPECT_EQ(d->type, EventType::kCustom);
    EXPECT_EQ(d->name, "Wishlist Added");
}

TEST(Event, IdentifyCarriesThePreviousVisitor) {
    Event e(*EventId::generate(kNow));
    e.type = EventType::kIdentify;
    e.vid = "cust_0000012345678";
    e.previous_vid = "q3Zf0x8W2mYbT1kL9cVn_A";
    e.ts_ms = kNow;
    std::string blob;
    ASSERT_EQ(encode_event(e, &blob).status, EncodeStatus::kOk);
    const auto d = decode_event(blob);
    EXPECT_EQ(d->type, EventType::kIdentify);
    EXPECT_EQ(d->previous_vid, "q3Zf0x8W2mYbT1kL9cVn_A");
    EXPECT_EQ(d->referrer_class, "direct");
    EXPECT_EQ(d->device, "unknown");
}

TEST(Event, DecoderRefusesEveryTruncation) {
    Typical t;
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    for (size_t n = 0; n < blob.size(); ++n) {
        EXPECT_FALSE(decode_event(std::string_view(blob).substr(0, n)).has_value()) << n;
    }
    EXPECT_FALSE(decode_event(blob + "x").has_value());
}

TEST(Event, DecoderRefusesNonEventsAndHugeCounts) {
    EXPECT_FALSE(decode_event("").has_value());
    EXPECT_FALSE(decode_event("\x90").has_value());                  // []
    EXPECT_FALSE(decode_event("\x80").has_value());                  // {} lacks required keys
    EXPECT_FALSE(decode_event("\xdf\xff\xff\xff\xff").has_value());  // map32 of 4G entries
    EXPECT_FALSE(decode_event(std::string(kMaxEventBlobBytes + 1, '\x80')).has_value());
}

TEST(Event, DecoderSkipsUnknownKeysFromNewerWriters) {
    Typical t;
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    // 17 keys: a map16 header. Bump its count and append "zz": [1, {"a": nil}].
    ASSERT_EQ(static_cast<unsigned char>(blob[0]), 0xde);
    blob[2] = static_cast<char>(blob[2] + 1);
    blob +=
        "\xa2zz\x92\x01\x81\xa1"
        "a\xc0";
    EXPECT_TRUE(decode_event(blob).has_value());
}

std::vector<std::string> args_of(XaddCommand& cmd) {
    std::vector<std::string> args;
    for (int i = 0; i < cmd.argc(); ++i) {
        args.emplace_back(cmd.argv()[i], cmd.argvlen()[i]);
    }
    return args;
}

TEST(Event, XaddArgvWithCap) {
    StreamConfig config;
    config.key = "shop:events";
    config.maxlen = 500000;
    XaddCommand cmd;
    cmd.build(config, "Product Viewed", "vid123", "BLOB");
    ASSERT_EQ(cmd.argc(), XaddCommand::kMaxArgc);
    EXPECT_EQ(args_of(cmd),
              (std::vector<std::string>{"XADD", "shop:events", "MAXLEN", "~", "500000", "*", "type",
                                        "Product Viewed", "vid", "vid123", "e", "BLOB"}));
}

TEST(Event, XaddArgvUncapped) {
    StreamConfig config;
    config.maxlen = 0;
    XaddCommand cmd;
    cmd.build(config, "Page Viewed", "v", std::string_view("\0\x81", 2));
    EXPECT_EQ(args_of(cmd),
              (std::vector<std::string>{"XADD", "tailor:events", "*", "type", "Page Viewed", "vid",
                                        "v", "e", std::string("\0\x81", 2)}));
}

}  // namespace
}  // namespace tailor
