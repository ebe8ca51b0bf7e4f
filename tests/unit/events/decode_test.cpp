// EventDecode: refusals (truncation, non-events, huge counts, nesting) and routing.
#include "tailor/events/decode.h"

#include <gtest/gtest.h>

#include <string>

#include "events/typical_event.h"
#include "tailor/events/encode.h"

namespace tailor {
namespace {

TEST(EventDecode, DecoderRefusesEveryTruncation) {
    Typical t;
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    for (size_t n = 0; n < blob.size(); ++n) {
        EXPECT_FALSE(decode_event(std::string_view(blob).substr(0, n)).has_value()) << n;
    }
    EXPECT_FALSE(decode_event(blob + "x").has_value());
}

TEST(EventDecode, DecoderRefusesNonEventsAndHugeCounts) {
    EXPECT_FALSE(decode_event("").has_value());
    EXPECT_FALSE(decode_event("\x90").has_value());                  // []
    EXPECT_FALSE(decode_event("\x80").has_value());                  // {} lacks required keys
    EXPECT_FALSE(decode_event("\xdf\xff\xff\xff\xff").has_value());  // map32 of 4G entries
    EXPECT_FALSE(decode_event(std::string(kMaxEventBlobBytes + 1, '\x80')).has_value());
}

TEST(EventDecode, DecoderSkipsUnknownKeysFromNewerWriters) {
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

// The typical blob with one more key "zz" whose value is `nested`.
std::string with_extra_key(std::string_view nested) {
    Typical t;
    std::string blob;
    EXPECT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    EXPECT_EQ(static_cast<unsigned char>(blob[0]), 0xde);  // map16
    blob[2] = static_cast<char>(blob[2] + 1);
    blob += "\xa2zz";
    blob += nested;
    return blob;
}

TEST(EventDecode, NestingAtFourLevelsIsReadFivePastIsRefused) {
    // The event map is level 1, so "zz" holds level 2: three arrays reach 4.
    const std::string four = with_extra_key("\x91\x91\x90");
    EXPECT_TRUE(decode_event(four).has_value());
    EXPECT_TRUE(event_routing(four).has_value());
    const std::string five = with_extra_key("\x91\x91\x91\x90");
    EXPECT_FALSE(decode_event(five).has_value());
    EXPECT_FALSE(event_routing(five).has_value());
}

TEST(EventDecode, RoutingViewsTypeVidAndPreviousInTheBlob) {
    Typical t;
    t.event.type = EventType::kIdentify;
    t.event.previous_vid = "anon_1";
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    const auto r = event_routing(blob);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->type, "Identify");
    EXPECT_EQ(r->vid, "q3Zf0x8W2mYbT1kL9cVn_A");
    EXPECT_EQ(r->previous_vid, "anon_1");
    EXPECT_TRUE(r->vid.data() > blob.data() && r->vid.data() < blob.data() + blob.size());
    EXPECT_FALSE(event_routing("\x81\xa4type\xa1x").has_value());  // no vid
    EXPECT_FALSE(event_routing(std::string(kMaxEventBlobBytes + 1, '\x80')).has_value());
}

TEST(EventDecode, WrongTypedRequiredKeysAreRefused) {
    Typical t;
    std::string blob;
    ASSERT_EQ(encode_event(t.event, &blob).status, EncodeStatus::kOk);
    const size_t ts = blob.find("\xa2ts");
    ASSERT_NE(ts, std::string::npos);
    ASSERT_EQ(static_cast<unsigned char>(blob[ts + 3]), 0xcf);  // uint64, 8 bytes
    std::string bad = blob;
    bad[ts + 3] = '\xa8';  // the same 8 bytes, now a well-formed fixstr
    EXPECT_FALSE(decode_event(bad).has_value());
    EXPECT_TRUE(event_routing(bad).has_value());  // routing never reads ts
}

}  // namespace
}  // namespace tailor
