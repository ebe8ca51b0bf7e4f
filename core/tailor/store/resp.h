// RespCommand: a command in Redis's wire form (RESP2 array of bulk strings).
//
// hiredis formats each argument with sdscatfmt, about a thousand instructions
// an argument; a page view's read has seven. Writing the few bytes of framing
// directly and handing hiredis the finished command
// (redisAsyncFormattedCommand) costs a copy.
#pragma once

#include <cstddef>
#include <string>

namespace tailor {

// resp_command_bytes
//
// The size of the command `argv[0..argc)` in RESP.
//
// Example:
//   const char* argv[] = {"GET", "k"}; size_t len[] = {3, 1};
//   resp_command_bytes(2, len) == 20  // "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
[[nodiscard]] size_t resp_command_bytes(int argc, const size_t* argvlen) noexcept;

// write_resp_command
//
// Writes the command to `out` and returns the bytes written, or 0 if `cap`
// is smaller than resp_command_bytes() or argc < 1.
[[nodiscard]] size_t write_resp_command(char* out, size_t cap, int argc, const char* const* argv,
                                        const size_t* argvlen) noexcept;

// append_resp_command
//
// Appends the command to `out` and returns the bytes appended, or 0 (nothing appended) when
// argc < 1. Throws std::bad_alloc as std::string does.
size_t append_resp_command(std::string* out, int argc, const char* const* argv,
                           const size_t* argvlen);

}  // namespace tailor
