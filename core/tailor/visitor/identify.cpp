// Identify: whether the upstream's identify header may link the visitor to a known id.
#include "tailor/visitor/identify.h"

#include "tailor/base/ascii.h"
#include "tailor/visitor/consent_gate.h"

namespace tailor {

IdentifyDecision decide_identify(const IdentifyInput& in) noexcept {
    IdentifyDecision d;
    if (!in.fresh) {
        return d;  // a stored response speaks for another request
    }
    if (consent_outcome_refused(in.outcome)) {
        return d;  // no identity link without consent
    }
    if (in.header.empty() || ascii_iequals(in.header, kIdentifyLogout)) {
        // a visitor without a cookie of its own has nothing to forget
        if (in.outcome != Outcome::kNewVisitor && !in.current_vid.empty()) {
            d.action = IdentifyAction::kForget;
        }
        return d;
    }
    d.known = VisitorId::from_string(in.header);
    if (!d.known) {
        d.action = IdentifyAction::kInvalid;
        return d;
    }
    if (d.known->view() == in.current_vid && !in.cookie_pending) {
        d.known.reset();
        return d;  // the cookie already says so
    }
    d.action = IdentifyAction::kLink;
    return d;
}

}  // namespace tailor
