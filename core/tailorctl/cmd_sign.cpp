// tailorctl sign / verify: making and checking visitor cookie values with an operator's key file.
//
//   tailorctl sign --key-file F [--kid K] [VID]   prints <vid>.<kid>.<stamp>.<mac>
//   tailorctl verify --key-file F VALUE           prints vid=... and kid=...
//
// Exit codes (commands.h): 0 done; 1 the key file is bad, the kid is not in
// it, or the value does not verify; 2 the command line is wrong. A vid may
// start with '-', so only arguments starting with "--" are options, and "--"
// ends them.
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "commands.h"
#include "tailor/visitor/keyring.h"
#include "tailor/visitor/visitor_id.h"

namespace tailorctl {
namespace {

constexpr char kSignUsage[] = "usage: tailorctl sign --key-file FILE [--kid KID] [VID]\n";
constexpr char kVerifyUsage[] = "usage: tailorctl verify --key-file FILE VALUE\n";

struct Options {
    std::optional<std::string_view> key_file;
    std::optional<std::string_view> kid;
    std::vector<std::string_view> positional;
    bool help = false;
};

void print_sv(std::FILE* out, std::string_view s) {
    std::fwrite(s.data(), 1, s.size(), out);
}

// Parses the options both commands share; prints the problem and returns
// false on a usage error. `allow_kid` is false for verify.
bool parse_options(const char* command, const Args& args, bool allow_kid, Options* out) {
    bool options_done = false;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (options_done || a.substr(0, 2) != "--") {
            if (!options_done && (a == "-h")) {
                out->help = true;
                continue;
            }
            out->positional.push_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        if (a == "--help") {
            out->help = true;
            continue;
        }
        std::string_view name = a;
        std::optional<std::string_view> value;
        if (const size_t eq = a.find('='); eq != std::string_view::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
        }
        std::optional<std::string_view>* slot = nullptr;
        if (name == "--key-file") {
            slot = &out->key_file;
        } else if (name == "--kid" && allow_kid) {
            slot = &out->kid;
        } else {
            std::fprintf(stderr, "tailorctl %s: unknown option \"%.*s\"\n", command,
                         static_cast<int>(name.size()), name.data());
            return false;
        }
        if (!value) {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "tailorctl %s: %.*s needs a value\n", command,
                             static_cast<int>(name.size()), name.data());
                return false;
            }
            value = args[++i];
        }
        if (*slot) {
            std::fprintf(stderr, "tailorctl %s: %.*s given twice\n", command,
                         static_cast<int>(name.size()), name.data());
            return false;
        }
        *slot = *value;
    }
    return true;
}

// Loads the key file or says why not (exit 1); the message never holds secrets.
std::optional<tailor::Keyring> load_keys(const char* command, std::string_view path) {
    tailor::KeyringError error;
    auto ring = tailor::Keyring::load_file(std::string(path), &error);
    if (!ring && error.line == 0) {
        std::fprintf(stderr, "tailorctl %s: %s\n", command,
                     error.message.c_str());  // names the path
    } else if (!ring) {
        std::fprintf(stderr, "tailorctl %s: %.*s: %s\n", command, static_cast<int>(path.size()),
                     path.data(), error.message.c_str());
    }
    return ring;
}

}  // namespace

int run_sign(const Args& args) {
    Options opt;
    if (!parse_options("sign", args, true, &opt)) {
        std::fputs(kSignUsage, stderr);
        return kExitUsage;
    }
    if (opt.help) {
        std::fputs(kSignUsage, stdout);
        return kExitOk;
    }
    if (!opt.key_file) {
        std::fprintf(stderr, "tailorctl sign: --key-file is required\n%s", kSignUsage);
        return kExitUsage;
    }
    if (opt.positional.size() > 1) {
        std::fprintf(stderr, "tailorctl sign: at most one VID\n%s", kSignUsage);
        return kExitUsage;
    }
    if (opt.kid && !tailor::is_valid_kid(*opt.kid)) {
        std::fprintf(stderr, "tailorctl sign: --kid must be 1..16 characters of [A-Za-z0-9_-]\n");
        return kExitUsage;
    }
    std::optional<tailor::VisitorId> vid;
    if (opt.positional.empty()) {
        vid = tailor::VisitorId::generate();
        if (!vid) {
            std::fprintf(stderr, "tailorctl sign: the random number generator failed\n");
            return kExitFailure;
        }
    } else {
        vid = tailor::VisitorId::from_string(opt.positional.front());
        if (!vid) {
            std::fprintf(stderr,
                         "tailorctl sign: VID must be 16..64 characters of [A-Za-z0-9_-]\n");
            return kExitUsage;
        }
    }
    const auto ring = load_keys("sign", *opt.key_file);
    if (!ring) {
        return kExitFailure;
    }
    const std::string_view kid = opt.kid ? *opt.kid : ring->current_kid();
    if (!ring->contains(kid)) {
        std::fprintf(stderr, "tailorctl sign: no key \"%.*s\" in %.*s\n",
                     static_cast<int>(kid.size()), kid.data(),
                     static_cast<int>(opt.key_file->size()), opt.key_file->data());
        return kExitFailure;
    }
    const auto cookie = tailor::sign_visitor_id(*vid, *ring, kid);
    if (!cookie) {
        std::fprintf(stderr, "tailorctl sign: OpenSSL could not compute the MAC\n");
        return kExitFailure;
    }
    print_sv(stdout, cookie->view());
    std::fputc('\n', stdout);
    return kExitOk;
}

int run_verify(const Args& args) {
    Options opt;
    if (!parse_options("verify", args, false, &opt)) {
        std::fputs(kVerifyUsage, stderr);
        return kExitUsage;
    }
    if (opt.help) {
        std::fputs(kVerifyUsage, stdout);
        return kExitOk;
    }
    if (!opt.key_file) {
        std::fprintf(stderr, "tailorctl verify: --key-file is required\n%s", kVerifyUsage);
        return kExitUsage;
    }
    if (opt.positional.size() != 1) {
        std::fprintf(stderr, "tailorctl verify: exactly one VALUE\n%s", kVerifyUsage);
        return kExitUsage;
    }
    const auto ring = load_keys("verify", *opt.key_file);
    if (!ring) {
        return kExitFailure;
    }
    const auto check = tailor::check_visitor_cookie(opt.positional.front(), *ring);
    if (check.status != tailor::VisitorCookieStatus::kValid) {
        // An operator tool may say which step failed, but for a bad MAC only
        // "invalid": never how close a guess came.
        const std::string_view reason = tailor::visitor_cookie_status_name(check.status);
        std::fprintf(stderr, "tailorctl verify: %.*s\n", static_cast<int>(reason.size()),
                     reason.data());
        return kExitFailure;
    }
    std::fputs("vid=", stdout);
    print_sv(stdout, check.vid->view());
    std::fputs("\nkid=", stdout);
    print_sv(stdout, check.kid);
    std::fputc('\n', stdout);
    return kExitOk;
}

}  // namespace tailorctl
