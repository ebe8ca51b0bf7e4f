// What a `tailorctl rules test` case asserts about which rule won: the winner of each
// slot (`expect`), the pop-up chosen and why the others were not (`popup`,
// `popup_why`), the experiment variants exposed (`exposed`) and the `segment`.
// The checks of the names a case uses and of the html are case_checks.h.
#pragma once

#include <string>
#include <vector>

#include "rules_cases.h"
#include "tailor/decision/decision.h"
#include "tailor/rules/runtime.h"

namespace tailorctl {

// The trace's slot for pop-up decisions.
inline constexpr const char* kPopupsSlot = "(popups)";

// check_case_outcomes
//
// Appends to `problems` each outcome of `k` that `d` and `trace` contradict, one
// message each, naming what was expected and what came out.
//
// Example:
//   check_case_outcomes(k, d, trace, &problems);  // "slot hero: expected vip, got the default"
void check_case_outcomes(const Case& k, const tailor::Decision& d, const tailor::RuleTrace& trace,
                         std::vector<std::string>* problems);

// print_trace
//
// One line per rule the evaluation looked at: slot, rule, outcome, detail.
void print_trace(const tailor::RuleTrace& trace);

}  // namespace tailorctl
