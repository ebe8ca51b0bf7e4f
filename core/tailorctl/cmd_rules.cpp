// tailorctl rules: check a rule pack, run its table-driven cases, preview a page for a profile.
//
//   tailorctl rules check PACK.lua... [--kit tailor.lua]
//   tailorctl rules test PACK.lua... CASES.lua [--kit tailor.lua]
//   tailorctl rules render PACK.lua... --profile P.json [--url /p/x] [--now T] [--vid V]
//                          [--device mobile] [--referrer google] [--logged-in] [--explain]
//                          [--caps CAPS.json] PAGE.html
#include <cstdio>
#include <ctime>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "case_checks.h"
#include "case_outcomes.h"
#include "commands.h"
#include "rules_cases.h"
#include "rules_inputs.h"
#include "tailor/rules/pack.h"
#include "tailor/rules/compile.h"
#include "tailor/rules/runtime.h"
#include "tailor/html/slot_rewriter.h"

namespace tailorctl {
namespace {

using nlohmann::json;

void print_usage() {
    print_rules_usage(stderr);
}

}  // namespace

void print_rules_usage(std::FILE* out) {
    std::fprintf(out,
                 "usage: tailorctl rules check PACK.lua... [--kit tailor.lua]\n"
                 "       tailorctl rules test PACK.lua... CASES.lua [--kit tailor.lua]\n"
                 "       tailorctl rules render PACK.lua... --profile P.json [--url /p/x] "
                 "[--now UNIX] [--vid V]\n"
                 "                 [--device mobile] [--referrer SOURCE] [--logged-in] "
                 "[--explain]\n"
                 "                 [--caps CAPS.json] PAGE.html\n");
}

namespace {

struct Options {
    std::vector<std::string> files;  // positional
    std::string kit;
    std::string profile;
    std::string caps;
    std::string url;
    std::string vid = "preview-visitor";
    std::string device = "desktop";
    std::string referrer;
    int64_t now = 0;
    bool logged_in = false;
    bool explain = false;
};

std::optional<Options> parse(const Args& args, size_t first) {
    Options o;
    for (size_t i = first; i < args.size(); ++i) {
        std::string_view a = args[i];
        auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size()) {
                std::fprintf(stderr, "tailorctl rules: %.*s needs a value\n",
                             static_cast<int>(a.size()), a.data());
                return std::nullopt;
            }
            return std::string(args[++i]);
        };
        std::optional<std::string> v;
        if (a == "--kit" || a == "--profile" || a == "--url" || a == "--vid" || a == "--device" ||
            a == "--referrer" || a == "--now" || a == "--caps") {
            if (!(v = value())) {
                return std::nullopt;
            }
        }
        if (a == "--kit") {
            o.kit = *v;
        } else if (a == "--profile") {
            o.profile = *v;
        } else if (a == "--caps") {
            o.caps = *v;
        } else if (a == "--url") {
            o.url = *v;
        } else if (a == "--vid") {
            o.vid = *v;
        } else if (a == "--device") {
            o.device = *v;
        } else if (a == "--referrer") {
            o.referrer = *v;
        } else if (a == "--now") {
            o.now = std::strtoll(v->c_str(), nullptr, 10);
        } else if (a == "--logged-in") {
            o.logged_in = true;
        } else if (a == "--explain") {
            o.explain = true;
        } else if (a.size() > 1 && a[0] == '-') {
            std::fprintf(stderr, "tailorctl rules: unknown option %.*s\n",
                         static_cast<int>(a.size()), a.data());
            return std::nullopt;
        } else {
            o.files.emplace_back(a);
        }
    }
    if (o.now == 0) {
        o.now = static_cast<int64_t>(std::time(nullptr));
    }
    return o;
}

std::optional<tailor::RulePack> compile(const std::vector<std::string>& files, const Options& o) {
    tailor::RulePackOptions po;
    po.kit_path = o.kit;
    tailor::RulesError err;
    auto pack = tailor::compile_rule_pack_files(files, po, &err);
    if (!pack) {
        std::fprintf(stderr, "%s\n", err.message().c_str());
    }
    return pack;
}

// What the command line says of the request, for what a case's `request` omits.
RequestDefaults request_defaults(const Options& o) {
    return {o.url, o.device, o.referrer, o.vid, o.logged_in};
}

int run_check(const Options& o) {
    if (o.files.empty()) {
        print_usage();
        return kExitUsage;
    }
    auto pack = compile(o.files, o);
    if (!pack) {
        return kExitFailure;
    }
    std::printf("ok: %zu slots, %zu rules, %zu experiments\n", pack->slots.size(),
                pack->rules.size(), pack->experiments.size());
    for (const auto& r : pack->rules) {
        std::printf("  %-16s %-20s %-16s priority %-4g %s:%d%s%s\n", r.slot.c_str(), r.id.c_str(),
                    r.kind.c_str(), r.priority, r.file.c_str(), r.line,
                    r.experiment.empty() ? "" : "  experiment ",
                    r.experiment.empty() ? "" : (r.experiment + "/" + r.variant).c_str());
    }
    return kExitOk;
}

