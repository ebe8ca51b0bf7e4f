// VisitorRead: the visitor read's commands on a real redis-server, decoded as the module
// decodes them (profile/read.h): values, missing keys, other types, the tombstone, and
// oversize values refused without being sent whole.
#include "tailor/store/visitor_read.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include "redis_fixture.h"
#include "tailor/profile/read.h"

namespace tailor {
namespace {

constexpr std::string_view kVid = "q3Zf0x8W2mYbT1kL9cVn_A";

class StoreVisitorRead : public RedisTest {
  protected:
    void set(VisitorKeyKind kind, std::string_view value) {
        ASSERT_EQ(redis_->command({"SET", visitor_key(kVid, kind), value}).str, "OK");
    }

    // The commands (four, three without the caps), each reply as the glue hands it to core.
    std::array<Reply, kVisitorReadCommands> send(size_t max_bytes, VisitorReadCaps caps) {
        VisitorRead cmd(kVid, max_bytes, caps);
        count_ = cmd.count();
        std::array<Reply, kVisitorReadCommands> replies;
        for (size_t i = 0; i < count_; i++) {
            replies[i] = redis_->command_argv(cmd.argc(i), cmd.argv(i), cmd.argvlen(i));
        }
        return replies;
    }

    ProfileReply read(size_t max_bytes, VisitorReadCaps caps = VisitorReadCaps::kRead) {
        replies_ = send(max_bytes, caps);
        std::array<ProfileReplyElement, kVisitorReadCommands> e;
        for (size_t i = 0; i < count_; i++) {
            const Reply& r = replies_[i];
            if (r.nil) {
                e[i].kind = ProfileReplyElement::Kind::kNil;
            } else if (r.kind == '$') {
                e[i] = {ProfileReplyElement::Kind::kBytes, r.str, 0};
            } else if (r.kind == ':') {
                e[i] = {ProfileReplyElement::Kind::kInteger, {}, r.integer};
            } else if (r.kind == '-') {
                e[i] = {ProfileReplyElement::Kind::kError, r.str, 0};
            } else {
                e[i].kind = ProfileReplyElement::Kind::kOther;
            }
        }
        return decode_profile_reply(e.data(), count_, max_bytes);
    }

