// VisitorRead: the visitor read script on a real redis-server: values, missing keys, other
// types, and oversize values answered by their size without being sent.
#include "tailor/store/visitor_read.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "redis_server.h"

namespace tailor {
namespace {

constexpr std::string_view kVid = "q3Zf0x8W2mYbT1kL9cVn_A";

class StoreVisitorRead : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { server_.start(); }
    static void TearDownTestSuite() { server_.stop(); }
    void SetUp() override {
        if (!server_.running()) {
            GTEST_SKIP() << kRedisServer << " is not installed";
        }
        redis_ = std::make_unique<Resp>(server_.port());
        ASSERT_TRUE(redis_->ok());
        ASSERT_EQ(redis_->command({"FLUSHALL"}).str, "OK");
        ASSERT_EQ(redis_->command({"SCRIPT", "FLUSH"}).str, "OK");
    }

    Reply run(size_t max_bytes) {
        VisitorRead cmd(kVid, max_bytes);
        Reply r = redis_->command_argv(cmd.argc(), cmd.argv(), cmd.argvlen());
        if (r.kind == '-' && r.str.rfind("NOSCRIPT", 0) == 0) {
            cmd.use_eval();
            r = redis_->command_argv(cmd.argc(), cmd.argv(), cmd.argvlen());
        }
        return r;
    }

    static inline RedisServer server_;
    std::unique_ptr<Resp> redis_;
};

TEST_F(StoreVisitorRead, ReadsTheThreeKeysInOrderAsMgetWould) {
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kProfile), "P"});
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kCaps), ""});
    Reply r = run(1024);
    ASSERT_EQ(r.kind, '*') << r.str;
    ASSERT_EQ(r.elements.size(), 3u);
    EXPECT_EQ(r.elements[0].kind, '$');
    EXPECT_EQ(r.elements[0].str, "P");
    EXPECT_TRUE(r.elements[1].nil);  // no live map yet
    EXPECT_EQ(r.elements[2].kind, '$');
    EXPECT_FALSE(r.elements[2].nil);  // present and empty
    EXPECT_EQ(r.elements[2].str, "");
}

TEST_F(StoreVisitorRead, AValueOverTheLimitIsAnsweredByItsSizeNotSent) {
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kProfile), std::string(5000, 'x')});
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kLive), std::string(100, 'y')});
    Reply r = run(4096);
    ASSERT_EQ(r.kind, '*') << r.str;
    EXPECT_EQ(r.elements[0].kind, ':');
    EXPECT_EQ(r.elements[0].integer, 5000);
    EXPECT_EQ(r.elements[1].str, std::string(100, 'y'));
    r = run(5000);  // at the limit: sent
    EXPECT_EQ(r.elements[0].str.size(), 5000u);
}

TEST_F(StoreVisitorRead, AKeyOfAnotherTypeIsNil) {
    redis_->command({"HSET", visitor_key(kVid, VisitorKeyKind::kProfile), "a", "b"});
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kLive), "L"});
    Reply r = run(1024);
    ASSERT_EQ(r.kind, '*') << r.str;
    EXPECT_TRUE(r.elements[0].nil);
    EXPECT_EQ(r.elements[1].str, "L");
    // and beside an oversize value, read key by key
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kCaps), std::string(2000, 'c')});
    r = run(1024);
    ASSERT_EQ(r.kind, '*') << r.str;
    EXPECT_TRUE(r.elements[0].nil);
    EXPECT_EQ(r.elements[1].str, "L");
    EXPECT_EQ(r.elements[2].integer, 2000);
}

TEST_F(StoreVisitorRead, ArgvIsEvalshaWithTheKeysAndTheLimit) {
    VisitorRead cmd(kVid, 262144);
    ASSERT_EQ(cmd.argc(), 7);
    EXPECT_EQ(std::string_view(cmd.argv()[0], cmd.argvlen()[0]), "EVALSHA");
    EXPECT_EQ(std::string_view(cmd.argv()[1], cmd.argvlen()[1]), visitor_read_sha1());
    EXPECT_EQ(std::string_view(cmd.argv()[2], cmd.argvlen()[2]), "3");
    EXPECT_EQ(std::string_view(cmd.argv()[3], cmd.argvlen()[3]),
              visitor_key(kVid, VisitorKeyKind::kProfile));
    EXPECT_EQ(std::string_view(cmd.argv()[6], cmd.argvlen()[6]), "262144");
    EXPECT_EQ(cmd.route_key(), visitor_key(kVid, VisitorKeyKind::kProfile));
    cmd.use_eval();
    EXPECT_EQ(std::string_view(cmd.argv()[0], cmd.argvlen()[0]), "EVAL");
    EXPECT_EQ(std::string_view(cmd.argv()[1], cmd.argvlen()[1]), kVisitorReadScript);
}

TEST_F(StoreVisitorRead, AnErasedVisitorReadsAsNobodyWhateverIsStored) {
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kProfile), "P"});
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kLive), "L"});
    redis_->command({"SET", visitor_key(kVid, VisitorKeyKind::kErased), "1", "EX", "60"});
    Reply r = run(1024);
    ASSERT_EQ(r.kind, '*') << r.str;
    ASSERT_EQ(r.elements.size(), 3u);
    for (const Reply& e : r.elements) {
        EXPECT_TRUE(e.nil);
    }
}

}  // namespace
}  // namespace tailor
