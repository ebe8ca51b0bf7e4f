// PopupPolicy: caps, exclusions and the one-winner choice for pop-ups.
#include "tailor/popup/policy.h"

namespace tailor {

namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// floor division for a possibly negative numerator
int64_t floor_div(int64_t a, int64_t b) noexcept {
    int64_t q = a / b;
    if ((a % b != 0) && (a < 0)) {
        --q;
    }
    return q;
}

// Whether `at` (a past moment, 0 = never) is less than `seconds` before
// `now`; a moment after `now` counts as now.
bool within(int64_t at, int64_t seconds, int64_t now) noexcept {
    if (at <= 0 || seconds <= 0) {
        return false;
    }
    if (at >= now) {
        return true;
    }
    return now - at < seconds;
}

bool lower_ascii_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z') {
            x = static_cast<char>(x - 'A' + 'a');
        }
        if (x != b[i]) {
            return false;
        }
    }
    return true;
}

// Whether `a` ranks above `b`: intent, then priority, then declaration order.
bool ranks_above(const PopupCandidate& a, const PopupCandidate& b) noexcept {
    if (a.intent != b.intent) {
        return a.intent > b.intent;
    }
    if (a.priority != b.priority) {
        return a.priority > b.priority;
    }
    return a.order < b.order;
}

}  // namespace

std::string_view popup_intent_name(PopupIntent intent) noexcept {
    switch (intent) {
        case PopupIntent::kBrowse:
            return "browse";
        case PopupIntent::kProduct:
            return "product";
        case PopupIntent::kCart:
            return "cart";
    }
    return "browse";
}

bool parse_popup_intent(std::string_view name, PopupIntent* out) noexcept {
    for (PopupIntent i : {PopupIntent::kBrowse, PopupIntent::kProduct, PopupIntent::kCart}) {
        if (name == popup_intent_name(i)) {
            *out = i;
            return true;
        }
    }
    return false;
}

std::string_view popup_verdict_name(PopupVerdict verdict) noexcept {
    switch (verdict) {
        case PopupVerdict::kChosen:
            return "chosen";
        case PopupVerdict::kOutranked:
            return "outranked";
        case PopupVerdict::kCapVisit:
            return "cap-per-visit";
        case PopupVerdict::kCapDay:
            return "cap-per-day";
        case PopupVerdict::kCooldown:
            return "cooldown";
        case PopupVerdict::kConverted:
            return "converted";
        case PopupVerdict::kRecentPurchase:
            return "recent-purchase";
        case PopupVerdict::kOpenReturn:
            return "open-return";
        case PopupVerdict::kOpenComplaint:
            return "open-complaint";
        case PopupVerdict::kEmailCampaign:
            return "email-campaign";
        case PopupVerdict::kHigherIntentFlow:
            return "higher-intent-flow";
        case PopupVerdict::kCapsUnreadable:
            return "caps-unreadable";
    }
    return "unknown";
}

int64_t popup_day(int64_t t, const PopupPolicyOptions& options) noexcept {
    int64_t offset = options.utc_offset_minutes;
    if (offset > kMaxPopupUtcOffsetMinutes) {
        offset = kMaxPopupUtcOffsetMinutes;
    } else if (offset < -kMaxPopupUtcOffsetMinutes) {
        offset = -kMaxPopupUtcOffsetMinutes;
    }
    return floor_div(t + offset * 60, kDay);
}

PopupVerdict popup_eligibility(const PopupCandidate& c, const PopupCapsEntry* entry,
                               const PopupVisitorFacts& facts,
                               const PopupPolicyOptions& options) noexcept {
    const PopupExclusionSpec& x = c.exclude;
    if (x.open_return && facts.open_return) {
        return PopupVerdict::kOpenReturn;
    }
    if (x.open_complaint && facts.open_complaint) {
        return PopupVerdict::kOpenComplaint;
    }
    if (x.recent_purchase_hours > 0 &&
        within(facts.last_purchase_at, x.recent_purchase_hours * kHour, facts.now)) {
        return PopupVerdict::kRecentPurchase;
    }
    if (x.email_campaign && facts.from_email) {
        return PopupVerdict::kEmailCampaign;
    }
    if (x.higher_intent_flow && facts.has_cart && c.intent < PopupIntent::kCart) {
        return PopupVerdict::kHigherIntentFlow;
    }
    if (entry == nullptr) {
        return PopupVerdict::kChosen;
    }
    const PopupCapSpec& caps = c.caps;
    if (caps.stop_after_conversion && entry->converted_at > 0) {
        return PopupVerdict::kConverted;
    }
    if (within(entry->closed_at, caps.cooldown_hours * kHour, facts.now)) {
        return PopupVerdict::kCooldown;
    }
    if (caps.per_visit > 0 && facts.visit > 0 && entry->visit == facts.visit &&
        entry->visit_impressions >= static_cast<int64_t>(caps.per_visit)) {
        return PopupVerdict::kCapVisit;
    }
    if (caps.per_day > 0) {
        const int64_t today = popup_day(facts.now, options);
        uint32_t shown_today = 0;
        for (size_t i = 0; i < entry->impression_count; ++i) {
            // an impression "tomorrow" (the clock went back) counts for today
            if (popup_day(entry->impressions[i], options) >= today) {
                ++shown_today;
            }
        }
        if (shown_today >= caps.per_day) {
            return PopupVerdict::kCapDay;
        }
    }
    return PopupVerdict::kChosen;
}

size_t choose_popup(const std::vector<PopupCandidate>& candidates, const PopupCaps* caps,
                    const PopupVisitorFacts& facts, const PopupPolicyOptions& options,
                    std::vector<PopupVerdict>* verdicts) {
    const size_t none = candidates.size();
    verdicts->assign(candidates.size(), PopupVerdict::kCapsUnreadable);
    if (caps == nullptr) {
        return none;
    }
    size_t best = none;
    for (size_t i = 0; i < candidates.size(); ++i) {
        const PopupCandidate& c = candidates[i];
        PopupVerdict v = popup_eligibility(c, caps->find(c.id), facts, options);
        (*verdicts)[i] = v;
        if (v != PopupVerdict::kChosen) {
            continue;
        }
        if (best == none || ranks_above(c, candidates[best])) {
            if (best != none) {
                (*verdicts)[best] = PopupVerdict::kOutranked;
            }
            best = i;
        } else {
            (*verdicts)[i] = PopupVerdict::kOutranked;
        }
    }
    return best;
}

bool popup_request_from_email(std::string_view query) noexcept {
    while (!query.empty()) {
        size_t amp = query.find('&');
        std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        size_t eq = pair.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        if (lower_ascii_equal(pair.substr(0, eq), "utm_medium") &&
            lower_ascii_equal(pair.substr(eq + 1), "email")) {
            return true;
        }
    }
    return false;
}

}  // namespace tailor
