// ConsentGate: the request-time gate as one function, from what the request carries to the
// Outcome the module records (none: go on; gpc or no-consent: the default page, no cookie,
// no profile read, no event).
//
// The glue only fetches the inputs: the Sec-GPC header, and the consent value
// from where the policy says (the configured variable, or the cookie named by
// consent_cookie_name). Which signal wins, and what each verdict means for the
// request, is decided here.
#pragma once

#include <optional>
#include <string_view>

#include "tailor/base/outcome.h"
#include "tailor/visitor/consent.h"

namespace tailor {

// ConsentGateInput
//
// `policy` is null where no tailor_consent applies: GPC alone gates then.
// `value` is nullopt when the source could not be read at all (the variable
// failed to evaluate), which denies like a missing cookie does.
struct ConsentGateInput {
    const ConsentPolicy* policy = nullptr;
    bool honor_gpc = true;     // `tailor_consent ... gpc=off` clears it
    std::string_view sec_gpc;  // the Sec-GPC header value, empty when absent
    std::optional<std::string_view> value;
    std::string_view user_agent;  // the User-Agent header, empty when absent
};

// consent_outcome
//
// The gate's verdict as an Outcome: kNone when the request may be
// personalized, kGpc for an honoured Sec-GPC: 1 (checked first, whatever the
// consent value says), kBot for a crawler (device class bot: it keeps no
// cookie, so an id, a key or an event for it would only fill Redis),
// kNoConsent when the policy's source did not grant.
//
// Example:
//   ConsentGateInput in;
//   in.sec_gpc = "1";
//   consent_outcome(in) == Outcome::kGpc
//   in.honor_gpc = false;
//   consent_outcome(in) == Outcome::kNone   // no policy: nothing else to ask
[[nodiscard]] Outcome consent_outcome(const ConsentGateInput& in) noexcept;

// consent_outcome_refused
//
// True for the outcomes the gate gives when it refuses (kGpc, kNoConsent,
// kBot): such a request gets no identity link, no cookie and no event.
//
// Example:
//   consent_outcome_refused(Outcome::kGpc) == true
//   consent_outcome_refused(Outcome::kTimeout) == false
[[nodiscard]] constexpr bool consent_outcome_refused(Outcome o) noexcept {
    return o == Outcome::kGpc || o == Outcome::kNoConsent || o == Outcome::kBot;
}

}  // namespace tailor
