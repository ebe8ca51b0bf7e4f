// What a `tailorctl rules test` case asserts about the page, and the names it uses: a
// slot, pop-up or field the pack or the schema does not know is a typo that would make a
// check pass without checking anything, so it is reported as the case's failure.
#pragma once

#include <string>
#include <vector>

#include "rules_cases.h"
#include "tailor/decision/decision.h"
#include "tailor/rules/pack.h"

namespace tailorctl {

// case_typos
//
// The case's names that `pack` does not declare (slots in expect, contains and
// not_contains; pop-ups in popup and popup_why), fields of its profile or live map
// that docs/profile.md does not know, and keys no case has; one message each.
//
// Example:
//   case_typos(k, pack)  // {"unknown slot \"heor\" in expect (the pack's slots: hero)"}
[[nodiscard]] std::vector<std::string> case_typos(const Case& k, const tailor::RulePack& pack);

// check_case_html
//
// Appends to `problems` what `contains` and `not_contains` find wrong in `d`. Each maps
// a slot, or "*" for the whole decision (every fill and the directives), to a string or
// a list of strings; a default slot contains nothing.
//
// Example:
//   check_case_html(k, decision, &problems);  // "slot hero: html contains \"Thanks\" ..."
void check_case_html(const Case& k, const tailor::Decision& d, std::vector<std::string>* problems);

}  // namespace tailorctl
