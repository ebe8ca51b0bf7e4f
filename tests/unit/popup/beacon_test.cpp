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

// Well-formed (zero nonce, zero MAC): the parser checks syntax, not the MAC.
const std::string kToken = "k1.6560f1a0AAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA";
const std::string kT = "&t=" + kToken;

TEST(PopupBeacon, ReadsTheKindThePopupAndTheTokenInAnyOrder) {
    // the parsed beacon views the query: each lives as long as its checks
    PopupBeacon b;
    const std::string q1 = "e=impression&p=cart-rescue" + kT;
    ASSERT_EQ(parse(q1, &b), PopupBeaconParse::kOk);
    EXPECT_EQ(b.kind, PopupBeaconKind::kImpression);
    EXPECT_EQ(b.popup_id, "cart-rescue");
    EXPECT_EQ(b.token, kToken);

    const std::string q2 = "p=A_1&t=" + kToken + "&e=conversion";
    ASSERT_EQ(parse(q2, &b), PopupBeaconParse::kOk);
    EXPECT_EQ(b.kind, PopupBeaconKind::kConversion);
    EXPECT_EQ(b.popup_id, "A_1");

    const std::string q3 = "e=close&p=x" + kT + "&";
    ASSERT_EQ(parse(q3, &b), PopupBeaconParse::kOk);
    EXPECT_EQ(b.kind, PopupBeaconKind::kClose);
}

TEST(PopupBeacon, RefusesWhatTheRuntimeNeverSends) {
    EXPECT_EQ(parse(""), PopupBeaconParse::kMissingKind);
    EXPECT_EQ(parse("p=x" + kT), PopupBeaconParse::kMissingKind);
    EXPECT_EQ(parse("e=click&p=x" + kT), PopupBeaconParse::kBadKind);
    EXPECT_EQ(parse("e=Impression&p=x" + kT), PopupBeaconParse::kBadKind);
    EXPECT_EQ(parse("e&p=x" + kT), PopupBeaconParse::kBadKind);
    EXPECT_EQ(parse("e=close" + kT), PopupBeaconParse::kMissingId);
    EXPECT_EQ(parse("e=close&p=" + kT), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=a%20b" + kT), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=a}:profile" + kT), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=" + std::string(65, 'a') + kT), PopupBeaconParse::kBadId);
    EXPECT_EQ(parse("e=close&p=" + std::string(64, 'a') + kT), PopupBeaconParse::kOk);
    EXPECT_EQ(parse("e=close&e=impression&p=x" + kT), PopupBeaconParse::kRepeated);
    EXPECT_EQ(parse("e=close&p=x&p=y" + kT), PopupBeaconParse::kRepeated);
    EXPECT_EQ(parse("e=close&p=x" + kT + kT), PopupBeaconParse::kRepeated);
    EXPECT_EQ(parse("e=close&p=x" + kT + "&pad=" + std::string(kMaxPopupBeaconQuery, 'z')),
              PopupBeaconParse::kTooLong);
}

TEST(PopupBeacon, ATokenIsRequiredAndMustBeWellFormed) {
    // the runtime before the token sent none: refused before anything is read
    EXPECT_EQ(parse("e=impression&p=cart-rescue"), PopupBeaconParse::kMissingToken);
    EXPECT_EQ(parse("e=impression&p=cart-rescue&t="), PopupBeaconParse::kMissingToken);
    EXPECT_EQ(parse("e=impression&p=cart-rescue&t"), PopupBeaconParse::kMissingToken);
    EXPECT_EQ(parse("e=close&p=x&t=123"), PopupBeaconParse::kBadToken);
    EXPECT_EQ(parse("e=close&p=x&t=" + kToken + "x"), PopupBeaconParse::kBadToken);
    EXPECT_EQ(parse("e=close&p=x&t=" + kToken.substr(0, kToken.size() - 1)),
              PopupBeaconParse::kBadToken);
    // escapes are never needed, so never read
    std::string escaped = kToken;
    escaped.replace(2, 1, "%2E");
    EXPECT_EQ(parse("e=close&p=x&t=" + escaped), PopupBeaconParse::kBadToken);
}

