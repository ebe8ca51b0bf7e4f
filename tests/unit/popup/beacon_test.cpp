// The beacon's query parser and the EVALSHA it becomes (the script itself runs in
// tests/integration/test_popups.py, against a real redis-server).
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tailor/popup/beacon.h"

namespace tailor {
namespace {

PopupBeaconParse parse(std::string_view q, PopupBeacon* b = nullptr) {
    PopupBeacon scratch;
    return parse_popup_beacon_query(q, b != nullptr ? b : &scratch);
}

TEST(PopupBeacon, ReadsTheKindAndThePopupInAnyOrder) {
    PopupBeacon b;
    ASSERT_EQ(parse("e=impression&p=cart-rescue", &b), PopupBeaconParse::kOk);
    EXPECT_EQ(b.kind, PopupBeaconKind::kImpression);
    EXPECT_EQ(b.popup_id, "cart-rescue");

    ASSERT_EQ(parse("p=A_1&t=123&e=conversion", &b), PopupBeaconParse::kOk);
    EXPECT_EQ(b.kind, PopupBeaconKind::kConversion);
    EXPECT_EQ(b.popup_id, "A_1");

    ASSERT_EQ(parse("e=close&p=x&", &b), PopupBeaconParse::kOk);
    EXPECT_EQ(b.kind, PopupBeaconKind::kClose);
}

TEST(PopupBeacon, RefusesWhatTheRuntimeNeverSends) {
    EXPECT_EQ(parse(""), PopupBeaconParse::kMissingKind);
    EXPECT_EQ(parse("p=x"), PopupBeaconParse::kMissingKind);
    EXPECT_EQ(parse("e=click&p=x"), PopupBeaconParse::kBadKind);
    EXPECT_EQ(parse("e=Impression&p=x"), PopupBeaconParse::kBadKind);
    EXPECT_EQ(parse("e&p=x"), PopupBeaconParse::kBadKind);
    EXPECT_EQ(parse("e=close"), PopupBeaconParse::kMissingId);
    EXPECT_EQ(parse("e=close&p="), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=a%20b"), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=a}:profile"), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=" + std::string(65, 'a')), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=" + std::string(64, 'a')), PopupBeaconParse::kOk);
    EXPECT_EQ(parse("e=close&e=impression&p=x"), PopupBeaconParse::kRepeated);
    EXPECT_EQ(parse("e=close&p=x&p=y"), PopupBeaconParse::kRepeated);
    EXPECT_EQ(parse("e=close&p=x&pad=" + std::string(kMaxPopupBeaconQuery, 'z')),
              PopupBeaconParse::kTooLong);
}

TEST(PopupBeacon, ParseNamesAreDistinct) {
    EXPECT_EQ(popup_beacon_parse_name(PopupBeaconParse::kBadId), "bad-id");
    EXPECT_NE(popup_beacon_parse_name(PopupBeaconParse::kMissingId),
              popup_beacon_parse_name(PopupBeaconParse::kMissingKind));
}

TEST(PopupBeacon, EventsFollowSegmentsPromotionNames) {
    EXPECT_EQ(popup_beacon_event_name(PopupBeaconKind::kImpression), "Promotion Viewed");
    EXPECT_EQ(popup_beacon_event_name(PopupBeaconKind::kConversion), "Promotion Clicked");
    EXPECT_EQ(popup_beacon_event_name(PopupBeaconKind::kClose), "Promotion Closed");
}

TEST(PopupBeacon, TheEventNamesThePopupAndItsExposure) {
    PopupBeaconEvent e = popup_beacon_event(PopupBeaconKind::kConversion, "cart-rescue");
    EXPECT_EQ(e.name, "Promotion Clicked");
    EXPECT_EQ(e.properties[0].name, "promotion_id");
    EXPECT_EQ(e.properties[0].value, "cart-rescue");
    EXPECT_EQ(e.properties[1].name, "creative");
    EXPECT_EQ(e.properties[1].value, "popup");
    EXPECT_EQ(e.exposure.rule, "cart-rescue");
    EXPECT_EQ(e.exposure.experiment, "popup");
    EXPECT_EQ(e.exposure.variant, "offered");
}

TEST(PopupBeacon, TheCommandTouchesOnlyTheVisitorsOwnKeys) {
    PopupBeacon b;
    ASSERT_EQ(parse("e=close&p=cart-rescue", &b), PopupBeaconParse::kOk);
    PopupBeaconLimits limits;
    limits.rate = 7;
    limits.window_seconds = 60;
    limits.caps_ttl_seconds = 86400;
    PopupBeaconCommand cmd("VID123", b, 1763600000, limits);

    ASSERT_EQ(cmd.argc(), 12);
    std::string args;
    for (int i = 0; i < cmd.argc(); i++) {
        args.append(cmd.argv()[i], cmd.argvlen()[i]);
        args.push_back(' ');
    }
    EXPECT_EQ(args, "EVALSHA " + std::string(popup_caps_script_sha1()) +
                        " 3 tailor:{VID123}:caps tailor:{VID123}:live tailor:{VID123}:beacon "
                        "close cart-rescue 1763600000 7 60 86400 ");
    EXPECT_EQ(cmd.caps_key(), "tailor:{VID123}:caps");

    cmd.use_eval();
    EXPECT_EQ(std::string_view(cmd.argv()[0], cmd.argvlen()[0]), "EVAL");
    EXPECT_EQ(std::string_view(cmd.argv()[1], cmd.argvlen()[1]), kPopupCapsScript);
}

TEST(PopupBeacon, ResultsAreTheScriptsThreeAnswers) {
    PopupBeaconResult r;
    ASSERT_TRUE(popup_beacon_result(1, &r));
    EXPECT_EQ(r, PopupBeaconResult::kRecorded);
    ASSERT_TRUE(popup_beacon_result(0, &r));
    EXPECT_EQ(r, PopupBeaconResult::kRateLimited);
    ASSERT_TRUE(popup_beacon_result(-1, &r));
    EXPECT_EQ(r, PopupBeaconResult::kNewerSchema);
    ASSERT_TRUE(popup_beacon_result(-2, &r));
    EXPECT_EQ(r, PopupBeaconResult::kErased);
    EXPECT_FALSE(popup_beacon_result(2, &r));
    EXPECT_FALSE(popup_beacon_result(-3, &r));
    EXPECT_EQ(popup_caps_script_sha1().size(), 40u);
}

}  // namespace
}  // namespace tailor
