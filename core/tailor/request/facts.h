// RequestFacts: what the rules may know about the request itself, besides the profile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tailor {

// RequestCookie
//
// One cookie the operator whitelisted for rules (never the visitor-id cookie).
struct RequestCookie {
    std::string_view name;
    std::string_view value;
};

// RequestFacts
//
// Built by RequestFactsBuilder (facts_builder.h) from the module's view of
// the request; tailorctl fills it from a preview's options. Every view must
// outlive the evaluation it is passed to, and nothing keeps them afterwards.
// `now` is unix seconds, passed in (not read) so tests and previews can pin
// the clock.
//
// Example:
//   RequestFacts f;
//   f.visitor_id = "preview-visitor";  f.now = 1763600000;  f.path = "/products/x";
//   f.device_class = "mobile";  f.referrer_source = "google";
struct RequestFacts {
    std::string_view visitor_id;             // experiment bucketing; not shown to rules
    int64_t now = 0;                         // unix seconds
    std::string_view path;                   // "/products/x", no query
    std::string_view query;                  // "a=1&b=2", no '?'
    std::string_view referrer_source;        // "google", "newsletter", "direct", ...
    std::string_view device_class;           // "mobile", "tablet", "desktop"
    bool logged_in = false;                  // tailor_logged_in says so
    bool consent_personalization = true;     // the request-time gate's verdict
    const RequestCookie* cookies = nullptr;  // tailor_rule_cookies' cookies
    size_t cookie_count = 0;
    // Where the page finds the pop-up runtime and the beacon
    // (docs/popups.md); empty: kPopupRuntimePath, kPopupBeaconPath.
    std::string_view popup_runtime_path;
    std::string_view popup_beacon_path;
};

}  // namespace tailor
