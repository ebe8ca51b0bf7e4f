// tailorctl rules: check a rule pack, run its table-driven cases, preview a page for a profile.
//
//   tailorctl rules check PACK.lua... [--kit tailor.lua]
//   tailorctl rules test PACK.lua... CASES.lua [--kit tailor.lua]
//   tailorctl rules render PACK.lua... --profile P.json [--url /p/x] [--now T] [--vid V]
//                          [--device mobile] [--referrer google] [--logged-in] [--explain]
//                          [--caps CAPS.json] PAGE.html
#include <cmath>
#include <cstdio>
#include <ctime>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <lua.hpp>
#include <nlohmann/json.hpp>

#include "case_checks.h"
#include "commands.h"
#include "rules_cases.h"
#include "tailor/popup/caps.h"
#include "tailor/profile/decode.h"
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

// A decoded profile and the MessagePack bytes its views point into.
struct OwnedProfile {
    std::vector<uint8_t> profile_bytes;
    std::vector<uint8_t> live_bytes;
    tailor::Profile profile;
};

// JSON (docs/profile.md's schema) -> MessagePack -> decode_profile, so a
// preview reads a profile exactly as the module would.
std::unique_ptr<OwnedProfile> decode_json_profile(const json& shop, const json& live,
                                                  std::string* why) {
    auto owned = std::make_unique<OwnedProfile>();
    if (!shop.is_null()) {
        owned->profile_bytes = json::to_msgpack(shop);
    }
    if (!live.is_null()) {
        owned->live_bytes = json::to_msgpack(live);
    }
    auto as_sv = [](const std::vector<uint8_t>& b) {
        return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
    };
    tailor::ProfileDecodeResult r =
        tailor::decode_profile(as_sv(owned->profile_bytes), as_sv(owned->live_bytes));
    if (!r.profile) {
        *why = std::string("profile refused: ") + std::string(tailor::profile_error_name(r.error));
        return nullptr;
    }
    owned->profile = std::move(*r.profile);
    return owned;
}

// Pop-up caps as the module stores them (docs/popups.md's schema, as JSON)
// -> MessagePack -> decode_popup_caps. `caps` null: the visitor has none.
struct OwnedCaps {
    std::vector<uint8_t> bytes;
    tailor::PopupCapsDecodeResult decoded;

    [[nodiscard]] const tailor::PopupCaps* usable() const {
        return decoded.error == tailor::PopupCapsError::kNone ? &decoded.caps : nullptr;
    }
};

std::unique_ptr<OwnedCaps> decode_json_caps(const json& caps) {
    auto owned = std::make_unique<OwnedCaps>();
    if (!caps.is_null()) {
        json blob = caps;
        // a case may write just the per-pop-up map
        if (blob.is_object() && !blob.contains("p") && !blob.contains("v")) {
            blob = json{{"v", 1}, {"p", caps}};
        }
        owned->bytes = json::to_msgpack(blob);
    }
    owned->decoded = tailor::decode_popup_caps(
        std::string_view(reinterpret_cast<const char*>(owned->bytes.data()), owned->bytes.size()));
    return owned;
}

// Request facts from a case's `request` table or the command line. The
// strings live in `store` so the views stay valid.
tailor::RequestFacts facts_from(const json& request, const Options& o, int64_t now,
                                std::deque<std::string>& store,
                                std::vector<tailor::RequestCookie>& cookies) {
    tailor::RequestFacts f;
    auto keep = [&](std::string s) -> std::string_view {
        store.push_back(std::move(s));
        return store.back();
    };
    auto str = [&](const char* key, const std::string& fallback) -> std::string_view {
        if (request.is_object() && request.contains(key) && request[key].is_string()) {
            return keep(request[key].get<std::string>());
        }
        return keep(fallback);
    };
    std::string url = o.url.empty() ? "/" : o.url;
    std::string_view full = str("url", url);
    size_t q = full.find('?');
    f.path = full.substr(0, q);
    f.query = q == std::string_view::npos ? std::string_view() : full.substr(q + 1);
    f.device_class = str("device", o.device);
    f.referrer_source = str("referrer", o.referrer);
    f.visitor_id = str("vid", o.vid);
    f.now = now;
    f.logged_in = o.logged_in;
    if (request.is_object() && request.contains("logged_in") && request["logged_in"].is_boolean()) {
        f.logged_in = request["logged_in"].get<bool>();
    }
    if (request.is_object() && request.contains("cookies") && request["cookies"].is_object()) {
        for (auto& [name, value] : request["cookies"].items()) {
            if (value.is_string()) {
                cookies.push_back({keep(name), keep(value.get<std::string>())});
            }
        }
    }
    f.cookies = cookies.data();
    f.cookie_count = cookies.size();
    return f;
}