TEST(PopupBeacon, ParseNamesAreDistinct) {
    EXPECT_EQ(popup_beacon_parse_name(PopupBeaconParse::kBadId), "bad-id");
    EXPECT_EQ(popup_beacon_parse_name(PopupBeaconParse::kMissingToken), "missing-token");
    EXPECT_EQ(popup_beacon_parse_name(PopupBeaconParse::kBadToken), "bad-token");
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
    const std::string q = "e=close&p=cart-rescue" + kT;
    ASSERT_EQ(parse(q, &b), PopupBeaconParse::kOk);
    PopupBeaconLimits limits;
    limits.rate = 7;
    limits.window_seconds = 60;
    limits.caps_ttl_seconds = 86400;
    limits.token_max_age_seconds = 3600;
    PopupTokenCheck token;
    token.status = PopupTokenStatus::kValid;
    token.nonce = "AAAAAAAAAAA";
    token.issued_at = 1763599000;
    PopupBeaconCommand cmd("VID123", b, token, 1763600000, limits);

    ASSERT_EQ(cmd.argc(), 15);
    std::string args;
    for (int i = 0; i < cmd.argc(); i++) {
        args.append(cmd.argv()[i], cmd.argvlen()[i]);
        args.push_back(' ');
    }
    EXPECT_EQ(args, "EVALSHA " + std::string(popup_caps_script_sha1()) +
                        " 3 tailor:{VID123}:caps tailor:{VID123}:live tailor:{VID123}:beacon "
                        "close cart-rescue 1763600000 7 60 86400 cAAAAAAAAAAA 1763599000 "
                        "1763596100 ");
    EXPECT_EQ(cmd.caps_key(), "tailor:{VID123}:caps");

    cmd.use_eval();
    EXPECT_EQ(std::string_view(cmd.argv()[0], cmd.argvlen()[0]), "EVAL");
    EXPECT_EQ(std::string_view(cmd.argv()[1], cmd.argvlen()[1]), kPopupCapsScript);
}

TEST(PopupBeacon, EachKindHasItsOwnTokenRecord) {
    PopupTokenCheck token;
    token.status = PopupTokenStatus::kValid;
    token.nonce = "Xq3Zf0x8W2m";
    std::string records;
    for (std::string_view q : {"e=impression&p=x", "e=close&p=x", "e=conversion&p=x"}) {
        PopupBeacon b;
        const std::string query = std::string(q) + kT;
        ASSERT_EQ(parse(query, &b), PopupBeaconParse::kOk);
        PopupBeaconCommand cmd("VID123", b, token, 1763600000, PopupBeaconLimits{});
        records.append(cmd.argv()[12], cmd.argvlen()[12]).push_back(' ');
    }
    EXPECT_EQ(records, "iXq3Zf0x8W2m cXq3Zf0x8W2m vXq3Zf0x8W2m ");
}

TEST(PopupBeacon, ResultsAreTheScriptsAnswers) {
    PopupBeaconResult r;
    ASSERT_TRUE(popup_beacon_result(1, &r));
    EXPECT_EQ(r, PopupBeaconResult::kRecorded);
    ASSERT_TRUE(popup_beacon_result(0, &r));
    EXPECT_EQ(r, PopupBeaconResult::kRateLimited);
    ASSERT_TRUE(popup_beacon_result(-1, &r));
    EXPECT_EQ(r, PopupBeaconResult::kNewerSchema);
    ASSERT_TRUE(popup_beacon_result(-2, &r));
    EXPECT_EQ(r, PopupBeaconResult::kErased);
    ASSERT_TRUE(popup_beacon_result(-3, &r));
    EXPECT_EQ(r, PopupBeaconResult::kReplayed);
    ASSERT_TRUE(popup_beacon_result(-4, &r));
    EXPECT_EQ(r, PopupBeaconResult::kTokensFull);
    EXPECT_FALSE(popup_beacon_result(2, &r));
    EXPECT_FALSE(popup_beacon_result(-5, &r));
    EXPECT_EQ(popup_caps_script_sha1().size(), 40u);
}

}  // namespace
}  // namespace tailor
