// The cases file of `tailorctl rules test`: plain Lua returning a table of cases.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tailorctl {

// Case
//
// One case: the visitor (profile, live map, request, caps) at a clock `now`,
// and what the pack must decide for them.
struct Case {
    std::string name;
    int64_t now = 0;
    nlohmann::json profile;
    nlohmann::json live;
    nlohmann::json request;
    nlohmann::json expect;        // slot -> rule id, or false for the default
    nlohmann::json contains;      // slot (or "*": any) -> substring(s) of the html
    nlohmann::json not_contains;  // slot (or "*": every) -> substring(s) it must not hold
    nlohmann::json caps;          // pop-up id -> caps record (docs/popups.md)
    nlohmann::json popup;         // the chosen pop-up's id, or false for none
    nlohmann::json popup_why;     // pop-up id -> outcome or detail ("cooldown", "won", ...)
    nlohmann::json exposed;       // experiment -> the variant exposed, or false for none
    std::string segment;
    std::vector<std::string> unknown_fields;  // keys of the case table no case has (typos)
};

// The fields a case may have; any other key is reported as a typo.
inline constexpr const char* kCaseFields[] = {
    "name",         "now",  "profile", "live",      "request", "expect", "contains",
    "not_contains", "caps", "popup",   "popup_why", "segment", "exposed"};

// load_cases
//
// Runs the cases file in a plain Lua state (base, string, table, math; no
// file access) and reads its cases; relative times (days_ago(3), ...) are
// resolved against each case's `now`, else the file's, else `default_now`.
// Errors are printed to stderr; nullopt then.
//
// Example:
//   auto cases = load_cases("pack_test.lua", std::time(nullptr));
[[nodiscard]] std::optional<std::vector<Case>> load_cases(const std::string& path,
                                                          int64_t default_now);

}  // namespace tailorctl
