// ProfileRead tests: the visitor read's reply, decoded in its key order.
#include "tailor/profile/read.h"

#include <gtest/gtest.h>

namespace tailor {
namespace {

using Kind = ProfileReplyElement::Kind;
constexpr size_t kMax = 256 * 1024;

TEST(ProfileRead, TheCommandReadsProfileLiveAndCapsInThatOrder) {
    ASSERT_EQ(kVisitorReadKinds.size(), 3u);
    EXPECT_EQ(kVisitorReadKinds[0], VisitorKeyKind::kProfile);
    EXPECT_EQ(kVisitorReadKinds[1], VisitorKeyKind::kLive);
    EXPECT_EQ(kVisitorReadKinds[2], VisitorKeyKind::kCaps);
    VisitorRead cmd("q3Zf0x8W2mYbT1kL9cVn_A", kMax);
    EXPECT_EQ(cmd.route_key(), "tailor:{q3Zf0x8W2mYbT1kL9cVn_A}:profile");
}

TEST(ProfileRead, TheReplyIsDecodedInKeyOrder) {
    ProfileReplyElement e[3] = {
        {Kind::kBytes, "P", 0}, {Kind::kNil, {}, 0}, {Kind::kBytes, "C", 0}};
    ProfileReply r = decode_profile_reply(e, 3, kMax);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_TRUE(r.stored.profile.present);
    EXPECT_EQ(r.stored.profile.bytes, "P");
    EXPECT_FALSE(r.stored.live.present);
    EXPECT_TRUE(r.stored.caps.present);
    EXPECT_EQ(r.stored.caps.bytes, "C");
}

TEST(ProfileRead, AnEmptyStringIsPresentNotNil) {
    ProfileReplyElement e[3] = {{Kind::kBytes, "", 0}, {}, {}};
    ProfileReply r = decode_profile_reply(e, 3, kMax);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk);
    EXPECT_TRUE(r.stored.profile.present);
    EXPECT_TRUE(r.stored.profile.bytes.empty());
}

TEST(ProfileRead, ASizeOverTheLimitIsAnOversizeValueLeftInRedis) {
    ProfileReplyElement e[3] = {{Kind::kSize, {}, 16 << 20}, {Kind::kBytes, "L", 0}, {}};
    ProfileReply r = decode_profile_reply(e, 3, kMax);
    EXPECT_EQ(r.status, ProfileReply::Status::kOversize);
    EXPECT_EQ(r.oversize, 16 << 20);
    EXPECT_FALSE(r.stored.live.present);  // nothing of an oversize visitor is used
}

TEST(ProfileRead, AReplyOfAnotherShapeIsRefused) {
    ProfileReplyElement e[4] = {};
    EXPECT_EQ(decode_profile_reply(e, 2, kMax).status, ProfileReply::Status::kMalformed);
    EXPECT_EQ(decode_profile_reply(e, 4, kMax).status, ProfileReply::Status::kMalformed);
    e[1].kind = Kind::kOther;
    ProfileReply r = decode_profile_reply(e, 3, kMax);
    EXPECT_EQ(r.status, ProfileReply::Status::kMalformed);
    EXPECT_FALSE(r.why.empty());
    // an integer that is no size over the limit, or bytes over it, are not the script's
    ProfileReplyElement small[3] = {{Kind::kSize, {}, 5}, {}, {}};
    EXPECT_EQ(decode_profile_reply(small, 3, kMax).status, ProfileReply::Status::kMalformed);
    ProfileReplyElement big[3] = {{Kind::kBytes, "12345", 0}, {}, {}};
    EXPECT_EQ(decode_profile_reply(big, 3, 4).status, ProfileReply::Status::kMalformed);
}

}  // namespace
}  // namespace tailor
