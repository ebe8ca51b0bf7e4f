// Forwarding formats: one stored event as Klaviyo's Events API body or a Segment message.
//
// The one place the stream's events are mapped to the email platforms'
// shapes (`tailorctl events tail --format klaviyo|segment` prints them; a
// connector in another language reproduces these functions' tests).
// docs/events.md has both tables.
#pragma once

#include <string>

#include "tailor/events/decode.h"

namespace tailor {

// klaviyo_event_json
//
// The body of Klaviyo's `POST /api/events/` (JSON:API) for a tracked event:
// the metric is klaviyo_metric_name() or, for an event Klaviyo has no metric
// for, the Segment name; `product_id` is renamed `ProductID` (Klaviyo's
// catalog lookup); `value` is `revenue`, else `value`, else `price` for
// Placed Order; `unique_id` is the event id (Klaviyo's idempotency key); the
// profile is identified by `external_id` = vid. An Identify becomes the body
// of `POST /api/profile-import/` carrying both ids (`external_id` the known
// id, `anonymous_id` the merged one), which links them.
//
// Example:
//   klaviyo_event_json(order) ==
//     R"({"data":{"type":"event","attributes":{"properties":{"revenue":42,...},)"
//     R"("time":"2025-06-15T15:06:40.000Z","value":42,"unique_id":"0190...",)"
//     R"("metric":{"data":{"type":"metric","attributes":{"name":"Placed Order"}}},)"
//     R"("profile":{"data":{"type":"profile","attributes":{"external_id":"v"}}}}}})"
[[nodiscard]] std::string klaviyo_event_json(const DecodedEvent& event);

// segment_event_json
//
// A Segment message: `type` (`page` for Page Viewed, `identify` for
// Identify, `track` otherwise), `event` (track), `anonymousId` = vid (an
// Identify: `userId` = vid and `anonymousId` = the merged id), `messageId` =
// the event id, `timestamp` (ISO 8601), `properties` (Segment's own
// `product_id` for Klaviyo's `ProductID`), `context` (library, page path,
// campaign from utm, referrer class and host, device type, Tailor's
// experiment exposures). Cart Viewed, Checkout Started and Order Completed
// move their product fields (product_id, sku, name, price, quantity...) into
// `products[]`, as the e-commerce spec has them.
[[nodiscard]] std::string segment_event_json(const DecodedEvent& event);

}  // namespace tailor
