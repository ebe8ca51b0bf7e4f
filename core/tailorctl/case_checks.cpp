// The checks of a rules test case that are not about which rule won: the names it uses
// and what its slots' html holds or must not hold.
#include "case_checks.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "profile_schema.h"

namespace tailorctl {

using nlohmann::json;

namespace {

constexpr const char* kAnySlot = "*";

// The strings a `contains` or `not_contains` entry names: one, or a list.
// False when it is neither.
bool texts_of(const json& want, std::vector<std::string>* out) {
    if (want.is_string()) {
        out->push_back(want.get<std::string>());
        return true;
    }
    if (!want.is_array() || want.empty()) {
        return false;
    }
    for (const json& w : want) {
        if (!w.is_string()) {
            return false;
        }
        out->push_back(w.get<std::string>());
    }
    return true;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) {
        out += (out.empty() ? "" : ", ") + n;
    }
    return out.empty() ? "none" : out;
}

// What the decision shows for `slot` ("*": every fill and the directives, in order).
std::optional<std::string> shown(const tailor::Decision& d, const std::string& slot) {
    if (slot != kAnySlot) {
        auto html = d.slot(slot);
        return html ? std::optional<std::string>(std::string(*html)) : std::nullopt;
    }
    std::string all;
    for (const tailor::SlotFill& f : d.fills()) {
        all.append(f.html);
        all += '\n';
    }
    all.append(d.directives_html());
    return all;
}

// Fields of a case's profile (or live map) that the schema does not know: typos the
// decoder would silently ignore. Wrong types and bounds are left to the decoder, as a case
// may test them on purpose.
void unknown_profile_fields(const json& j, bool live, std::vector<std::string>* problems) {
    if (j.is_null()) {
        return;
    }
    const std::vector<std::string> strict = check_profile_json(j, live, false);
    const std::vector<std::string> lenient = check_profile_json(j, live, true);
    for (const std::string& m : strict) {
        if (std::find(lenient.begin(), lenient.end(), m) != lenient.end()) {
            continue;
        }
        std::string where = m.substr(0, m.find(": "));
        problems->push_back(
            std::string(live ? "unknown live field \"" : "unknown profile field \"") + where +
            "\" (docs/profile.md)");
    }
}

}  // namespace

// Names in the case that the pack does not declare, and fields no case has: a typo there
// would otherwise make a check pass without checking anything.
std::vector<std::string> case_typos(const Case& k, const tailor::RulePack& pack) {
    std::vector<std::string> problems;
    for (const std::string& f : k.unknown_fields) {
        problems.push_back("unknown case field \"" + f + "\" (known: name, now, profile, live, " +
                           "request, expect, contains, not_contains, caps, popup, popup_why, " +
                           "segment, exposed)");
    }
    std::vector<std::string> slots;  // the page's: the kit files pop-ups under "(popups)"
    for (const std::string& slot : pack.slots) {
        if (slot != "(popups)") {
            slots.push_back(slot);
        }
    }
    std::vector<std::string> popups;
    for (const tailor::RuleInfo& r : pack.rules) {
        if (r.kind == "popup") {
            popups.push_back(r.id);
        }
    }
    auto known = [](const std::vector<std::string>& names, const std::string& name) {
        return std::find(names.begin(), names.end(), name) != names.end();
    };
    const std::pair<const char*, const json*> slot_maps[] = {
        {"expect", &k.expect}, {"contains", &k.contains}, {"not_contains", &k.not_contains}};
    for (const auto& [field, map] : slot_maps) {
        if (map->is_null()) {
            continue;
        }
        if (!map->is_object()) {
            problems.push_back(std::string(field) + ": expected a table of slot = value");
            continue;
        }
        for (const auto& item : map->items()) {
            bool any = item.key() == kAnySlot && std::string_view(field) != "expect";
            if (!any && !known(slots, item.key())) {
                problems.push_back("unknown slot \"" + item.key() + "\" in " + field +
                                   " (the pack's slots: " + joined(slots) + ")");
            }
        }
    }
    if (k.popup.is_string() && !known(popups, k.popup.get<std::string>())) {
        problems.push_back("unknown pop-up \"" + k.popup.get<std::string>() +
                           "\" in popup (the pack's pop-ups: " + joined(popups) + ")");
    }
    if (k.popup_why.is_object()) {
        for (const auto& item : k.popup_why.items()) {
            if (!known(popups, item.key())) {
                problems.push_back("unknown pop-up \"" + item.key() +
                                   "\" in popup_why (the pack's pop-ups: " + joined(popups) + ")");
            }
        }
    }
    if (!k.exposed.is_null() && !k.exposed.is_object()) {
        problems.push_back("exposed: expected a table of experiment = variant or false");
    } else if (k.exposed.is_object()) {
        std::vector<std::string> experiments;
        for (const tailor::ExperimentSpec& e : pack.declared_experiments) {
            experiments.push_back(e.name);
        }
        for (const auto& item : k.exposed.items()) {
            if (!known(experiments, item.key())) {
                problems.push_back("unknown experiment \"" + item.key() +
                                   "\" in exposed (the pack's experiments: " + joined(experiments) +
                                   ")");
            }
        }
    }
    unknown_profile_fields(k.profile, false, &problems);
    unknown_profile_fields(k.live, true, &problems);
    return problems;
}

void check_case_html(const Case& k, const tailor::Decision& d,
                     std::vector<std::string>* problems_out) {
    std::vector<std::string>& problems = *problems_out;
    if (k.contains.is_object()) {
        for (auto& [slot, want] : k.contains.items()) {
            std::vector<std::string> texts;
            if (!texts_of(want, &texts)) {
                problems.push_back("contains " + slot + ": expected a string or a list " +
                                   "of strings, got " + want.dump());
                continue;
            }
            std::optional<std::string> html = shown(d, slot);
            for (const std::string& text : texts) {
                if (!html || html->find(text) == std::string::npos) {
                    problems.push_back("slot " + slot + ": html does not contain " +
                                       json(text).dump() + " (it is " +
                                       (html ? "\"" + *html + "\"" : "default") + ")");
                }
            }
        }
    }
    if (k.not_contains.is_object()) {
        for (auto& [slot, want] : k.not_contains.items()) {
            std::vector<std::string> texts;
            if (!texts_of(want, &texts)) {
                problems.push_back("not_contains " + slot + ": expected a string or a " +
                                   "list of strings, got " + want.dump());
                continue;
            }
            // a default slot holds none of the pack's text
            std::optional<std::string> html = shown(d, slot);
            for (const std::string& text : texts) {
                if (html && html->find(text) != std::string::npos) {
                    problems.push_back("slot " + slot + ": html contains " + json(text).dump() +
                                       " (it is \"" + *html + "\")");
                }
            }
        }
    }
}

}  // namespace tailorctl
