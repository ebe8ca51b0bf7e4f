// redis_script_sha1: the name Redis gives a Lua script in its script cache (for EVALSHA).
#pragma once

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

}  // namespace tailor
