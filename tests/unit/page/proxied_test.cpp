// Proxied pages: strong ETags only, keys that keep sites and paths apart, a copy kept only to
// its declared length, a match that proves every byte, and sightings that admit a key once seen.
#include "tailor/page/proxied.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

const std::string kPage = "<html><body><tailor-slot name=hero>Hi</tailor-slot></body></html>";

TEST(ProxiedPage, OnlyAStrongEtagNamesTheBytes) {
    EXPECT_TRUE(is_strong_etag("\"5f1e-d416\""));
    EXPECT_TRUE(is_strong_etag("\"\""));
    EXPECT_FALSE(is_strong_etag("W/\"5f1e-d416\""));
    EXPECT_FALSE(is_strong_etag("5f1e-d416"));
    EXPECT_FALSE(is_strong_etag("\""));
    EXPECT_FALSE(is_strong_etag(""));
}

TEST(ProxiedPage, KeysDifferByServerPathEtagAndLength) {
    const PageKey k = proxied_page_key(1, "/p.html", "\"a\"", 100);
    EXPECT_EQ(k.device, kProxiedPageDevice);
    EXPECT_EQ(k.offset, 100);
    EXPECT_EQ(k, proxied_page_key(1, "/p.html", "\"a\"", 100));
    EXPECT_FALSE(k == proxied_page_key(2, "/p.html", "\"a\"", 100));
    EXPECT_FALSE(k == proxied_page_key(1, "/q.html", "\"a\"", 100));
    EXPECT_FALSE(k == proxied_page_key(1, "/p.html", "\"b\"", 100));
    EXPECT_FALSE(k == proxied_page_key(1, "/p.html", "\"a\"", 101));
    // the parts are kept apart: moving a byte from the path to the ETag is another key
    EXPECT_FALSE(proxied_page_key(1, "/ab", "\"c\"", 1) == proxied_page_key(1, "/a", "b\"c\"", 1));
}

TEST(ProxiedPage, AKeyIsSeenBeforeOnlyOnceItWasRecorded) {
    PageSightings seen;
    const PageKey a = proxied_page_key(1, "/a", "\"1\"", 10);
    const PageKey b = proxied_page_key(1, "/b", "\"1\"", 10);
    EXPECT_FALSE(seen.seen_before(a));
    EXPECT_TRUE(seen.seen_before(a));
    EXPECT_FALSE(seen.seen_before(b));
    EXPECT_TRUE(seen.seen_before(b));
}

TEST(ProxiedPage, SightingsForgetAKeyWhoseSlotWasTaken) {
    PageSightings seen;
    const PageKey a = proxied_page_key(1, "/a", "\"1\"", 10);
    EXPECT_FALSE(seen.seen_before(a));
    // a stream of keys that never repeat takes every slot, so none is admitted
    for (int i = 0; i < 4096; ++i) {
        EXPECT_FALSE(seen.seen_before(proxied_page_key(1, "/x", std::to_string(i), 10)));
    }
    EXPECT_FALSE(seen.seen_before(a));
}

TEST(ProxiedPage, ACaptureKeepsTheBodyUpToItsLength) {
    PageCapture capture;
    ASSERT_TRUE(capture.start(kPage.size()));
    EXPECT_FALSE(capture.complete());
    ASSERT_TRUE(capture.append(std::string_view(kPage).substr(0, 10)));
    ASSERT_TRUE(capture.append(""));
    ASSERT_TRUE(capture.append(std::string_view(kPage).substr(10)));
    EXPECT_TRUE(capture.complete());
    EXPECT_EQ(capture.take(), kPage);
}

TEST(ProxiedPage, ACaptureThatRunsPastItsLengthIsAbandoned) {
    PageCapture capture;
    ASSERT_TRUE(capture.start(4));
    ASSERT_TRUE(capture.append("abc"));
    EXPECT_FALSE(capture.append("de"));
    EXPECT_FALSE(capture.complete());
    EXPECT_FALSE(capture.append("d"));  // abandoned for good
    EXPECT_FALSE(capture.complete());
}

TEST(ProxiedPage, AnUnstartedCaptureTakesNothing) {
    PageCapture capture;
    EXPECT_FALSE(capture.append("x"));
    EXPECT_FALSE(capture.complete());
}

TEST(ProxiedPage, AMatchCompletesOnlyWhenEveryByteWasEqual) {
    for (size_t split = 0; split <= kPage.size(); ++split) {
        PageMatch match(kPage);
        const std::string_view page(kPage);
        const auto first = match.feed(page.substr(0, split));
        EXPECT_EQ(first,
                  split == kPage.size() ? PageMatch::Step::kComplete : PageMatch::Step::kMatching);
        EXPECT_EQ(match.matched(), split);
        if (split < kPage.size()) {
            EXPECT_EQ(match.feed(page.substr(split)), PageMatch::Step::kComplete);
        }
        EXPECT_TRUE(match.complete());
    }
}

TEST(ProxiedPage, AMatchStopsAtTheFirstDifferenceWithoutCountingIt) {
    for (size_t at = 0; at < kPage.size(); ++at) {
        std::string other = kPage;
        other[at] ^= 0x20;
        PageMatch match(kPage);
        const size_t split = at / 2;
        ASSERT_EQ(match.feed(std::string_view(other).substr(0, split)), PageMatch::Step::kMatching);
        EXPECT_EQ(match.feed(std::string_view(other).substr(split)), PageMatch::Step::kMismatch);
        EXPECT_EQ(match.matched(), split) << "the differing buffer is not counted";
        EXPECT_FALSE(match.complete());
    }
}

TEST(ProxiedPage, ABodyLongerThanThePageIsAMismatch) {
    PageMatch match(kPage);
    EXPECT_EQ(match.feed(kPage + "x"), PageMatch::Step::kMismatch);
    EXPECT_EQ(match.matched(), 0u);
    EXPECT_EQ(match.feed(kPage), PageMatch::Step::kComplete);
    EXPECT_EQ(match.feed("x"), PageMatch::Step::kMismatch);
}

TEST(ProxiedPage, AProxiedPageLivesInThePageCacheAndCanBeErased) {
    PageCache cache({});
    const PageKey k = proxied_page_key(1, "/p.html", "\"a\"", static_cast<int64_t>(kPage.size()));
    const PageVersion v = proxied_page_version(static_cast<int64_t>(kPage.size()));
    ASSERT_NE(cache.insert(k, v, kPage), nullptr);
    auto page = cache.find(k, v);
    ASSERT_NE(page, nullptr);
    EXPECT_EQ(page->bytes, kPage);
    cache.erase(k);
    EXPECT_EQ(cache.find(k, v), nullptr);
    EXPECT_EQ(cache.entries(), 0u);
    EXPECT_EQ(page->bytes, kPage) << "a response still holding the page keeps it";
    cache.erase(k);  // erasing what is not there is harmless
}

}  // namespace
}  // namespace tailor
