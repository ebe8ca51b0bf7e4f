// SlotRewriter tests on real storefront pages (tests/data/pages).
// Every case runs whole, byte by byte and at random splits (slot_rewriter_test_util.h).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "slot_rewriter_test_util.h"
#include "tailor/html/slot_rewriter.h"

namespace tailor {
namespace {

using namespace slot_rewriter_testing;

TEST(SlotRewriter, ProductPageWithoutFillsIsUnchanged) {
    const std::string page = read_page("product.html");
    ASSERT_GT(page.size(), 40000u);
    const auto stats = expect_rewrite(page, {}, "", page, 5);
    EXPECT_EQ(3u, stats.slots_seen);
}

TEST(SlotRewriter, ProductPageFillsThreeSlotsAndInjects) {
    const std::string page = read_page("product.html");
    const std::vector<SlotFill> fills = {
        {"hero", "<h2>Welcome back, Ann</h2>"},
        {"recommendations", "<ul class=\"grid\"><li>Picks</li></ul>"},
        {"reward-reminder", "<p>You have 1,200 points</p>"}};
    const std::string expected = rewrite_slots(page, fills, kInject);
    const auto stats = expect_rewrite(page, fills, kInject, expected, 5);
    EXPECT_EQ(3u, stats.slots_replaced);
    EXPECT_EQ(0u, stats.slots_bailed);
    EXPECT_TRUE(stats.injected);
    EXPECT_EQ(std::string::npos, expected.find("Welcome, shopper"));
    EXPECT_NE(std::string::npos, expected.find("textarea text, not a slot"));
    EXPECT_NE(std::string::npos, expected.find("not a slot</tailor-slot>\";"));
    EXPECT_EQ(expected.rfind("</body>"), expected.find(kInject) + kInject.size());
}

TEST(SlotRewriter, SlotFreeProductPageOnlyGetsTheInjection) {
    const std::string page = read_page("product_noslots.html");
    expect_rewrite(page, kHero, "", page, 5);
    std::string expected = page;
    expected.insert(page.rfind("</body>"), kInject);
    expect_rewrite(page, kHero, kInject, expected, 5);
}

}  // namespace
}  // namespace tailor
