// RedisTest: the fixture of unit tests that run commands on a real redis-server
// (redis_server.h): one server per test suite, an empty database and a fresh connection per
// test. A suite derives from it (or from LiveScriptTest, events/live_fixture.h) and keeps its
// own helpers; its tests skip when /usr/bin/redis-server is not installed.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "redis_server.h"

namespace tailor {

class RedisTest : public ::testing::Test {
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
    }

    // Whether SetUp stopped the test (skipped, or failed): a derived SetUp returns at once.
    [[nodiscard]] static bool set_up_stopped() { return IsSkipped() || HasFatalFailure(); }

    // One for every suite: gtest runs the suites one after another, each between its
    // SetUpTestSuite and TearDownTestSuite.
    static inline RedisServer server_;
    std::unique_ptr<Resp> redis_;
};

}  // namespace tailor
