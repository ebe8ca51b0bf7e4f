// PageCache tests: versions, bounds, layouts per signature, and references that outlive eviction.
#include "tailor/page/cache.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

const std::string kPage = "<html><body><tailor-slot name=hero>Hi</tailor-slot></body></html>";

PageKey key(uint64_t inode) {
    return PageKey{1, inode, 0};
}
PageVersion version(int64_t size, int64_t mtime = 1) {
    return PageVersion{size, mtime, mtime};
}

TEST(PageCache, FindsWhatWasInsertedAtTheSameVersionOnly) {
    PageCache cache({});
    EXPECT_EQ(cache.find(key(1), version(10)), nullptr);
    auto page = cache.insert(key(1), version(10), kPage);
    ASSERT_NE(page, nullptr);
    EXPECT_EQ(cache.find(key(1), version(10)), page);
    EXPECT_EQ(cache.find(key(2), version(10)), nullptr);
    EXPECT_EQ(cache.find(PageKey{1, 1, 608}, version(10)), nullptr);  // another body offset
    // a new mtime or ctime is a new version: the stale entry goes
    EXPECT_EQ(cache.find(key(1), PageVersion{10, 1, 2}), nullptr);
    EXPECT_EQ(cache.entries(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
}

TEST(PageCache, KeepsWithinItsEntryAndByteBoundsEvictingTheLeastRecent) {
    PageCacheLimits limits;
    limits.max_entries = 2;
    PageCache cache(limits);
    ASSERT_NE(cache.insert(key(1), version(1), "a"), nullptr);
    ASSERT_NE(cache.insert(key(2), version(1), "b"), nullptr);
    ASSERT_NE(cache.find(key(1), version(1)), nullptr);  // 1 is now the most recent
    ASSERT_NE(cache.insert(key(3), version(1), "c"), nullptr);
    EXPECT_EQ(cache.entries(), 2u);
    EXPECT_NE(cache.find(key(1), version(1)), nullptr);
    EXPECT_EQ(cache.find(key(2), version(1)), nullptr);

    limits.max_entries = 100;
    limits.max_bytes = 10;
    PageCache small(limits);
    ASSERT_NE(small.insert(key(1), version(1), std::string(6, 'x')), nullptr);
    ASSERT_NE(small.insert(key(2), version(1), std::string(6, 'y')), nullptr);
    EXPECT_EQ(small.entries(), 1u);
    EXPECT_LE(small.bytes(), 10u);
}

TEST(PageCache, RefusesPagesOverTheSizeCap) {
    PageCacheLimits limits;
    limits.max_page_bytes = 8;
    PageCache cache(limits);
    EXPECT_EQ(cache.insert(key(1), version(9), std::string(9, 'x')), nullptr);
    EXPECT_EQ(cache.entries(), 0u);
}

TEST(PageCache, AnEvictedPageLivesOnWhileAResponseHoldsIt) {
    PageCacheLimits limits;
    limits.max_entries = 1;
    PageCache cache(limits);
    auto held = cache.insert(key(1), version(1), kPage);
    const SlotFill fills[] = {{"hero", "<p>Ann</p>"}};
    auto layout = cache.layout(key(1), held, fills, 1, "");
    ASSERT_NE(layout, nullptr);
    ASSERT_NE(cache.insert(key(2), version(1), "other"), nullptr);  // evicts page 1
    EXPECT_EQ(cache.find(key(1), version(1)), nullptr);
    std::string out;
    for (const LayoutPiece& piece : layout->pieces()) {
        out.append(layout->resolve(piece, held->bytes, fills, 1, ""));
    }
    EXPECT_EQ(out, "<html><body><tailor-slot name=hero><p>Ann</p></tailor-slot></body></html>");
}

TEST(PageCache, RecordsOneLayoutPerSignatureAndReusesIt) {
    PageCache cache({});
    auto page = cache.insert(key(1), version(1), kPage);
    const SlotFill ann[] = {{"hero", "<p>Ann</p>"}};
    const SlotFill bob[] = {{"hero", "<p>Bob</p>"}};
    auto first = cache.layout(key(1), page, ann, 1, "");
    const size_t bytes_after_first = cache.bytes();
    EXPECT_GT(bytes_after_first, kPage.size());
    EXPECT_EQ(cache.layout(key(1), page, bob, 1, ""), first);
    EXPECT_EQ(cache.bytes(), bytes_after_first);
    auto none = cache.layout(key(1), page, nullptr, 0, "");
    EXPECT_NE(none, first);
    EXPECT_EQ(none->stats().slots_replaced, 0u);
    EXPECT_EQ(first->stats().slots_replaced, 1u);
}

TEST(PageCache, StopsKeepingLayoutsPastThePerPageCapButStillAnswers) {
    PageCacheLimits limits;
    limits.max_layouts_per_page = 1;
    PageCache cache(limits);
    auto page = cache.insert(key(1), version(1), kPage);
    const SlotFill a[] = {{"hero", "a"}};
    const SlotFill b[] = {{"cart", "b"}};
    auto la = cache.layout(key(1), page, a, 1, "");
    const size_t bytes = cache.bytes();
    auto lb = cache.layout(key(1), page, b, 1, "");
    ASSERT_NE(lb, nullptr);
    EXPECT_EQ(cache.bytes(), bytes);
    EXPECT_NE(cache.layout(key(1), page, b, 1, ""), lb);  // recorded again, not kept
    EXPECT_EQ(cache.layout(key(1), page, a, 1, ""), la);
}

}  // namespace
}  // namespace tailor
