// SCAFFOLD: replaced by the identity work (sign/verify).
#include <cstdio>
#include "commands.h"
namespace tailorctl {
int run_sign(const Args&) { std::fprintf(stderr, "sign: not built yet\n"); return kExitUsage; }
int run_verify(const Args&) { std::fprintf(stderr, "verify: not built yet\n"); return kExitUsage; }
}  // namespace tailorctl
