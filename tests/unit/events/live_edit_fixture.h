// LiveMapEditTest: EventLive (event_live.h) with a visitor's product and page views, and
// nginx's edit of a stored map (LiveMapEdit) next to the script's, for live_edit_test.cpp (the
// edits byte for byte) and live_cas_test.cpp (the script taking them).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_live.h"
#include "tailor/events/live_edit.h"
#include "tailor/events/live_facts.h"

namespace tailor {

inline std::string hex(std::string_view s) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out.push_back(kDigits[c >> 4]);
        out.push_back(kDigits[c & 15]);
    }
    return out;
}

class LiveMapEditTest : public EventLive {
  protected:
    std::string view(std::string_view sku, int64_t ts_ms, std::string_view category = "Shirts",
                     std::string_view price = "19.99") {
        std::vector<EventProperty> props = {{"product_id", sku}};
        if (!category.empty()) {
            props.push_back({"category", category});
        }
        if (!price.empty()) {
            props.push_back({"price", price, PropertyKind::kNumber});
        }
        return event(EventType::kProductViewed, vid_, ts_ms, props, next_seq());
    }

    std::string page(int64_t ts_ms) {
        return event(EventType::kPageViewed, vid_, ts_ms, {}, next_seq());
    }

    // The events' seqs from producer "w0-test" once seq_ is set (0: none).
    uint64_t next_seq() { return seq_ == 0 ? 0 : seq_++; }

    // Edits the stored map with `blobs` in nginx, with the facts LiveBatch sends the script.
    static bool edit(LiveMapEdit* e, std::string_view stored,
                     const std::vector<std::string>& blobs) {
        bool ok = e->start(stored, 1800, 20);
        for (const std::string& b : blobs) {
            const std::optional<LiveFacts> f = live_facts(b);
            EXPECT_TRUE(f.has_value());
            if (!f || !f->time_s) {
                return false;
            }
            const bool product = f->product_event();
            ok = ok &&
                 e->apply(f->type, *f->time_s, product ? f->product() : "",
                          product ? f->category : "", product ? f->price_minor(100) : std::nullopt);
        }
        return ok;
    }

    // Runs `blobs` as one batch through the script, and through LiveMapEdit from the map
    // stored before: when the edit applies, the stored map is its bytes. Whether it applied.
    bool both(const std::vector<std::string>& blobs) {
        const std::string before = live_of(vid_);
        LiveMapEdit e;
        const bool ok = edit(&e, before, blobs);
        EXPECT_EQ(run(blobs), std::vector<long long>(blobs.size(), 1));
        const std::string after = live_of(vid_);
        if (ok) {
            EXPECT_EQ(hex(after), hex(e.bytes()));
            EXPECT_EQ(e.changed(), after != before);
        }
        return ok;
    }

    // A full list in the layout the script edits in place: SKU-0 (the oldest) to SKU-19.
    void seed() {
        std::vector<std::string> blobs;
        for (int i = 0; i < 19; ++i) {
            blobs.push_back(view("SKU-" + std::to_string(i), kT0 + i * 1000));
        }
        (void)run(blobs);
        (void)run({view("SKU-19", kT0 + 19000)});
        ASSERT_EQ(static_cast<unsigned char>(live_of(vid_)[0]), 0xde);
    }

    std::string_view vid_ = kVid;  // the visitor view() and page() are for
    uint64_t seq_ = 0;
};

}  // namespace tailor
