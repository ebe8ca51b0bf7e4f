// Consent fuzz: policy text and the CMP cookie parsers, on attacker-controlled values.
//
// Input: byte 0 picks a policy, byte 1 bit 0 is Sec-GPC, the rest is the
// consent value; the rest is also parsed as policy text and searched as a
// Cookie header. Invariants: GPC always opts out; "none" always allows
// without GPC; a decision is one of the three and has a name; the same
// input decides the same way twice; parsed policy text round-trips.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/visitor/consent.h"
#include "tailor/request/cookie_header.h"

namespace {

constexpr std::string_view kPolicies[] = {
    "none",
    "variable",
    "onetrust",
    "onetrust:C0002",
    "cookiebot",
    "cookiebot:preferences",
    "cookiebot:statistics",
    "onetrust:SPD_BG",
};

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void check_decision(const tailor::ConsentPolicy& policy, bool gpc, std::string_view value) {
    const auto d = tailor::decide_consent(policy, gpc, value);
    check(d == tailor::decide_consent(policy, gpc, value));
    check(d == tailor::ConsentDecision::kAllowed || d == tailor::ConsentDecision::kGpcOptOut ||
          d == tailor::ConsentDecision::kNoConsent);
    check(!tailor::consent_decision_name(d).empty());
    if (gpc) {
        check(d == tailor::ConsentDecision::kGpcOptOut);
    } else {
        check(d != tailor::ConsentDecision::kGpcOptOut);
        if (policy.source() == tailor::ConsentSource::kNone) {
            check(d == tailor::ConsentDecision::kAllowed);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::string_view policy_text = kPolicies[data[0] % std::size(kPolicies)];
    const bool gpc = (data[1] & 1) != 0;
    const std::string_view value = input.substr(2);

    std::string error;
    const auto policy = tailor::parse_consent_policy(policy_text, &error);
    check(policy.has_value());
    check_decision(*policy, gpc, value);

    // The value as a whole Cookie header, the way the glue reads CMP cookies.
    const std::string_view cookie_name = tailor::consent_cookie_name(policy->source());
    if (!cookie_name.empty()) {
        const auto cookie = tailor::find_cookie(value, cookie_name);
        check_decision(*policy, gpc, cookie.value_or(std::string_view()));
    }

    // The value as operator text.
    const auto parsed = tailor::parse_consent_policy(value, &error);
    if (parsed) {
        const std::string text = tailor::consent_policy_text(*parsed);
        const auto again = tailor::parse_consent_policy(text, &error);
        check(again && *again == *parsed);
        check_decision(*parsed, gpc, value);
    } else {
        check(!error.empty());
    }
    if (tailor::is_gpc_opt_out(value)) {
        check(value.find_first_not_of(" \t1") == std::string_view::npos);
    }
    return 0;
}
