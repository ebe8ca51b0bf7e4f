// EventLive's fixture: the live-state script against a real redis-server, read back by the
// profile decoder. Its tests are split by concept: live_test.cpp (the stream, replays and the
// script's protocol), live_map_test.cpp (the live map), live_orders_test.cpp (orders and
// identify).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "live_fixture.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"

namespace tailor {

class EventLive : public LiveScriptTest {
  protected:
    static constexpr std::string_view kVid = "q3Zf0x8W2mYbT1kL9cVn_A";
    static constexpr std::string_view kKnown = "cust_0000012345678";
    static constexpr int64_t kT0 = 1718000000000;  // ms

    // Encodes one event; `props` as name=value pairs.
    std::string event(EventType type, std::string_view vid, int64_t ts_ms,
                      std::vector<EventProperty> props = {}, uint64_t seq = 0,
                      std::string_view previous = {}) {
        Event e = event_at(type, vid, ts_ms);
        e.attribution = &attribution_;
        e.device = DeviceClass::kDesktop;
        e.properties = props.data();
        e.property_count = props.size();
        e.producer = seq != 0 ? std::string_view("w0-test") : std::string_view();
        e.seq = seq;
        e.previous_vid = previous;
        return encoded(e);
    }

    std::string live_of(std::string_view vid) {
        return redis_->command({"GET", live_key(vid)}).str;
    }

    Attribution attribution_ =
        attribution_from_request("utm_source=newsletter&utm_medium=email", "", "shop.example");
};

}  // namespace tailor
