// XaddCommand: the XADD argv with and without a MAXLEN cap.
#include "tailor/events/xadd.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tailor {
namespace {

std::vector<std::string> args_of(XaddCommand& cmd) {
    std::vector<std::string> args;
    for (int i = 0; i < cmd.argc(); ++i) {
        args.emplace_back(cmd.argv()[i], cmd.argvlen()[i]);
    }
    return args;
}

TEST(XaddCommand, XaddArgvWithCap) {
    StreamConfig config;
    config.key = "shop:events";
    config.maxlen = 500000;
    XaddCommand cmd;
    cmd.build(config, "Product Viewed", "vid123", "BLOB");
    ASSERT_EQ(cmd.argc(), XaddCommand::kMaxArgc);
    EXPECT_EQ(args_of(cmd),
              (std::vector<std::string>{"XADD", "shop:events", "MAXLEN", "~", "500000", "*", "type",
                                        "Product Viewed", "vid", "vid123", "e", "BLOB"}));
}

TEST(XaddCommand, XaddArgvUncapped) {
    StreamConfig config;
    config.maxlen = 0;
    XaddCommand cmd;
    cmd.build(config, "Page Viewed", "v", std::string_view("\0\x81", 2));
    EXPECT_EQ(args_of(cmd),
              (std::vector<std::string>{"XADD", "tailor:events", "*", "type", "Page Viewed", "vid",
                                        "v", "e", std::string("\0\x81", 2)}));
}

}  // namespace
}  // namespace tailor