    std::array<Reply, kVisitorReadCommands> replies_;
    size_t count_ = 0;
};

TEST_F(StoreVisitorRead, ReadsProfileLiveAndCapsIntoTheirPlaces) {
    set(VisitorKeyKind::kProfile, "P");
    set(VisitorKeyKind::kCaps, "C");
    ProfileReply r = read(1024);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_TRUE(r.stored.profile.present);
    EXPECT_EQ(r.stored.profile.bytes, "P");
    EXPECT_FALSE(r.stored.live.present);  // no live map yet
    EXPECT_TRUE(r.stored.caps.present);
    EXPECT_EQ(r.stored.caps.bytes, "C");
}

TEST_F(StoreVisitorRead, AnEmptyValueReadsAsNoValue) {
    set(VisitorKeyKind::kCaps, "");
    ProfileReply r = read(1024);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_FALSE(r.stored.caps.present);
}

TEST_F(StoreVisitorRead, AValueOverTheLimitIsRefusedAndOnlyTheLimitIsSent) {
    set(VisitorKeyKind::kProfile, std::string(5000, 'x'));
    set(VisitorKeyKind::kLive, std::string(100, 'y'));
    ProfileReply r = read(4096);
    EXPECT_EQ(r.status, ProfileReply::Status::kOversize);
    EXPECT_EQ(r.oversize, 4097);
    EXPECT_EQ(replies_[1].str.size(), 4097u);  // the rest of the value stayed in Redis
    EXPECT_FALSE(r.stored.live.present);       // nothing of an oversize visitor is used

    r = read(5000);  // at the limit: read
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_EQ(r.stored.profile.bytes.size(), 5000u);
    EXPECT_EQ(r.stored.live.bytes, std::string(100, 'y'));
}

TEST_F(StoreVisitorRead, AKeyOfAnotherTypeIsNoValue) {
    redis_->command({"HSET", visitor_key(kVid, VisitorKeyKind::kProfile), "a", "b"});
    set(VisitorKeyKind::kLive, "L");
    ProfileReply r = read(1024);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_EQ(replies_[1].kind, '-');
    EXPECT_FALSE(r.stored.profile.present);
    EXPECT_EQ(r.stored.live.bytes, "L");
}

TEST_F(StoreVisitorRead, CommandsAreTheTombstonesExistsThenABoundedGetrangePerKey) {
    VisitorRead cmd(kVid, 262144, VisitorReadCaps::kRead);
    ASSERT_EQ(cmd.argc(0), 2);
    EXPECT_EQ(std::string_view(cmd.argv(0)[0], cmd.argvlen(0)[0]), "EXISTS");
    EXPECT_EQ(std::string_view(cmd.argv(0)[1], cmd.argvlen(0)[1]),
              visitor_key(kVid, VisitorKeyKind::kErased));
    for (size_t i = 1; i < kVisitorReadCommands; i++) {
        ASSERT_EQ(cmd.argc(i), 4);
        EXPECT_EQ(std::string_view(cmd.argv(i)[0], cmd.argvlen(i)[0]), "GETRANGE");
        EXPECT_EQ(std::string_view(cmd.argv(i)[1], cmd.argvlen(i)[1]),
                  visitor_key(kVid, kVisitorReadKinds[i - 1]));
        EXPECT_EQ(std::string_view(cmd.argv(i)[2], cmd.argvlen(i)[2]), "0");
        EXPECT_EQ(std::string_view(cmd.argv(i)[3], cmd.argvlen(i)[3]), "262144");
    }
    EXPECT_EQ(cmd.route_key(), visitor_key(kVid, VisitorKeyKind::kProfile));
}

// A pack without pop-ups reads no caps: the caps' GETRANGE is left out, the rest is the same.
TEST_F(StoreVisitorRead, WithoutTheCapsTheReadLeavesTheirCommandOut) {
    VisitorRead cmd(kVid, 262144, VisitorReadCaps::kSkip);
    ASSERT_EQ(cmd.count(), kVisitorReadCommands - 1);
    EXPECT_EQ(std::string_view(cmd.argv(0)[0], cmd.argvlen(0)[0]), "EXISTS");
    for (size_t i = 1; i < cmd.count(); i++) {
        EXPECT_EQ(std::string_view(cmd.argv(i)[1], cmd.argvlen(i)[1]),
                  visitor_key(kVid, kVisitorReadKinds[i - 1]));
    }
    EXPECT_EQ(VisitorRead(kVid, 262144, VisitorReadCaps::kRead).count(), kVisitorReadCommands);

    set(VisitorKeyKind::kProfile, "P");
    set(VisitorKeyKind::kLive, "L");
    set(VisitorKeyKind::kCaps, "C");
    ProfileReply r = read(1024, VisitorReadCaps::kSkip);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_EQ(r.stored.profile.bytes, "P");
    EXPECT_EQ(r.stored.live.bytes, "L");
    EXPECT_FALSE(r.stored.caps.present);  // stored, but not asked for
}

TEST_F(StoreVisitorRead, AnErasedVisitorReadsAsNobodyWhateverIsStored) {
    set(VisitorKeyKind::kProfile, "P");
    set(VisitorKeyKind::kLive, "L");
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kErased), "1", "EX", "60"});
    ProfileReply r = read(1024);
    ASSERT_EQ(r.status, ProfileReply::Status::kOk) << r.why;
    EXPECT_FALSE(r.stored.profile.present);
    EXPECT_FALSE(r.stored.live.present);
    EXPECT_FALSE(r.stored.caps.present);
}

}  // namespace
}  // namespace tailor
