#include "tailor/events/plan.h"

namespace tailor {

namespace {

bool consented(Outcome outcome) noexcept {
    return outcome != Outcome::kNone && outcome != Outcome::kGpc && outcome != Outcome::kNoConsent;
}

}  // namespace

EventPlan plan_events(const PlanRequest& q) noexcept {
    EventPlan plan;
    if (q.vid.empty()) {
        return plan;
    }
    if (q.beacon_recorded) {
        plan.beacon = true;
        return plan;
    }
    if (!consented(q.outcome)) {
        return plan;
    }
    plan.identify = !q.previous_vid.empty() && q.previous_vid != q.vid;
    if (q.declared > 0) {
        plan.declared = q.status >= 200 && q.status < 400;
    } else {
        plan.page_view = q.status == 200 && !q.header_only && q.get && q.page_type;
    }
    return plan;
}

}  // namespace tailor
