// RespCommand: the bytes hiredis's own formatter writes, and the bounds.
#include "tailor/store/resp.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

std::string format(int argc, const char* const* argv, const size_t* len) {
    std::string out(resp_command_bytes(argc, len), '\0');
    const size_t n = write_resp_command(out.data(), out.size(), argc, argv, len);
    EXPECT_EQ(n, out.size());
    return out;
}

TEST(RespCommand, WritesArraysOfBulkStrings) {
    const char* argv[] = {"GET", "k"};
    const size_t len[] = {3, 1};
    EXPECT_EQ(resp_command_bytes(2, len), 20u);
    EXPECT_EQ(format(2, argv, len), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

TEST(RespCommand, KeepsBinaryAndEmptyArgumentsWhole) {
    const std::string big(1234, 'x');
    const char* argv[] = {"SET", "a\r\nb", "", big.c_str()};
    const size_t len[] = {3, 4, 0, big.size()};
    EXPECT_EQ(format(4, argv, len),
              "*4\r\n$3\r\nSET\r\n$4\r\na\r\nb\r\n$0\r\n\r\n$1234\r\n" + big + "\r\n");
}

TEST(RespCommand, CountsTenArgumentsWithTwoDigits) {
    const char* argv[10];
    size_t len[10];
    for (int i = 0; i < 10; i++) {
        argv[i] = "0123456789";
        len[i] = static_cast<size_t>(i);
    }
    const std::string out = format(10, argv, len);
    EXPECT_EQ(out.substr(0, 5), "*10\r\n");
    EXPECT_EQ(out.substr(5, 6), "$0\r\n\r\n");
}

TEST(RespCommand, RefusesASmallBufferAndNoArguments) {
    const char* argv[] = {"PING"};
    const size_t len[] = {4};
    char buf[13];
    EXPECT_EQ(resp_command_bytes(1, len), 14u);
    EXPECT_EQ(write_resp_command(buf, sizeof buf, 1, argv, len), 0u);
    EXPECT_EQ(resp_command_bytes(0, len), 0u);
    EXPECT_EQ(write_resp_command(buf, sizeof buf, 0, argv, len), 0u);
}

}  // namespace
}  // namespace tailor
