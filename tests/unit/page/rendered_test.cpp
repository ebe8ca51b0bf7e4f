// RenderedPage and PageCache::rendered: a body written to an unlinked file holds exactly the
// replay's bytes (with chunked framing when asked), is written only the second time the same
// content comes, and is never handed to content that differs.
#include "tailor/page/rendered.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "page/page_cases.h"
#include "tailor/page/cache.h"
#include "temp_dir.h"

namespace tailor {
namespace {

const std::string kPage =
    "<html><body><tailor-slot name=hero>Hi</tailor-slot><p>text</p>"
    "<tailor-slot name=cart></tailor-slot><tailor-slot name=hero>again</tailor-slot></body></html>";

std::string replay(const PageLayout& layout, const SlotFill* fills, size_t n,
                   std::string_view injection) {
    std::string out;
    for (const LayoutPiece& piece : layout.pieces()) {
        out.append(layout.resolve(piece, kPage, fills, n, injection));
    }
    return out;
}

std::string contents(const RenderedPage& body) {
    std::string out(body.size(), '\0');
    EXPECT_EQ(::pread(body.fd(), out.data(), out.size(), 0), static_cast<ssize_t>(out.size()));
    char extra;
    EXPECT_EQ(::pread(body.fd(), &extra, 1, static_cast<off_t>(out.size())), 0);
    return out;
}

PageKey key() {
    return PageKey{1, 1, 0};
}

// The second time `content` comes under its layout: the call that writes its body.
PageCache::RenderedLookup second_sight(PageCache& cache, const std::shared_ptr<const Page>& page,
                                       const RenderedContent& content, const std::string& dir) {
    (void)cache.rendered(key(), page, content, dir);
    return cache.rendered(key(), page, content, dir);
}

TEST(RenderedPage, HoldsTheReplaysBytesPlainOrChunked) {
    TempDir dir("rendered");
    const SlotFill fills[] = {{"hero", "<p>Ann</p>"}, {"cart", "<b>2 items</b>"}};
    auto layout = PageLayout::record(kPage, fills, 2, "<script>x</script>");
    ASSERT_TRUE(layout);
    const std::string want = replay(*layout, fills, 2, "<script>x</script>");

    RenderedContent plain{&*layout, fills, 2, "<script>x</script>", false};
    auto body = RenderedPage::write(dir.path(), kPage, plain);
    ASSERT_NE(body, nullptr);
    EXPECT_EQ(contents(*body), want);
    EXPECT_TRUE(body->same(plain));

    RenderedContent chunked = plain;
    chunked.chunked = true;
    auto framed = RenderedPage::write(dir.path(), kPage, chunked);
    ASSERT_NE(framed, nullptr);
    char size[16];
    snprintf(size, sizeof size, "%zx", want.size());
    EXPECT_EQ(contents(*framed), std::string(size) + "\r\n" + want + "\r\n0\r\n\r\n");
    EXPECT_FALSE(framed->same(plain));
    EXPECT_TRUE(framed->same(chunked));
}

TEST(RenderedPage, HoldsTheStreamingRewritersBytesForEveryPageFillsAndInjection) {
    TempDir dir("rendered");
    for (const page_cases::Case& c : page_cases::pages()) {
        for (const auto& fills : page_cases::fill_sets()) {
            for (std::string_view injection : {std::string_view(), std::string_view("<i>d</i>")}) {
                auto layout = PageLayout::record(c.page, fills.data(), fills.size(), injection);
                ASSERT_TRUE(layout.has_value()) << c.what;
                const std::string want =
                    page_cases::stream(c.page, fills, injection, c.page.size() + 1);
                auto body = RenderedPage::write(
                    dir.path(), c.page, {&*layout, fills.data(), fills.size(), injection, false});
                if (want.empty()) {
                    EXPECT_EQ(body, nullptr) << "an empty body is replayed, never a file";
                    continue;
                }
                ASSERT_NE(body, nullptr) << c.what;
                EXPECT_EQ(contents(*body), want) << c.what << " with " << fills.size() << " fills";
            }
        }
    }
}

TEST(RenderedPage, IsSameOnlyForTheSameTextOfEveryNamedFillAndTheInjection) {
    TempDir dir("rendered");
    const SlotFill ann[] = {{"hero", "<p>Ann</p>"}, {"cart", "c"}};
    auto layout = PageLayout::record(kPage, ann, 2, "");
    ASSERT_TRUE(layout);
    auto body = RenderedPage::write(dir.path(), kPage, {&*layout, ann, 2, "", false});
    ASSERT_NE(body, nullptr);

    // the same texts in another order, and a second fill of a name (never used): same
    const SlotFill reordered[] = {{"cart", "c"}, {"hero", "<p>Ann</p>"}, {"hero", "<p>Bob</p>"}};
    EXPECT_TRUE(body->same({&*layout, reordered, 3, "", false}));
    const SlotFill bob[] = {{"hero", "<p>Bob</p>"}, {"cart", "c"}};
    EXPECT_FALSE(body->same({&*layout, bob, 2, "", false}));
    const SlotFill longer[] = {{"hero", "<p>Ann</p>!"}, {"cart", "c"}};
    EXPECT_FALSE(body->same({&*layout, longer, 2, "", false}));
    EXPECT_FALSE(body->same({&*layout, ann, 2, "<script></script>", false}));
}

TEST(RenderedPage, FailsCleanlyWhereNoFileCanBeMade) {
    const SlotFill fills[] = {{"hero", "x"}};
    auto layout = PageLayout::record(kPage, fills, 1, "");
    ASSERT_TRUE(layout);
    int error = 0;
    EXPECT_EQ(
        RenderedPage::write("/nonexistent/tailor", kPage, {&*layout, fills, 1, "", false}, &error),
        nullptr);
    EXPECT_EQ(error, ENOENT);
}

TEST(PageCacheRendered, WritesABodyTheSecondTimeItsContentComesAndReusesIt) {
    TempDir dir("rendered");
    PageCache cache({});
    auto page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    const SlotFill fills[] = {{"hero", "<p>Ann</p>"}};
    auto layout = cache.layout(key(), page, fills, 1, "");
    ASSERT_NE(layout, nullptr);
    const RenderedContent content{layout.get(), fills, 1, "", true};

    auto first = cache.rendered(key(), page, content, dir.path());
    EXPECT_EQ(first.body, nullptr);  // seen once: replayed from memory
    EXPECT_FALSE(first.written);
    const size_t bytes = cache.bytes();

    auto second = cache.rendered(key(), page, content, dir.path());
    ASSERT_NE(second.body, nullptr);
    EXPECT_TRUE(second.written);
    EXPECT_EQ(cache.bytes(), bytes + second.body->footprint());

    auto third = cache.rendered(key(), page, content, dir.path());
    EXPECT_EQ(third.body, second.body);
    EXPECT_FALSE(third.written);
}

TEST(PageCacheRendered, NeverHandsABodyToOtherFills) {
    TempDir dir("rendered");
    PageCache cache({});
    auto page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    const SlotFill ann[] = {{"hero", "<p>Ann</p>"}};
    const SlotFill bob[] = {{"hero", "<p>Bob</p>"}};
    auto layout = cache.layout(key(), page, ann, 1, "");
    const RenderedContent for_ann{layout.get(), ann, 1, "", false};
    const RenderedContent for_bob{layout.get(), bob, 1, "", false};
    auto anns = second_sight(cache, page, for_ann, dir.path()).body;
    ASSERT_NE(anns, nullptr);

    EXPECT_EQ(cache.rendered(key(), page, for_bob, dir.path()).body, nullptr);
    auto bobs = cache.rendered(key(), page, for_bob, dir.path()).body;
    ASSERT_NE(bobs, nullptr);
    EXPECT_NE(bobs, anns);
    EXPECT_NE(contents(*bobs).find("Bob"), std::string::npos);
    EXPECT_EQ(cache.rendered(key(), page, for_ann, dir.path()).body, anns);
}

TEST(PageCacheRendered, KeepsAtMostTheCapPerLayoutAndNoneWhenOff) {
    TempDir dir("rendered");
    PageCacheLimits limits;
    limits.max_rendered_per_layout = 1;
    PageCache cache(limits);
    auto page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    const SlotFill a[] = {{"hero", "a"}};
    const SlotFill b[] = {{"hero", "b"}};
    auto layout = cache.layout(key(), page, a, 1, "");
    const RenderedContent ca{layout.get(), a, 1, "", false};
    const RenderedContent cb{layout.get(), b, 1, "", false};
    ASSERT_NE(second_sight(cache, page, ca, dir.path()).body, nullptr);
    const size_t bytes_with_a = cache.bytes();
    auto held_b = second_sight(cache, page, cb, dir.path()).body;
    ASSERT_NE(held_b, nullptr);
    EXPECT_EQ(cache.bytes(), bytes_with_a);  // b replaced a
    auto again_a = cache.rendered(key(), page, ca, dir.path());
    EXPECT_FALSE(again_a.written);  // a's sighting was spent: it must come twice again
    EXPECT_EQ(again_a.body, nullptr);

    limits.max_rendered_per_layout = 0;
    PageCache off(limits);
    auto p = off.insert(key(), PageVersion{1, 1, 1}, kPage);
    auto l = off.layout(key(), p, a, 1, "");
    const RenderedContent c{l.get(), a, 1, "", false};
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(off.rendered(key(), p, c, dir.path()).body, nullptr);
    }
}

TEST(PageCacheRendered, ReplacesTheLeastRecentlyUsedBodyAtTheCap) {
    TempDir dir("rendered");
    PageCacheLimits limits;
    limits.max_rendered_per_layout = 2;
    PageCache cache(limits);
    auto page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    const SlotFill a[] = {{"hero", "a"}};
    const SlotFill b[] = {{"hero", "b"}};
    const SlotFill c[] = {{"hero", "c"}};
    auto layout = cache.layout(key(), page, a, 1, "");
    auto render = [&](const SlotFill* f) {
        return second_sight(cache, page, {layout.get(), f, 1, "", false}, dir.path()).body;
    };
    auto body_a = render(a);
    auto body_b = render(b);
    ASSERT_NE(body_a, nullptr);
    ASSERT_NE(body_b, nullptr);
    // a is used again: b is now the least recently used, and c replaces it
    EXPECT_EQ(cache.rendered(key(), page, {layout.get(), a, 1, "", false}, dir.path()).body,
              body_a);
    ASSERT_NE(render(c), nullptr);
    EXPECT_EQ(cache.rendered(key(), page, {layout.get(), a, 1, "", false}, dir.path()).body,
              body_a);
    EXPECT_EQ(cache.rendered(key(), page, {layout.get(), b, 1, "", false}, dir.path()).body,
              nullptr);
}

TEST(PageCacheRendered, WritesNothingTheByteBudgetCouldNotKeep) {
    TempDir dir("rendered");
    PageCacheLimits limits;
    limits.max_bytes = 4096;
    PageCache cache(limits);
    const std::string big = "<tailor-slot name=hero>x</tailor-slot>" + std::string(3000, 'p');
    auto page = cache.insert(key(), PageVersion{1, 1, 1}, big);
    const SlotFill a[] = {{"hero", "a"}};
    auto layout = cache.layout(key(), page, a, 1, "");
    ASSERT_LT(cache.bytes(), limits.max_bytes);
    const RenderedContent content{layout.get(), a, 1, "", false};
    for (int i = 0; i < 3; ++i) {
        auto found = cache.rendered(key(), page, content, dir.path());
        EXPECT_EQ(found.body, nullptr);
        EXPECT_FALSE(found.written);
    }
    EXPECT_LE(cache.bytes(), limits.max_bytes);
}

// At the cache's cap a new file takes the place of the least recently used one, whatever
// its layout, once that one has gone idle: the cap holds and the bodies in use stay.
TEST(PageCacheRendered, KeepsNoMoreFilesThanItsCapAcrossLayouts) {
    TempDir dir("rendered");
    PageCacheLimits limits;
    limits.max_rendered_files = 2;
    PageCache cache(limits);
    const SlotFill a[] = {{"hero", "a"}};
    const SlotFill b[] = {{"cart", "b"}};
    const SlotFill c[] = {{"hero", "c"}};
    auto page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    auto hero = cache.layout(key(), page, a, 1, "");
    auto cart = cache.layout(key(), page, b, 1, "");
    const RenderedContent hero_a{hero.get(), a, 1, "", false};
    const RenderedContent cart_b{cart.get(), b, 1, "", false};
    auto first = second_sight(cache, page, hero_a, dir.path()).body;
    EXPECT_NE(first, nullptr);
    EXPECT_TRUE(second_sight(cache, page, cart_b, dir.path()).written);
    EXPECT_EQ(cache.rendered_files(), 2u);
    const RenderedContent hero_c{hero.get(), c, 1, "", false};
    auto third = second_sight(cache, page, hero_c, dir.path());
    EXPECT_FALSE(third.written);  // both files are in use: none makes room yet
    EXPECT_EQ(cache.rendered_files(), 2u);

    for (uint64_t i = 0; i < PageCache::kIdleLookups * limits.max_rendered_files; ++i) {
        EXPECT_EQ(cache.rendered(key(), page, hero_a, dir.path()).body, first);  // a in use
    }
    third = cache.rendered(key(), page, hero_c, dir.path());
    EXPECT_TRUE(third.written);
    EXPECT_EQ(cache.rendered_files(), 2u);
    EXPECT_EQ(cache.rendered(key(), page, hero_a, dir.path()).body, first);    // kept
    EXPECT_EQ(cache.rendered(key(), page, cart_b, dir.path()).body, nullptr);  // replaced

    cache.erase(key());  // the page's bodies go with it
    EXPECT_EQ(cache.rendered_files(), 0u);
    EXPECT_EQ(cache.bytes(), 0u);
}

// Pages loaded twice each and never again fill every file the cache may keep; a page sent
// every second must still get its file (the cold files make room once they are idle).
TEST(PageCacheRendered, ColdPagesDoNotKeepTheirFilesFromAHotOne) {
    TempDir dir("rendered");
    PageCacheLimits limits;
    limits.max_rendered_files = 4;
    PageCache cache(limits);
    const SlotFill fills[] = {{"hero", "offer"}};
    for (uint64_t cold = 10; cold < 14; ++cold) {
        const PageKey k{1, cold, 0};
        auto page = cache.insert(k, PageVersion{1, 1, 1}, kPage);
        auto layout = cache.layout(k, page, fills, 1, "");
        const RenderedContent content{layout.get(), fills, 1, "", false};
        (void)cache.rendered(k, page, content, dir.path());
        EXPECT_TRUE(cache.rendered(k, page, content, dir.path()).written);
    }
    EXPECT_EQ(cache.rendered_files(), 4u);

    auto page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    auto layout = cache.layout(key(), page, fills, 1, "");
    const RenderedContent hot{layout.get(), fills, 1, "", false};
    std::shared_ptr<const RenderedPage> body;
    size_t sends = 0;
    for (; sends < 1000 && body == nullptr; ++sends) {
        body = cache.rendered(key(), page, hot, dir.path()).body;
    }
    ASSERT_NE(body, nullptr);  // once the cold files went idle
    EXPECT_LE(sends, PageCache::kIdleLookups * limits.max_rendered_files + 2);
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(cache.rendered(key(), page, hot, dir.path()).body, body);
    }
    EXPECT_EQ(cache.rendered_files(), 4u);
}

