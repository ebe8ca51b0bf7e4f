// LiveScriptTest: RedisTest (redis_fixture.h) with the live script (kLiveScript) loaded, for
// the suites that run LiveBatch's commands on a real redis-server and read back what they
// wrote; and the events they send: event_at() and encoded().
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "redis_fixture.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"

namespace tailor {

// An event of `type` by `vid` at `ts_ms` on "/p", with an id of that time; the tests set the
// rest.
inline Event event_at(EventType type, std::string_view vid, int64_t ts_ms) {
    Event e(*EventId::generate(ts_ms));
    e.type = type;
    e.vid = vid;
    e.ts_ms = ts_ms;
    e.path = "/p";
    return e;
}

// The blob of `e`, expected to encode.
inline std::string encoded(const Event& e) {
    std::string blob;
    EXPECT_EQ(encode_event(e, &blob).status, EncodeStatus::kOk);
    return blob;
}

class LiveScriptTest : public RedisTest {
  protected:
    void SetUp() override {
        RedisTest::SetUp();
        if (set_up_stopped()) {
            return;
        }
        const Reply sha = redis_->command({"SCRIPT", "LOAD", kLiveScript});
        ASSERT_EQ(sha.str, live_script_sha1()) << sha.str;
    }

    // The script's reply, one byte per event, as results.
    static std::vector<LiveResult> results_of(std::string_view reply) {
        std::vector<LiveResult> out;
        for (char c : reply) {
            out.push_back(live_result_of(c));
        }
        return out;
    }

    // Runs `blobs` as one batch; per event, the script's result as a number (1 applied,
    // 0 duplicate, -1 invalid).
    std::vector<long long> run(const std::vector<std::string>& blobs,
                               const LiveConfig& config = LiveConfig()) {
        LiveBatch batch;
        batch.reset(config);
        for (const std::string& b : blobs) {
            EXPECT_TRUE(batch.add(b));
        }
        EXPECT_TRUE(batch.finish());
        const Reply r = redis_->send(batch);
        EXPECT_EQ(r.kind, '$') << r.str;
        std::vector<long long> out;
        for (LiveResult result : results_of(r.str)) {
            out.push_back(static_cast<long long>(result));
        }
        return out;
    }
};

}  // namespace tailor
