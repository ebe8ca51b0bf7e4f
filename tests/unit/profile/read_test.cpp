// ProfileRead tests: the MGET's argv and the reply decoded in the same key order.
#include "tailor/profile/read.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

using Kind = ProfileReplyElement::Kind;

std::string arg(ProfileReadCommand& c, size_t i) {
    return std::string(c.argv()[i], c.argvlen()[i]);
}

TEST(ProfileRead, TheMgetAsksForProfileLiveAndCapsInOneSlot) {
    ProfileReadCommand c("q3Zf0x8W2mYbT1kL9cVn_A");
    ASSERT_TRUE(c.valid());
    EXPECT_EQ(kProfileReadArgc, 4u);
    EXPECT_EQ(arg(c, 0), "MGET");
    EXPECT_EQ(arg(c, 1), visitor_key("q3Zf0x8W2mYbT1kL9cVn_A", VisitorKeyKind::kProfile));
    EXPECT_EQ(arg(c, 2), visitor_key("q3Zf0x8W2mYbT1kL9cVn_A", VisitorKeyKind::kLive));
    EXPECT_EQ(arg(c, 3), visitor_key("q3Zf0x8W2mYbT1kL9cVn_A", VisitorKeyKind::kCaps));
    EXPECT_EQ(c.route(), arg(c, 1));
}

TEST(ProfileRead, TheLongestIdFitsAndLongerOnesAreRefused) {
    const std::string longest(kVidMaxLength, 'a');
    ProfileReadCommand ok(longest);
    ASSERT_TRUE(ok.valid());
    EXPECT_EQ(arg(ok, 3), visitor_key(longest, VisitorKeyKind::kCaps));
    EXPECT_FALSE(ProfileReadCommand(longest + "a").valid());
    EXPECT_FALSE(ProfileReadCommand("").valid());
}

TEST(ProfileRead, TheReplyIsDecodedInKeyOrder) {
    ProfileReplyElement e[3] = {
        {Kind::kBytes, "P"}, {Kind::kNil, {}}, {Kind::kBytes, std::string_view("C\0", 2)}};
    std::string_view why;
    auto stored = decode_profile_reply(e, 3, &why);
    ASSERT_TRUE(stored) << why;
    EXPECT_TRUE(stored->profile.present);
    EXPECT_EQ(stored->profile.bytes, "P");
    EXPECT_FALSE(stored->live.present);
    EXPECT_TRUE(stored->caps.present);
    EXPECT_EQ(stored->caps.bytes, std::string("C\0", 2));
}

TEST(ProfileRead, AnEmptyStringIsPresentNotNil) {
    ProfileReplyElement e[3] = {{Kind::kBytes, ""}, {Kind::kNil, {}}, {Kind::kNil, {}}};
    auto stored = decode_profile_reply(e, 3, nullptr);
    ASSERT_TRUE(stored);
    EXPECT_TRUE(stored->profile.present);
}

TEST(ProfileRead, AReplyOfAnotherShapeIsRefused) {
    ProfileReplyElement e[4] = {};
    std::string_view why;
    EXPECT_FALSE(decode_profile_reply(e, 2, &why));
    EXPECT_FALSE(why.empty());
    EXPECT_FALSE(decode_profile_reply(e, 4, nullptr));
    e[1].kind = Kind::kOther;
    why = {};
    EXPECT_FALSE(decode_profile_reply(e, 3, &why));
    EXPECT_FALSE(why.empty());
}

}  // namespace
}  // namespace tailor