TEST(PageCacheRendered, AnEvictedBodyStaysReadableWhileAResponseHoldsIt) {
    TempDir dir("rendered");
    PageCacheLimits limits;
    limits.max_entries = 1;
    PageCache cache(limits);
    auto page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    const SlotFill a[] = {{"hero", "kept"}};
    auto layout = cache.layout(key(), page, a, 1, "");
    const RenderedContent content{layout.get(), a, 1, "", false};
    auto held = second_sight(cache, page, content, dir.path()).body;
    ASSERT_NE(held, nullptr);
    ASSERT_NE(cache.insert(PageKey{1, 2, 0}, PageVersion{1, 1, 1}, "other"), nullptr);
    EXPECT_EQ(cache.find(key(), PageVersion{1, 1, 1}), nullptr);
    EXPECT_EQ(contents(*held), replay(*layout, a, 1, ""));
}

// The hero layout of kPage in a fresh cache, and `n` distinct hero texts to fill it with.
struct HeroBodies {
    explicit HeroBodies(size_t n) {
        for (size_t i = 0; i < n; ++i) {
            texts.push_back("visitor " + std::to_string(i));
        }
        const SlotFill any[] = {{"hero", "any"}};
        layout = cache.layout(key(), page, any, 1, "");
    }
    // The second sighting of `text`'s body: the call that may write it.
    PageCache::RenderedLookup second_sight_of(const std::string& text) {
        const SlotFill fills[] = {{"hero", text}};
        return second_sight(cache, page, {layout.get(), fills, 1, "", false}, dir.path());
    }

