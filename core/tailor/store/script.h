// redis_script_sha1: the name Redis gives a Lua script in its script cache (for EVALSHA).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tailor {

// redis_script_sha1
//
// The SHA-1 of `source` in lower-case hex, as SCRIPT LOAD returns it.
//
// Example:
//   redis_script_sha1("return 1") == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
[[nodiscard]] std::string redis_script_sha1(std::string_view source);

// use_eval_source
//
// Turns `EVALSHA <sha> ...` in argv[0..argc) into `EVAL <source> ...`, for a
// server whose script cache lacks the script (NOSCRIPT). Nothing if argc < 2.
//
// Example:
//   use_eval_source(argv, argvlen, argc, kLiveScript);  // argv[0] == "EVAL"
void use_eval_source(const char** argv, size_t* argvlen, size_t argc,
                     std::string_view source) noexcept;

}  // namespace tailor
