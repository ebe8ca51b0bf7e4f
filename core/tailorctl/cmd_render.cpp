// tailorctl render: preview a page as the module would stream it, with given slot fills.
//
//   tailorctl render --page PAGE.html [--slot NAME=FILE]... [--inject FILE]
//                    [--chunk-random SEED] [--stats]
//
// Runs the SlotRewriter over the page and prints the result to stdout.
// --chunk-random feeds the page in random-sized chunks (1..256 bytes, from
// SEED) the way nginx hands over buffers, to show that split tags change
// nothing. --stats prints what the rewriter did to stderr. Exit codes
// (commands.h): 0 done; 1 a file cannot be read; 2 the command line is wrong.
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "tailor/html/slot_rewriter.h"

namespace tailorctl {
namespace {

constexpr char kUsage[] =
    "usage: tailorctl render --page PAGE.html [--slot NAME=FILE]... [--inject FILE]\n"
    "                        [--chunk-random SEED] [--stats]\n";

struct SlotArg {
    std::string_view name;
    std::string_view file;
};

struct Options {
    std::optional<std::string_view> page;
    std::vector<SlotArg> slots;
    std::optional<std::string_view> inject;
    bool chunk_random = false;
    unsigned long long seed = 0;
    bool stats = false;
    bool help = false;
};

int usage_error(const char* what, std::string_view detail) {
    std::fprintf(stderr, "tailorctl render: %s \"%.*s\"\n%s", what, static_cast<int>(detail.size()),
                 detail.data(), kUsage);
    return kExitUsage;
}

// Parses the command line; returns kExitOk or the usage exit code.
int parse(const Args& args, Options* out) {
    for (size_t i = 0; i < args.size(); ++i) {
        std::string_view name = args[i];
        std::optional<std::string_view> value;
        if (name == "--help" || name == "-h") {
            out->help = true;
            continue;
        }
        if (name == "--stats") {
            out->stats = true;
            continue;
        }
        if (name.substr(0, 2) != "--") {
            return usage_error("unexpected argument", name);
        }
        if (const size_t eq = name.find('='); eq != std::string_view::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (name != "--page" && name != "--slot" && name != "--inject" &&
            name != "--chunk-random") {
            return usage_error("unknown option", name);
        }
        if (!value) {
            if (i + 1 >= args.size()) {
                return usage_error("missing value for", name);
            }
            value = args[++i];
        }
        if (name == "--page") {
            out->page = *value;
        } else if (name == "--inject") {
            out->inject = *value;
        } else if (name == "--slot") {
            const size_t eq = value->find('=');
            if (eq == std::string_view::npos || eq == 0 || eq + 1 == value->size()) {
                return usage_error("--slot wants NAME=FILE, got", *value);
            }
            out->slots.push_back({value->substr(0, eq), value->substr(eq + 1)});
        } else {
            const std::string digits(*value);
            char* end = nullptr;
            const unsigned long long seed = std::strtoull(digits.c_str(), &end, 10);
            if (digits.empty() || *end != '\0' || digits[0] == '-') {
                return usage_error("--chunk-random wants a number, got", *value);
            }
            out->chunk_random = true;
            out->seed = seed;
        }
    }
    if (!out->help && !out->page) {
        std::fputs("tailorctl render: --page is required\n", stderr);
        std::fputs(kUsage, stderr);
        return kExitUsage;
    }
    return kExitOk;
}

bool read_file(std::string_view path, std::string* out) {
    std::ifstream in{std::string(path), std::ios::binary};
    if (!in) {
        std::fprintf(stderr, "tailorctl render: cannot read \"%.*s\"\n",
                     static_cast<int>(path.size()), path.data());
        return false;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    *out = ss.str();
    return true;
}

void write_stdout(void*, std::string_view bytes, tailor::PieceOrigin) {
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
}

}  // namespace

namespace {

// `render --rules PACK.lua --profile P.json PAGE.html`: the marketer's preview,
// which the rules command owns; everything else is a plain fills render.
int forward_to_rules(const Args& args) {
    Args forwarded{"render"};
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--rules") {
            if (i + 1 == args.size()) {
                std::fputs("tailorctl render: --rules needs a pack file\n", stderr);
                return kExitUsage;
            }
            forwarded.push_back(args[++i]);  // packs are positional there
        } else {
            forwarded.push_back(args[i]);
        }
    }
    return run_rules(forwarded);
}

}  // namespace

int run_render(const Args& args) {
    for (const auto& a : args) {
        if (a == "--rules") {
            return forward_to_rules(args);
        }
    }
    Options opt;
    if (const int rc = parse(args, &opt); rc != kExitOk) {
        return rc;
    }
    if (opt.help) {
        std::fputs(kUsage, stdout);
        return kExitOk;
    }
    std::string page;
    std::string injection;
    std::deque<std::string> htmls;  // a deque keeps the strings where SlotFill views them
    std::vector<tailor::SlotFill> fills;
    if (!read_file(*opt.page, &page) || (opt.inject && !read_file(*opt.inject, &injection))) {
        return kExitFailure;
    }
    for (const SlotArg& s : opt.slots) {
        htmls.emplace_back();
        if (!read_file(s.file, &htmls.back())) {
            return kExitFailure;
        }
        fills.push_back({s.name, htmls.back()});
    }

    tailor::SlotRewriter rw(fills, injection);
    const tailor::SlotRewriterSink sink{write_stdout, nullptr};
    const std::string_view all(page);
    if (opt.chunk_random) {
        std::mt19937_64 rng(opt.seed);
        for (size_t at = 0; at < all.size();) {
            const size_t n = 1 + rng() % 256;
            rw.write(all.substr(at, n), sink);
            at += n;
        }
    } else {
        rw.write(all, sink);
    }
    rw.finish(sink);
    std::fflush(stdout);

    if (opt.stats) {
        const tailor::SlotRewriterStats& st = rw.stats();
        std::fprintf(stderr,
                     "slots_seen=%u slots_replaced=%u slots_bailed=%u injected=%s "
                     "bytes_held_max=%zu\n",
                     st.slots_seen, st.slots_replaced, st.slots_bailed, st.injected ? "yes" : "no",
                     st.bytes_held_max);
    }
    return std::ferror(stdout) ? kExitFailure : kExitOk;
}

}  // namespace tailorctl
