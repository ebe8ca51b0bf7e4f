// tailorctl's subcommands; each lives in its own cmd_*.cpp and returns an exit code.
#pragma once

#include <cstdio>
#include <string_view>
#include <vector>

namespace tailorctl {

using Args = std::vector<std::string_view>;

// Exit codes shared by all subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the thing checked is bad (forged cookie, bad schema)
inline constexpr int kExitUsage = 2;    // the command line is wrong

int run_sign(const Args& args);
int run_verify(const Args& args);
int run_profile(const Args& args);
int run_render(const Args& args);
int run_rules(const Args& args);
int run_events(const Args& args);
int run_profile_erase(const Args& args);
int run_events_emit(const Args& args);
int run_triggers(const Args& args);
int run_experiments(const Args& args);

// Each command's full usage, for `tailorctl COMMAND --help` (main.cpp answers
// it for every command, on stdout, exit 0).
void print_rules_usage(std::FILE* out);
void print_profile_usage(std::FILE* out);

}  // namespace tailorctl
