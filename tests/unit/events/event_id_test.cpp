// EventId: UUIDv7 layout, the embedded time, parsing, uniqueness.
#include "tailor/events/event_id.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <type_traits>

namespace tailor {
namespace {

static_assert(std::is_trivially_copyable_v<EventId>);

constexpr int64_t kNow = 1718000000123;

TEST(EventId, IdsAreUuidV7WithTheTimestamp) {
    const auto id = EventId::generate(kNow);
    ASSERT_TRUE(id.has_value());
    const std::string_view t = id->text();
    ASSERT_EQ(t.size(), 36u);
    EXPECT_EQ(t[8], '-');
    EXPECT_EQ(t[14], '7');
    EXPECT_TRUE(t[19] == '8' || t[19] == '9' || t[19] == 'a' || t[19] == 'b');
    EXPECT_EQ(id->unix_ms(), kNow);
    EXPECT_EQ(EventId::parse(t), id);
    EXPECT_EQ(EventId::parse("0190076c-fc00-7abc-8def-0123456789AB"), std::nullopt);
    EXPECT_EQ(EventId::parse("not-an-id"), std::nullopt);
    EXPECT_EQ(EventId::generate(-1), std::nullopt);
}

TEST(EventId, IdsAreUnique) {
    std::set<std::string> ids;
    for (int i = 0; i < 10000; ++i) {
        ids.insert(std::string(EventId::generate(kNow)->text()));
    }
    EXPECT_EQ(ids.size(), 10000u);
}

}  // namespace
}  // namespace tailor
