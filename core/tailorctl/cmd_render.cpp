// SCAFFOLD: replaced by the rewriter work (render).
#include <cstdio>
#include "commands.h"
namespace tailorctl {
int run_render(const Args&) { std::fprintf(stderr, "render: not built yet\n"); return kExitUsage; }
}  // namespace tailorctl
