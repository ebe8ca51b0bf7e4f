// The profile and live-map schemas of docs/profile.md as `tailorctl profile encode` checks them.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tailorctl {

// check_profile_json
//
// Every field of `j` that breaks the shop profile's schema (or the module's
// live map's, with `live`), one message each, naming the field:
// `purchases[2].qty: expected an integer from 1 to 1000000, got "2"`.
// Unknown fields are errors unless `allow_unknown`. Empty: valid.
//
// Example:
//   auto errors = check_profile_json(nlohmann::json::parse(text), false, false);
[[nodiscard]] std::vector<std::string> check_profile_json(const nlohmann::json& j, bool live,
                                                          bool allow_unknown);

}  // namespace tailorctl
