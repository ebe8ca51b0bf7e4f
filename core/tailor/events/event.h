// Event: the umbrella over the event's five concepts, each in its own header.
//
//   events/schema.h    bounds, type names (Segment, Klaviyo), property rules
//   events/event_id.h  EventId, the UUIDv7 idempotency key
//   events/encode.h    Event (views) and encode_event
//   events/decode.h    decode_event and event_routing over the bounded reader
//   events/xadd.h      StreamConfig and the XADD argv
//
// Code that needs one of them includes that header; this one serves callers
// that use the whole event (the glue's log phase, tailorctl, the benches).
#pragma once

#include "tailor/events/decode.h"    // IWYU pragma: export
#include "tailor/events/encode.h"    // IWYU pragma: export
#include "tailor/events/event_id.h"  // IWYU pragma: export
#include "tailor/events/schema.h"    // IWYU pragma: export
#include "tailor/events/xadd.h"      // IWYU pragma: export
