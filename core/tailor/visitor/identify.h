// Identify: whether the upstream's identify header (X-Tailor-Identify by default) may link
// this request's visitor to the shop's customer id, decided from plain facts.
//
// The header comes from the shop's backend after a login; it re-signs the
// visitor cookie with the customer's id so the next page reads their
// profile. Never without consent: a visitor who refused keeps no identity.
// Never from a stored response either: a page a cache kept from someone
// else's login would sign every later visitor in as that customer.
#pragma once

#include <optional>
#include <string_view>

#include "tailor/base/outcome.h"
#include "tailor/visitor/visitor_id.h"

namespace tailor {

// IdentifyAction
//
// kIgnore: nothing to do (the gate refused, the response is not fresh, or the
// id is already the cookie's).
// kInvalid: the header's value is not a visitor id (log it, change nothing).
// kLink: sign `known` into a new cookie; the request's visitor becomes it.
// kForget: the header is empty or says `logout`: issue a fresh anonymous id,
// record nothing linking it to the old one, and serve the default page (on a
// shared device the next person must not see the previous customer).
enum class IdentifyAction : unsigned char {
    kIgnore = 0,
    kInvalid,
    kLink,
    kForget,
};

// The identify header value that means "forget this visitor" (or an empty
// value); case-insensitive.
inline constexpr std::string_view kIdentifyLogout = "logout";

// IdentifyInput
//
// `outcome` is the request's Outcome so far (the consent gate's refusals
// among them); `current_vid` the visitor id the request runs under (empty
// when none); `cookie_pending` whether a Set-Cookie is already being issued.
// `fresh` is true only when the upstream produced the response for this very
// request (not a cache hit, stale, or revalidated copy, not a static file).
struct IdentifyInput {
    bool fresh = false;
    Outcome outcome = Outcome::kNone;
    std::string_view header;
    std::string_view current_vid;
    bool cookie_pending = false;
};

struct IdentifyDecision {
    IdentifyAction action = IdentifyAction::kIgnore;
    std::optional<VisitorId> known;  // set for kLink
};

// decide_identify
//
// Example:
//   IdentifyInput in;
//   in.fresh = true;
//   in.header = "cust_0000012345678";  in.current_vid = "q3Zf0x8W2mYbT1kL9cVn_A";
//   decide_identify(in).action == IdentifyAction::kLink
//   in.outcome = Outcome::kNoConsent;
//   decide_identify(in).action == IdentifyAction::kIgnore
[[nodiscard]] IdentifyDecision decide_identify(const IdentifyInput& in) noexcept;

}  // namespace tailor