int run_test(const Options& o) {
    if (o.files.size() < 2) {
        print_usage();
        return kExitUsage;
    }
    std::vector<std::string> packs(o.files.begin(), o.files.end() - 1);
    auto pack = compile(packs, o);
    if (!pack) {
        return kExitFailure;
    }
    auto cases = load_cases(o.files.back(), o.now);
    if (!cases) {
        return kExitFailure;
    }
    tailor::RulesError err;
    auto rt = tailor::RuleRuntime::create(*pack, &err);
    if (!rt) {
        std::fprintf(stderr, "%s\n", err.message().c_str());
        return kExitFailure;
    }
    int failed = 0;
    for (const Case& k : *cases) {
        std::string why;
        auto profile = decode_json_profile(k.profile, k.live, &why);
        std::vector<std::string> problems = case_typos(k, *pack);
        tailor::Decision d;
        tailor::RuleTrace trace;
        if (!profile) {
            problems.push_back(why);
        } else {
            std::deque<std::string> store;
            std::vector<tailor::RequestCookie> cookies;
            tailor::RequestFacts f =
                facts_from(k.request, request_defaults(o), k.now, store, cookies);
            auto caps = decode_json_caps(k.caps);
            if (caps->decoded.error != tailor::PopupCapsError::kNone) {
                problems.push_back("caps refused: " +
                                   std::string(tailor::popup_caps_error_name(caps->decoded.error)));
            }
            auto summary = rt->evaluate(profile->profile, f, caps->usable(), &d, &trace);
            if (!summary.ok) {
                problems.push_back("evaluation failed: " + summary.error);
            }
            check_case_html(k, d, &problems);
            check_case_outcomes(k, d, trace, &problems);
        }
        if (problems.empty()) {
            std::printf("ok   %s\n", k.name.c_str());
        } else {
            ++failed;
            std::printf("FAIL %s\n", k.name.c_str());
            for (const auto& p : problems) {
                std::printf("     %s\n", p.c_str());
            }
            if (o.explain || !trace.entries.empty()) {
                print_trace(trace);
            }
        }
    }
    std::printf("%zu cases, %d failed\n", cases->size(), failed);
    return failed == 0 ? kExitOk : kExitFailure;
}

int run_render(const Options& o) {
    if (o.files.size() < 2 || o.profile.empty()) {
        print_usage();
        return kExitUsage;
    }
    std::vector<std::string> packs(o.files.begin(), o.files.end() - 1);
    auto pack = compile(packs, o);
    if (!pack) {
        return kExitFailure;
    }
    std::string why;
    auto page = tailor::read_text_file(o.files.back(), &why);
    auto profile_text = tailor::read_text_file(o.profile, &why);
    if (!page || !profile_text) {
        std::fprintf(stderr, "tailorctl rules render: %s\n", why.c_str());
        return kExitFailure;
    }
    json pj = json::parse(*profile_text, nullptr, false);
    if (pj.is_discarded()) {
        std::fprintf(stderr, "%s: not JSON\n", o.profile.c_str());
        return kExitFailure;
    }
    json live = pj.is_object() && pj.contains("live") ? pj["live"] : json(nullptr);
    if (pj.is_object()) {
        pj.erase("live");
    }
    auto profile = decode_json_profile(pj, live, &why);
    if (!profile) {
        std::fprintf(stderr, "%s: %s\n", o.profile.c_str(), why.c_str());
        return kExitFailure;
    }
    tailor::RulesError err;
    auto rt = tailor::RuleRuntime::create(*pack, &err);
    if (!rt) {
        std::fprintf(stderr, "%s\n", err.message().c_str());
        return kExitFailure;
    }
    std::deque<std::string> store;
    std::vector<tailor::RequestCookie> cookies;
    tailor::RequestFacts f = facts_from(json(nullptr), request_defaults(o), o.now, store, cookies);
    json caps_json(nullptr);
    if (!o.caps.empty()) {
        auto caps_text = tailor::read_text_file(o.caps, &why);
        if (!caps_text) {
            std::fprintf(stderr, "tailorctl rules render: %s\n", why.c_str());
            return kExitFailure;
        }
        caps_json = json::parse(*caps_text, nullptr, false);
        if (caps_json.is_discarded()) {
            std::fprintf(stderr, "%s: not JSON\n", o.caps.c_str());
            return kExitFailure;
        }
    }
    auto caps = decode_json_caps(caps_json);
    tailor::Decision d;
    tailor::RuleTrace trace;
    auto summary = rt->evaluate(profile->profile, f, caps->usable(), &d, &trace);
    std::string out = tailor::rewrite_slots(*page, d.fills(), d.directives_html());
    std::fwrite(out.data(), 1, out.size(), stdout);
    if (o.explain) {
        std::printf("\n<!-- tailor explain\n");
        for (const auto& [name, value] : d.variables()) {
            std::printf("  variable %s = %s\n", name.c_str(), value.c_str());
        }
        for (const auto& e : d.exposures()) {
            std::printf("  exposure %s: %s (rule %s)\n", e.experiment.c_str(), e.variant.c_str(),
                        e.rule_id.c_str());
        }
        if (caps->decoded.error != tailor::PopupCapsError::kNone) {
            std::printf("  caps refused: %s (no pop-up is shown)\n",
                        std::string(tailor::popup_caps_error_name(caps->decoded.error)).c_str());
        }
        print_trace(trace);
        if (!summary.ok) {
            std::printf("  evaluation failed: %s\n", summary.error.c_str());
        }
        std::printf("-->\n");
    }
    return summary.ok ? kExitOk : kExitFailure;
}

}  // namespace

int run_rules(const Args& args) {
    if (args.empty()) {
        print_usage();
        return kExitUsage;
    }
    auto o = parse(args, 1);
    if (!o) {
        print_usage();
        return kExitUsage;
    }
    if (args[0] == "check") {
        return run_check(*o);
    }
    if (args[0] == "test") {
        return run_test(*o);
    }
    if (args[0] == "render") {
        return run_render(*o);
    }
    print_usage();
    return kExitUsage;
}

}  // namespace tailorctl