    TempDir dir{"rendered"};
    PageCache cache{PageCacheLimits{}};
    std::shared_ptr<const Page> page = cache.insert(key(), PageVersion{1, 1, 1}, kPage);
    std::shared_ptr<const PageLayout> layout;
    std::vector<std::string> texts;
};

// Bodies that each come exactly twice: the second sighting of each would write a file that
// is never sent again.
TEST(PageCacheRendered, StopsWritingFilesThatAreNotSentAgainButProbes) {
    HeroBodies h(400);
    ASSERT_NE(h.layout, nullptr);
    size_t written = 0;
    size_t declined = 0;
    for (const std::string& text : h.texts) {
        auto found = h.second_sight_of(text);
        written += found.written ? 1 : 0;
        declined += found.declined ? 1 : 0;
        EXPECT_FALSE(found.written && found.declined);
    }
    // the free ones, then one probe in every kProbeEvery declined
    EXPECT_EQ(written, PageCache::kFreeRenders +
                           (h.texts.size() - PageCache::kFreeRenders) / PageCache::kProbeEvery);
    EXPECT_EQ(written + declined, h.texts.size());
}

// A body sent from its file again and again pays for more files: the layout keeps writing.
TEST(PageCacheRendered, KeepsWritingWhileTheFilesAreSent) {
    HeroBodies h(100);
    const SlotFill hot[] = {{"hero", "a segment's offer"}};
    const RenderedContent hot_content{h.layout.get(), hot, 1, "", false};
    auto hot_body = second_sight(h.cache, h.page, hot_content, h.dir.path()).body;
    ASSERT_NE(hot_body, nullptr);
    size_t written = 0;
    for (const std::string& text : h.texts) {
        for (int i = 0; i < 2 * static_cast<int>(PageCache::kSendsPerRender); ++i) {
            EXPECT_EQ(h.cache.rendered(key(), h.page, hot_content, h.dir.path()).body, hot_body);
        }
        auto found = h.second_sight_of(text);
        EXPECT_FALSE(found.declined) << text;
        written += found.written ? 1 : 0;
        // the hot body is used again before the next one comes, so it stays
    }
    EXPECT_EQ(written, h.texts.size());
}

// Sends long past do not pay for files now: a body sent a million times, then bodies that
// each come exactly twice; the bank of sends the first one left pays for at most
// kSendWindow / kSendsPerRender of them before the layout stops writing (but for probes).
TEST(PageCacheRendered, SendsLongPastPayForFewFiles) {
    HeroBodies h(3000);
    const SlotFill hot[] = {{"hero", "last season's offer"}};
    const RenderedContent hot_content{h.layout.get(), hot, 1, "", false};
    auto hot_body = second_sight(h.cache, h.page, hot_content, h.dir.path()).body;
    ASSERT_NE(hot_body, nullptr);
    for (int i = 0; i < 1000000; ++i) {
        (void)h.cache.rendered(key(), h.page, hot_content, h.dir.path());
    }
    size_t written = 0;
    for (const std::string& text : h.texts) {
        written += h.second_sight_of(text).written ? 1 : 0;
    }
    EXPECT_LE(written, PageCache::kFreeRenders +
                           PageCache::kSendWindow / PageCache::kSendsPerRender +
                           h.texts.size() / PageCache::kProbeEvery);
    EXPECT_GE(written, h.texts.size() / PageCache::kProbeEvery);
}

}  // namespace
}  // namespace tailor
