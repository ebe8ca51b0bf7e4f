// EventLive and erase: the live-state script drops every event of a visitor whose tombstone
// stands (a spool replayed after `tailorctl profile erase`), and records the identity link
// on both ids so an erase can follow it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "live_fixture.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"
#include "tailor/store/keys.h"

namespace tailor {
namespace {

constexpr std::string_view kAnon = "q3Zf0x8W2mYbT1kL9cVn_A";
constexpr std::string_view kKnown = "cust_0000012345678";
constexpr int64_t kT0 = 1718000000000;  // ms

class EventLiveErased : public LiveScriptTest {
  protected:
    std::string event(EventType type, std::string_view vid, int64_t ts_ms, uint64_t seq,
                      std::string_view previous = {}) {
        Event e = event_at(type, vid, ts_ms);
        e.producer = "w0-test";
        e.seq = seq;
        e.previous_vid = previous;
        return encoded(e);
    }

    long long exists(std::string_view vid, VisitorKeyKind kind) {
        return redis_->command({"EXISTS", visitor_key(vid, kind)}).integer;
    }
};

TEST_F(EventLiveErased, IdentifyLinksBothIds) {
    EXPECT_EQ(run({event(EventType::kPageViewed, kAnon, kT0, 1),
                   event(EventType::kIdentify, kKnown, kT0 + 1000, 2, kAnon)}),
              (std::vector<long long>{1, 1}));
    EXPECT_EQ(redis_->command({"HGET", live_ev_key(kAnon), std::string(kMergedIntoField)}).str,
              kKnown);
    EXPECT_EQ(redis_
                  ->command({"HGET", live_ev_key(kKnown),
                             std::string(kMergedFromFieldPrefix) + std::string(kAnon)})
                  .str,
              "1");
}

TEST_F(EventLiveErased, ATombstoneDropsEveryEventOfThatVisitorAndNoOther) {
    redis_->command({"SET", visitor_key(kAnon, VisitorKeyKind::kErased), "1", "EX", "60"});
    EXPECT_EQ(run({event(EventType::kPageViewed, kAnon, kT0, 1),
                   event(EventType::kPageViewed, kKnown, kT0, 2)}),
              (std::vector<long long>{0, 1}));
    EXPECT_EQ(exists(kAnon, VisitorKeyKind::kLive), 0);
    EXPECT_EQ(exists(kAnon, VisitorKeyKind::kEvents), 0);
    EXPECT_EQ(exists(kKnown, VisitorKeyKind::kLive), 1);
    const Reply range = redis_->command({"XRANGE", "tailor:events", "-", "+"});
    ASSERT_EQ(range.elements.size(), 1u) << "nothing of the erased visitor in the stream";
    EXPECT_EQ(range.elements[0].elements[1].elements[3].str, kKnown);
}

TEST_F(EventLiveErased, AnErasedAnonymousIdIsNotMergedNorRecreatedByIdentify) {
    redis_->command({"SET", visitor_key(kAnon, VisitorKeyKind::kErased), "1", "EX", "60"});
    EXPECT_EQ(run({event(EventType::kIdentify, kKnown, kT0, 1, kAnon)}),
              (std::vector<long long>{1}));
    EXPECT_EQ(exists(kAnon, VisitorKeyKind::kEvents), 0);
    EXPECT_EQ(exists(kAnon, VisitorKeyKind::kLive), 0);
    EXPECT_EQ(redis_
                  ->command({"HEXISTS", live_ev_key(kKnown),
                             std::string(kMergedFromFieldPrefix) + std::string(kAnon)})
                  .integer,
              0);
}

}  // namespace
}  // namespace tailor
