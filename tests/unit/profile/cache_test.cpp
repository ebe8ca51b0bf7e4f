#include <gtest/gtest.h>

#include "tailor/profile/cache.h"

namespace {

tailor::StoredVisitor visitor_with(std::string profile) {
    tailor::StoredVisitor v;
    v.profile.present = true;
    v.profile.bytes = std::move(profile);
    return v;
}

}  // namespace

TEST(ProfileCache, ReturnsWhatWasPutWithinTtl) {
    tailor::ProfileCache cache(10, 1000);
    cache.put("a", visitor_with("pa"), 0);
    const tailor::StoredVisitor* v = cache.get("a", 999);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->profile.bytes, "pa");
    EXPECT_FALSE(v->live.present);
}

TEST(ProfileCache, EntryAtTtlIsAMissAndIsDropped) {
    tailor::ProfileCache cache(10, 1000);
    cache.put("a", visitor_with("pa"), 0);
    EXPECT_EQ(cache.get("a", 1000), nullptr);
    EXPECT_EQ(cache.entries(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
}

TEST(ProfileCache, ClockGoingBackwardsIsAMiss) {
    tailor::ProfileCache cache(10, 1000);
    cache.put("a", visitor_with("pa"), 5000);
    EXPECT_EQ(cache.get("a", 4000), nullptr);
}

TEST(ProfileCache, EvictsLeastRecentlyUsedBeyondEntryBound) {
    tailor::ProfileCache cache(2, 1000);
    cache.put("a", visitor_with("pa"), 0);
    cache.put("b", visitor_with("pb"), 0);
    ASSERT_NE(cache.get("a", 1), nullptr);  // a is now the most recent
    cache.put("c", visitor_with("pc"), 2);
    EXPECT_NE(cache.get("a", 3), nullptr);
    EXPECT_EQ(cache.get("b", 3), nullptr);
    EXPECT_NE(cache.get("c", 3), nullptr);
    EXPECT_EQ(cache.entries(), 2u);
}

TEST(ProfileCache, EvictsBeyondByteBound) {
    tailor::ProfileCache cache(100, 1000, 10);
    cache.put("a", visitor_with("1234"), 0);  // 5 bytes with the key
    cache.put("b", visitor_with("1234"), 0);  // 10
    cache.put("c", visitor_with("1234"), 0);  // 15: a goes
    EXPECT_EQ(cache.get("a", 1), nullptr);
    EXPECT_NE(cache.get("c", 1), nullptr);
    EXPECT_LE(cache.bytes(), 10u);
}

TEST(ProfileCache, DataLargerThanTheBoundIsNotKept) {
    tailor::ProfileCache cache(100, 1000, 4);
    cache.put("a", visitor_with("12345"), 0);
    EXPECT_EQ(cache.entries(), 0u);
}

TEST(ProfileCache, PutReplacesAndKeepsByteCountExact) {
    tailor::ProfileCache cache(10, 1000);
    cache.put("a", visitor_with("1"), 0);
    cache.put("a", visitor_with("123"), 0);
    EXPECT_EQ(cache.entries(), 1u);
    EXPECT_EQ(cache.bytes(), 4u);
    EXPECT_EQ(cache.get("a", 1)->profile.bytes, "123");
}

TEST(ProfileCache, ZeroEntriesMeansOff) {
    tailor::ProfileCache cache(0, 1000);
    cache.put("a", visitor_with("1"), 0);
    EXPECT_EQ(cache.get("a", 1), nullptr);
}

namespace {

TEST(ProfileCache, OnlyHitsAreCacheable) {
    EXPECT_TRUE(tailor::is_cacheable_outcome(tailor::Outcome::kHit));
    for (size_t i = 0; i < tailor::kOutcomeCount; ++i) {
        auto o = static_cast<tailor::Outcome>(i);
        if (o != tailor::Outcome::kHit) {
            EXPECT_FALSE(tailor::is_cacheable_outcome(o)) << tailor::outcome_name(o);
        }
    }
}

}  // namespace
