#include "tailor/events/plan.h"

namespace tailor {

namespace {

bool consented(Outcome outcome) noexcept {
    return outcome != Outcome::kNone && outcome != Outcome::kGpc &&
           outcome != Outcome::kNoConsent && outcome != Outcome::kBot;
}

}  // namespace

bool plan_possible(std::string_view vid, bool beacon_recorded, Outcome outcome) noexcept {
    return !vid.empty() && (beacon_recorded || consented(outcome));
}

EventPlan plan_events(const PlanRequest& q) noexcept {
    EventPlan plan;
    if (!plan_possible(q.vid, q.beacon_recorded, q.outcome)) {
        return plan;
    }
    if (q.beacon_recorded) {
        plan.beacon = true;
        return plan;
    }
    // No drive-by state: an id minted for this request (no valid cookie came)
    // is real only once the browser returns it, so its first request writes
    // nothing; an identify link on it leaves the minted id out.
    const bool minted = q.outcome == Outcome::kNewVisitor;
    if (minted && q.previous_vid.empty()) {
        return plan;
    }
    plan.identify = !minted && !q.previous_vid.empty() && q.previous_vid != q.vid;
    plan.upstream = q.upstream && q.status >= 200 && q.status < 400;
    if (q.declared > 0) {
        plan.declared = q.status >= 200 && q.status < 400;
    } else {
        plan.page_view = q.status == 200 && !q.header_only && q.get && q.page_type;
    }
    return plan;
}

}  // namespace tailor
