// ConsentGate: the request-time gate as one function.
#include "tailor/visitor/consent_gate.h"

#include "tailor/request/device_class.h"

namespace tailor {

Outcome consent_outcome(const ConsentGateInput& in) noexcept {
    const bool gpc = in.honor_gpc && is_gpc_opt_out(in.sec_gpc);
    if (gpc) {
        return Outcome::kGpc;
    }
    if (classify_device(in.user_agent) == DeviceClass::kBot) {
        return Outcome::kBot;
    }
    if (in.policy == nullptr) {
        return Outcome::kNone;
    }
    if (!in.value) {
        return Outcome::kNoConsent;
    }
    switch (decide_consent(*in.policy, false, *in.value)) {
        case ConsentDecision::kAllowed:
            return Outcome::kNone;
        case ConsentDecision::kGpcOptOut:
            return Outcome::kGpc;
        case ConsentDecision::kNoConsent:
            break;
    }
    return Outcome::kNoConsent;
}

}  // namespace tailor
