// PopupPolicy: which one pop-up (if any) a page view gets, from caps, exclusions and intent.
//
// Pure functions over plain values: the rule kit decides which pop-ups'
// `when` passed; this decides, for those, what the caps and exclusions
// allow and which single one wins. Deterministic: the same inputs always
// choose the same pop-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "tailor/popup/caps.h"

namespace tailor {

// Bounds on what a pack may declare (docs/popups.md).
inline constexpr int64_t kMaxPopupUtcOffsetMinutes = 14 * 60;
inline constexpr int64_t kMaxPopupCooldownHours = 24 * 365;
inline constexpr int64_t kMaxPopupRecentPurchaseHours = 24 * 365;

// Where the client runtime reports impressions, closes and conversions;
// written into the directives JSON as "beacon".
inline constexpr std::string_view kPopupBeaconPath = "/tailor/beacon";

// The exposure a chosen pop-up records: rule = the pop-up's id, and these.
inline constexpr std::string_view kPopupExperiment = "popup";
inline constexpr std::string_view kPopupVariant = "offered";

// PopupIntent
//
// How close to buying the pop-up's audience is; higher wins.
enum class PopupIntent : unsigned char { kBrowse = 0, kProduct = 1, kCart = 2 };

// popup_intent_name / parse_popup_intent
//
// Example:
//   popup_intent_name(PopupIntent::kCart) == "cart"
//   parse_popup_intent("product", &i) == true
[[nodiscard]] std::string_view popup_intent_name(PopupIntent intent) noexcept;
[[nodiscard]] bool parse_popup_intent(std::string_view name, PopupIntent* out) noexcept;

// PopupCapSpec
//
// A pop-up's caps; 0 means "no cap" for the three numbers.
struct PopupCapSpec {
    uint32_t per_visit = 1;       // impressions per visit (the live `visits` counter)
    uint32_t per_day = 1;         // impressions per calendar day (see PopupPolicyOptions)
    int64_t cooldown_hours = 24;  // after a close, none for this long
    bool stop_after_conversion = true;
};

// PopupExclusionSpec
//
// Visitors a pop-up is never shown to.
struct PopupExclusionSpec {
    int64_t recent_purchase_hours = 24;  // bought less than this ago; 0 = off
    bool open_return = true;
    bool open_complaint = true;
    bool email_campaign = true;      // this request came from an email (utm_medium=email)
    bool higher_intent_flow = true;  // the visitor is in a flow of higher intent (a cart)
};

// PopupCandidate
//
// One declared pop-up whose `when` passed, in declaration order.
struct PopupCandidate {
    std::string_view id;
    PopupIntent intent = PopupIntent::kBrowse;
    double priority = 0;
    uint32_t order = 0;  // declaration order, the last tie-break
    PopupCapSpec caps;
    PopupExclusionSpec exclude;
};

// PopupVisitorFacts
//
// What the policy reads about the visitor and the request.
struct PopupVisitorFacts {
    int64_t now = 0;               // unix seconds
    int64_t visit = 0;             // live `visits` (this visit's number), 0 = unknown
    int64_t last_purchase_at = 0;  // newest order or purchase line, 0 = never
    bool open_return = false;
    bool open_complaint = false;
    bool from_email = false;  // see popup_request_from_email
    bool has_cart = false;    // the visitor's flow intent is "cart"
};

// PopupPolicyOptions
//
// `utc_offset_minutes` fixes what a "day" is for per-day caps: the calendar
// day at UTC plus this offset (UTC by default; -300 for New York winter).
struct PopupPolicyOptions {
    int64_t utc_offset_minutes = 0;
};

// PopupVerdict
//
// Why a candidate was or was not chosen (explain output).
enum class PopupVerdict : unsigned char {
    kChosen = 0,
    kOutranked,       // eligible, but another pop-up won
    kCapVisit,        // per_visit impressions reached
    kCapDay,          // per_day impressions reached today
    kCooldown,        // closed less than cooldown_hours ago
    kConverted,       // converted, and stop_after_conversion
    kRecentPurchase,  // bought less than recent_purchase_hours ago
    kOpenReturn,
    kOpenComplaint,
    kEmailCampaign,     // the request came from an email campaign
    kHigherIntentFlow,  // the visitor has a cart; this pop-up's intent is lower
    kCapsUnreadable,    // the caps blob was refused: nothing is shown
};

// popup_verdict_name
//
// Example:
//   popup_verdict_name(PopupVerdict::kCooldown) == "cooldown"
[[nodiscard]] std::string_view popup_verdict_name(PopupVerdict verdict) noexcept;

// popup_day
//
// The day number of `t` in the policy's time zone: floor((t + offset) / 86400).
//
// Example:
//   popup_day(86399, {}) == 0;  popup_day(86400, {}) == 1
//   popup_day(3600, {-120}) == -1   // 01:00 UTC is 23:00 the day before at UTC-2
[[nodiscard]] int64_t popup_day(int64_t t, const PopupPolicyOptions& options) noexcept;

// popup_eligibility
//
// kChosen when caps and exclusions allow `c` (null `entry`: never shown);
// otherwise the first reason, exclusions before caps. Clock edges: a moment
// exactly at a window's end is outside it (a cooldown of 24 h allows the
// pop-up again at close + 24 h); times in the future (the clock went back,
// or another server's clock is ahead) count as now: an impression from
// "tomorrow" still counts for today, a close in the future keeps the
// cooldown, a purchase in the future is recent.
//
// Example:
//   popup_eligibility(c, nullptr, facts, {}) == PopupVerdict::kChosen
[[nodiscard]] PopupVerdict popup_eligibility(const PopupCandidate& c, const PopupCapsEntry* entry,
                                             const PopupVisitorFacts& facts,
                                             const PopupPolicyOptions& options) noexcept;

// choose_popup
//
// At most one pop-up per page view: of the eligible candidates, the highest
// intent wins (cart > product > browse), then the highest priority, then the
// first declared. `verdicts` (resized to candidates.size()) says what
// happened to each. Returns the winner's index or candidates.size() for
// none. With `caps` null (the blob was refused) nothing is chosen.
//
// Example:
//   std::vector<PopupVerdict> why;
//   size_t i = choose_popup(cands, &caps, facts, {}, &why);
//   if (i < cands.size()) render(cands[i]);
[[nodiscard]] size_t choose_popup(const std::vector<PopupCandidate>& candidates,
                                  const PopupCaps* caps, const PopupVisitorFacts& facts,
                                  const PopupPolicyOptions& options,
                                  std::vector<PopupVerdict>* verdicts);

// popup_request_from_email
//
// Whether a query string carries utm_medium=email (ASCII case-insensitive,
// '+' and %-escapes not decoded: campaign links write it plainly).
//
// Example:
//   popup_request_from_email("utm_source=x&utm_medium=Email") == true
[[nodiscard]] bool popup_request_from_email(std::string_view query) noexcept;

}  // namespace tailor
