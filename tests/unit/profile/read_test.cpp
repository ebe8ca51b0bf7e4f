// ProfileRead tests: the visitor read's replies (the tombstone's EXISTS, then a GETRANGE per
// key), decoded in command order.
#include "tailor/profile/read.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

using Kind = ProfileReplyElement::Kind;
constexpr size_t kMax = 256 * 1024;
constexpr ProfileReplyElement kNotErased = {Kind::kInteger, {}, 0};

TEST(ProfileRead, TheCommandReadsProfileLiveAndCapsInThatOrder) {
    ASSERT_EQ(kVisitorReadKinds.size(), 3u);
    EXPECT_EQ(kVisitorReadKinds[0], VisitorKeyKind::kProfile);
    EXPECT_EQ(kVisitorReadKinds[1], VisitorKeyKind::kLive);
    EXPECT_EQ(kVisitorReadKinds[2], VisitorKeyKind::kCaps);
    EXPECT_EQ(kVisitorReadCommands, 4u);
    VisitorRead cmd("q3Zf0x8W2mYbT1kL9cVn_A", kMax, VisitorReadCaps::kRead);
    EXPECT_EQ(cmd.route_key(), "tailor:{q3Zf0x8W2mYbT1kL9cVn_A}:profile");
}

TEST(ProfileRead, TheRepliesAreDecodedInKeyOrder) {
    ProfileReplyElement e[4] = {
        kNotErased, {Kind::kBytes, "P", 0}, {Kind::kBytes, "", 0}, {Kind::kBytes, "C", 0}};
    ProfileReply r = decode_profile_reply(e, 4, kMax);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_TRUE(r.stored.profile.present);
    EXPECT_EQ(r.stored.profile.bytes, "P");
    EXPECT_FALSE(r.stored.live.present);  // GETRANGE of a missing key is empty
    EXPECT_TRUE(r.stored.caps.present);
    EXPECT_EQ(r.stored.caps.bytes, "C");
}

// A read without the caps has one reply less: no caps, the rest in place; fewer still is
// refused.
TEST(ProfileRead, AReadWithoutTheCapsHasNoCaps) {
    ProfileReplyElement e[3] = {kNotErased, {Kind::kBytes, "P", 0}, {Kind::kBytes, "L", 0}};
    ProfileReply r = decode_profile_reply(e, 3, kMax);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_EQ(r.stored.profile.bytes, "P");
    EXPECT_EQ(r.stored.live.bytes, "L");
    EXPECT_FALSE(r.stored.caps.present);
    EXPECT_EQ(decode_profile_reply(e, 2, kMax).status, ProfileReply::Status::kMalformed);
}

// The values are viewed where the replies hold them, not copied; the profile cache takes an
// owned copy, whose view is the same.
TEST(ProfileRead, TheValuesViewTheRepliesAndACopyOwnsThem) {
    const std::string profile = "profile bytes, long enough not to be a short string";
    ProfileReplyElement e[4] = {
        kNotErased, {Kind::kBytes, profile, 0}, {Kind::kBytes, "L", 0}, {Kind::kNil, {}, 0}};
    ProfileReply r = decode_profile_reply(e, 4, kMax);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_EQ(r.stored.profile.bytes.data(), profile.data());
    EXPECT_EQ(r.stored.live.bytes.data(), e[2].bytes.data());

    const StoredVisitor copy = StoredVisitor::copy_of(r.stored);
    EXPECT_NE(copy.profile.bytes.data(), profile.data());
    const StoredView again = copy.view();
    EXPECT_TRUE(again.profile.present && again.live.present);
    EXPECT_FALSE(again.caps.present);
    EXPECT_EQ(again.profile.bytes, profile);
    EXPECT_EQ(again.live.bytes, "L");
    EXPECT_EQ(copy.size(), profile.size() + 1);
}

TEST(ProfileRead, AnErasedVisitorIsNobodyWhateverCameBack) {
    ProfileReplyElement e[4] = {
        {Kind::kInteger, {}, 1}, {Kind::kBytes, "P", 0}, {Kind::kBytes, "L", 0}, {}};
    ProfileReply r = decode_profile_reply(e, 4, kMax);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk);
    EXPECT_FALSE(r.stored.profile.present);
    EXPECT_FALSE(r.stored.live.present);
}

TEST(ProfileRead, BytesOverTheLimitAreAnOversizeValueLeftInRedis) {
    ProfileReplyElement e[4] = {kNotErased, {Kind::kBytes, "12345", 0}, {Kind::kBytes, "L", 0}, {}};
    ProfileReply r = decode_profile_reply(e, 4, 4);
    EXPECT_EQ(r.status, ProfileReply::Status::kOversize);
    EXPECT_EQ(r.oversize, 5);
    EXPECT_FALSE(r.stored.live.present);  // nothing of an oversize visitor is used
}

TEST(ProfileRead, AWrongTypeIsNoValueAndAnyOtherErrorIsRedisAnswer) {
    ProfileReplyElement e[4] = {
        kNotErased,
        {Kind::kError, "WRONGTYPE Operation against a key holding the wrong kind of value", 0},
        {Kind::kBytes, "L", 0},
        {}};
    ProfileReply r = decode_profile_reply(e, 4, kMax);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_FALSE(r.stored.profile.present);
    EXPECT_TRUE(r.stored.live.present);

    e[2] = {Kind::kError, "LOADING Redis is loading the dataset in memory", 0};
    r = decode_profile_reply(e, 4, kMax);
    EXPECT_EQ(r.status, ProfileReply::Status::kRedisError);
    EXPECT_EQ(r.why, "LOADING Redis is loading the dataset in memory");
    EXPECT_FALSE(r.stored.live.present);

    ProfileReplyElement refused[4] = {{Kind::kError, "NOPERM no permissions", 0}, {}, {}, {}};
    r = decode_profile_reply(refused, 4, kMax);
    EXPECT_EQ(r.status, ProfileReply::Status::kRedisError);
    EXPECT_EQ(r.why, "NOPERM no permissions");
}

TEST(ProfileRead, RepliesOfAnotherShapeAreRefused) {
    ProfileReplyElement e[4] = {kNotErased, {}, {}, {}};
    EXPECT_EQ(decode_profile_reply(e, 2, kMax).status, ProfileReply::Status::kMalformed);
    ProfileReplyElement five[5] = {kNotErased, {}, {}, {}, {}};
    EXPECT_EQ(decode_profile_reply(five, 5, kMax).status, ProfileReply::Status::kMalformed);
    e[1].kind = Kind::kOther;
    ProfileReply r = decode_profile_reply(e, 4, kMax);
    EXPECT_EQ(r.status, ProfileReply::Status::kMalformed);
    EXPECT_FALSE(r.why.empty());
    e[1] = {Kind::kInteger, {}, 5};  // GETRANGE never answers an integer
    EXPECT_EQ(decode_profile_reply(e, 4, kMax).status, ProfileReply::Status::kMalformed);
    ProfileReplyElement tombstone[4] = {{Kind::kInteger, {}, 2}, {}, {}, {}};
    EXPECT_EQ(decode_profile_reply(tombstone, 4, kMax).status, ProfileReply::Status::kMalformed);
    ProfileReplyElement nil[4] = {};  // EXISTS never answers nil
    EXPECT_EQ(decode_profile_reply(nil, 4, kMax).status, ProfileReply::Status::kMalformed);
}

}  // namespace
}  // namespace tailor