void print_trace(const tailor::RuleTrace& trace) {
    for (const auto& e : trace.entries) {
        std::printf("  %-16s %-20s %-13s %s\n", e.slot.c_str(), e.rule.c_str(),
                    tailor::rule_outcome_name(e.outcome), e.detail.c_str());
    }
}

constexpr const char* kPopupsSlot = "(popups)";

// A rule's (or pop-up's) trace entry in `slot`, or null.
const tailor::RuleTraceEntry* entry_of(const tailor::RuleTrace& trace, const std::string& slot,
                                       const std::string& rule) {
    for (const auto& e : trace.entries) {
        if (e.slot == slot && e.rule == rule) {
            return &e;
        }
    }
    return nullptr;
}

std::string winner(const tailor::RuleTrace& trace, const std::string& slot) {
    for (const auto& e : trace.entries) {
        if (e.slot == slot && e.outcome == tailor::RuleOutcome::kWon) {
            return e.rule;
        }
    }
    return "";
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
            tailor::RequestFacts f = facts_from(k.request, o, k.now, store, cookies);
            auto caps = decode_json_caps(k.caps);
            if (caps->decoded.error != tailor::PopupCapsError::kNone) {
                problems.push_back("caps refused: " +
                                   std::string(tailor::popup_caps_error_name(caps->decoded.error)));
            }
            auto summary = rt->evaluate(profile->profile, f, caps->usable(), &d, &trace);
            if (!summary.ok) {
                problems.push_back("evaluation failed: " + summary.error);
            }
            if (k.expect.is_object()) {
                for (auto& [slot, want] : k.expect.items()) {
                    std::string got = winner(trace, slot);
                    std::string wanted = want.is_string() ? want.get<std::string>() : "";
                    if (got != wanted) {
                        problems.push_back("slot " + slot + ": expected " +
                                           (wanted.empty() ? "the default" : wanted) + ", got " +
                                           (got.empty() ? "the default" : got));
                    }
                }
            }
            check_case_html(k, d, &problems);
            if (!k.popup.is_null()) {
                std::string got = winner(trace, kPopupsSlot);
                std::string wanted = k.popup.is_string() ? k.popup.get<std::string>() : "";
                if (got != wanted) {
                    problems.push_back("popup: expected " + (wanted.empty() ? "none" : wanted) +
                                       ", got " + (got.empty() ? "none" : got));
                }
            }
            if (k.popup_why.is_object()) {
                for (auto& [id, want] : k.popup_why.items()) {
                    const tailor::RuleTraceEntry* e = entry_of(trace, kPopupsSlot, id);
                    std::string wanted = want.is_string() ? want.get<std::string>() : "";
                    std::string got =
                        e == nullptr ? "not run" : tailor::rule_outcome_name(e->outcome);
                    bool ok = e != nullptr &&
                              (got == wanted || e->detail == wanted ||
                               e->detail.compare(0, wanted.size() + 1, wanted + " ") == 0);
                    if (!ok) {
                        problems.push_back("popup " + id + ": expected " + wanted + ", got " + got +
                                           (e && !e->detail.empty() ? " " + e->detail : ""));
                    }
                }
            }
            if (k.exposed.is_object()) {
                for (auto& [experiment, want] : k.exposed.items()) {
                    std::string got;
                    for (const tailor::Exposure& x : d.exposures()) {
                        if (x.experiment == experiment) {
                            got = x.variant;
                        }
                    }
                    std::string wanted = want.is_string() ? want.get<std::string>() : "";
                    if (got != wanted) {
                        problems.push_back("exposed " + experiment + ": expected " +
                                           (wanted.empty() ? "none" : wanted) + ", got " +
                                           (got.empty() ? "none" : got));
                    }
                }
            }
            if (!k.segment.empty() && d.variable("segment") != k.segment) {
                problems.push_back("segment: expected " + k.segment + ", got " +
                                   std::string(d.variable("segment").value_or("none")));
            }
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
    tailor::RequestFacts f = facts_from(json(nullptr), o, o.now, store, cookies);
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
