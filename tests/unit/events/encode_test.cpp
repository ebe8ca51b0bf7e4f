// EventEncode: round trips, plain MessagePack, numbers, UTF-8 repair, cuts and caps.
#include "tailor/events/encode.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <string>
#include <vector>

#include "events/typical_event.h"
#include "tailor/events/decode.h"

namespace tailor {
namespace {

TEST(EventEncode, TypicalEventRoundTrips) {
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

TEST(EventEncode, EncodingIsPlainMessagePackThatMsgpackCReads) {
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

TEST(EventEncode, AppendsToTheBufferWithoutTouchingWhatIsThere) {
    Typical t;
    std::string blob = "prefix";
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    EXPECT_EQ(blob.substr(0, 6), "prefix");
    EXPECT_TRUE(decode_event(std::string_view(blob).substr(6)).has_value());
}

TEST(EventEncode, NonNumericNumberPropertyIsDroppedAndCounted) {
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

TEST(EventEncode, NumbersKeepTheirValue) {
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

TEST(EventEncode, StringPropertiesStayStrings) {
    Typical t;
    t.props[0].value = "00123";
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    EXPECT_EQ(decode_event(blob)->property("product_id")->text, "00123");
}

TEST(EventEncode, InvalidUtf8BecomesQuestionMarks) {
    Typical t;
    t.props[3].value = "ok\xff\xc3(\xe2\x82\xac";  // bad, bad lead, then a valid euro sign
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    EXPECT_EQ(decode_event(blob)->property("category")->text,
              "ok?"
              "?(\xe2\x82\xac");
}

TEST(EventEncode, LongValuesAreCutAtACharacterBoundary) {
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

TEST(EventEncode, CapsPropertiesAndExposures) {
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

TEST(EventEncode, RefusesEventsWithoutVisitorTimeOrValidCustomName) {
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

TEST(EventEncode, IdentifyCarriesThePreviousVisitor) {
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

}  // namespace
}  // namespace tailor
