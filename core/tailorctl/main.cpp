// tailorctl: the operator's and marketer's command line over tailor_core.
#include <cstdio>
#include <exception>
#include <string_view>

#include "commands.h"
#include "tailor/base/version.h"

namespace {

struct Command {
    std::string_view name;
    int (*run)(const tailorctl::Args&);
    std::string_view summary;
    void (*help)(std::FILE*);  // null: the summary is the usage
};

constexpr Command kCommands[] = {
    {"sign", tailorctl::run_sign, "sign a visitor id: sign --key-file F [--kid K] [VID]", nullptr},
    {"verify", tailorctl::run_verify, "verify a cookie value: verify --key-file F VALUE", nullptr},
    {"profile", tailorctl::run_profile,
     "profile encode|decode (JSON <-> MessagePack on stdio) | profile erase [--] VID --redis "
     "HOST:PORT",
     tailorctl::print_profile_usage},
    {"render", tailorctl::run_render,
     "render --page PAGE.html --slot NAME=FILE ... [--inject FILE] [--chunk-random SEED] "
     "[--stats]",
     nullptr},
    {"events", tailorctl::run_events,
     "events tail [--type T] [--vid V] [--from ID] [--count N] --redis HOST:PORT | "
     "events emit --type T --vid V [--ts MS] [--prop N=V]... --redis HOST:PORT",
     nullptr},
    {"triggers", tailorctl::run_triggers,
     "triggers run --redis HOST:PORT [--group G] [--consumer C] [--config FILE] [--now-ms MS] "
     "[--once]",
     nullptr},
    {"experiments", tailorctl::run_experiments,
     "experiments report --redis HOST:PORT [--conversion EVENT] [--control NAME] "
     "[--holdout NAME] [--format table|json]",
     nullptr},
    {"rules", tailorctl::run_rules,
     "rules check PACK.lua | rules test PACK.lua CASES.lua | rules render --rules PACK.lua ...",
     tailorctl::print_rules_usage},
};

// `-h` or `--help` anywhere before a `--` (after it, arguments are values:
// a visitor id may start with a dash).
bool asks_for_help(const tailorctl::Args& args) {
    for (std::string_view a : args) {
        if (a == "--") {
            return false;
        }
        if (a == "--help" || a == "-h") {
            return true;
        }
    }
    return false;
}

int help(const Command& c) {
    if (c.help != nullptr) {
        c.help(stdout);
    } else {
        // the summary reads "what: usage" or just the usage
        std::string_view usage = c.summary;
        if (size_t colon = usage.find(": "); colon != std::string_view::npos) {
            usage = usage.substr(colon + 2);
        }
        std::printf("usage: tailorctl %.*s\n", static_cast<int>(usage.size()), usage.data());
    }
    return tailorctl::kExitOk;
}

void usage(std::FILE* out) {
    std::fprintf(out, "usage: tailorctl COMMAND [ARGS]\n\ncommands:\n");
    for (const auto& c : kCommands) {
        std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(c.name.size()), c.name.data(),
                     static_cast<int>(c.summary.size()), c.summary.data());
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return tailorctl::kExitUsage;
    }
    std::string_view name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        usage(stdout);
        return tailorctl::kExitOk;
    }
    if (name == "--version") {
        auto v = tailor::version();
        std::printf("tailorctl %.*s\n", static_cast<int>(v.size()), v.data());
        return tailorctl::kExitOk;
    }
    tailorctl::Args args(argv + 2, argv + argc);
    for (const auto& c : kCommands) {
        if (c.name == name) {
            if (asks_for_help(args)) {
                return help(c);
            }
            try {
                return c.run(args);
            } catch (const std::exception& e) {
                std::fprintf(stderr, "tailorctl %s: %s\n", argv[1], e.what());
                return tailorctl::kExitFailure;
            }
        }
    }
    std::fprintf(stderr, "tailorctl: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return tailorctl::kExitUsage;
}
