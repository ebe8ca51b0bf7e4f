// The checks of a rules test case about which rule, pop-up and variant won.
#include "case_outcomes.h"

#include <cstdio>

#include <nlohmann/json.hpp>

namespace tailorctl {

namespace {

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

}  // namespace

void check_case_outcomes(const Case& k, const tailor::Decision& d, const tailor::RuleTrace& trace,
                         std::vector<std::string>* problems) {
    if (k.expect.is_object()) {
        for (auto& [slot, want] : k.expect.items()) {
            std::string got = winner(trace, slot);
            std::string wanted = want.is_string() ? want.get<std::string>() : "";
            if (got != wanted) {
                problems->push_back("slot " + slot + ": expected " +
                                    (wanted.empty() ? "the default" : wanted) + ", got " +
                                    (got.empty() ? "the default" : got));
            }
        }
    }
    if (!k.popup.is_null()) {
        std::string got = winner(trace, kPopupsSlot);
        std::string wanted = k.popup.is_string() ? k.popup.get<std::string>() : "";
        if (got != wanted) {
            problems->push_back("popup: expected " + (wanted.empty() ? "none" : wanted) + ", got " +
                                (got.empty() ? "none" : got));
        }
    }
    if (k.popup_why.is_object()) {
        for (auto& [id, want] : k.popup_why.items()) {
            const tailor::RuleTraceEntry* e = entry_of(trace, kPopupsSlot, id);
            std::string wanted = want.is_string() ? want.get<std::string>() : "";
            std::string got = e == nullptr ? "not run" : tailor::rule_outcome_name(e->outcome);
            bool ok = e != nullptr && (got == wanted || e->detail == wanted ||
                                       e->detail.compare(0, wanted.size() + 1, wanted + " ") == 0);
            if (!ok) {
                problems->push_back("popup " + id + ": expected " + wanted + ", got " + got +
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
                problems->push_back("exposed " + experiment + ": expected " +
                                    (wanted.empty() ? "none" : wanted) + ", got " +
                                    (got.empty() ? "none" : got));
            }
        }
    }
    if (!k.segment.empty() && d.variable("segment") != k.segment) {
        problems->push_back("segment: expected " + k.segment + ", got " +
                            std::string(d.variable("segment").value_or("none")));
    }
}

void print_trace(const tailor::RuleTrace& trace) {
    for (const auto& e : trace.entries) {
        std::printf("  %-16s %-20s %-13s %s\n", e.slot.c_str(), e.rule.c_str(),
                    tailor::rule_outcome_name(e.outcome), e.detail.c_str());
    }
}

}  // namespace tailorctl
