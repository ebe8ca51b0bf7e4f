// SCAFFOLD: replaced by the profile work (encode/decode).
#include <cstdio>
#include "commands.h"
namespace tailorctl {
int run_profile(const Args&) { std::fprintf(stderr, "profile: not built yet\n"); return kExitUsage; }
}  // namespace tailorctl
