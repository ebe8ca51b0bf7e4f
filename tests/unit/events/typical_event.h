// A typical browse event for the encode and decode tests: every field set, four properties, two
// exposures, utm attribution.
#pragma once

#include <cstdint>

#include "tailor/events/encode.h"

namespace tailor {

inline constexpr int64_t kNow = 1718000000123;

struct Typical {
    EventProperty props[4] = {{"product_id", "SKU-1042"},
                              {"price", "19.99", PropertyKind::kNumber},
                              {"quantity", "2", PropertyKind::kNumber},
                              {"category", "Shirts"}};
    EventExposure exposures[2] = {{"hero-returning", "hero_copy", "b"},
                                  {"reorder", "reorder_nudge", "holdout"}};
    Attribution attribution =
        attribution_from_request("utm_source=newsletter&utm_medium=email&utm_campaign=spring",
                                 "https://mail.google.com/", "shop.example");
    Event event{*EventId::generate(kNow)};

    Typical() {
        event.type = EventType::kProductViewed;
        event.vid = "q3Zf0x8W2mYbT1kL9cVn_A";
        event.ts_ms = kNow;
        event.path = "/products/linen-shirt?color=blue";
        event.attribution = &attribution;
        event.device = DeviceClass::kMobile;
        event.exposures = exposures;
        event.exposure_count = 2;
        event.properties = props;
        event.property_count = 4;
        event.producer = "w0-abcdef";
        event.seq = 42;
    }
};

}  // namespace tailor
