// plan_events: which events a finished request emits (Identify, a page view, the location's
// declared events, a pop-up beacon), decided from a plain view of the request; the glue fills
// the view from nginx and emits what the plan says.
#pragma once

#include <cstddef>
#include <string_view>

#include "tailor/base/outcome.h"

namespace tailor {

// PlanRequest
//
// What the log phase knows about a finished main request.
struct PlanRequest {
    std::string_view vid;           // the visitor id the response carries; empty: none
    std::string_view previous_vid;  // the id an identify link replaced; empty: none
    Outcome outcome = Outcome::kNone;
    bool beacon_recorded = false;  // a pop-up beacon the caps recorded (consent checked there)
    unsigned status = 0;           // the response status
    bool header_only = false;      // HEAD, or a response without a body
    bool get = false;              // the method is GET
    bool page_type = false;        // the response's type is one tailor_types lists
    size_t declared = 0;           // tailor_event declarations in the location
    bool upstream = false;         // a fresh upstream response declared an event (header)
};

// EventPlan
struct EventPlan {
    bool identify = false;   // the visitor was linked to a known id
    bool page_view = false;  // Page Viewed
    bool declared = false;   // every declared event of the location
    bool beacon = false;     // the pop-up beacon's event, and nothing else
    bool upstream = false;   // the event the upstream declared in its response header

    [[nodiscard]] bool any() const noexcept {
        return identify || page_view || declared || beacon || upstream;
    }
};

// plan_possible
//
// False when no event can be planned whatever the response turns out to be: no visitor, or
// neither a recorded beacon nor consent. The log phase asks it first, so a request that can
// emit nothing (a GPC visitor's, a crawler's) skips looking at its response.
//
// Example:
//   plan_possible("v1", false, Outcome::kGpc) == false
[[nodiscard]] bool plan_possible(std::string_view vid, bool beacon_recorded,
                                 Outcome outcome) noexcept;

// plan_events
//
// No visitor: nothing. A recorded beacon: only its event. Without consent (outcome none, gpc,
// no-consent): nothing. Otherwise Identify when the id changed; the declared events on a 2xx or
// 3xx; else a page view on a 200 GET with a body of a page type. The upstream's event on a 2xx
// or 3xx (an order placed by a POST answered 303 counts), beside the others.
//
// Example:
//   PlanRequest q;
//   q.vid = "v1"; q.outcome = Outcome::kHit; q.status = 200; q.get = true; q.page_type = true;
//   plan_events(q).page_view == true
[[nodiscard]] EventPlan plan_events(const PlanRequest& request) noexcept;

}  // namespace tailor
