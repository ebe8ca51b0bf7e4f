// PageLayout tests: a replayed layout gives exactly the streaming rewriter's bytes.
#include "tailor/page/layout.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {
namespace {

std::string stream(std::string_view page, const std::vector<SlotFill>& fills,
                   std::string_view injection, size_t chunk) {
    std::string out;
    auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
    SlotRewriter rw(fills, injection);
    for (size_t at = 0; at < page.size(); at += chunk) {
        rw.write(page.substr(at, chunk), make_sink(append));
    }
    rw.finish(make_sink(append));
    return out;
}

std::string replay(const PageLayout& layout, std::string_view page,
                   const std::vector<SlotFill>& fills, std::string_view injection) {
    std::string out;
    for (const LayoutPiece& piece : layout.pieces()) {
        std::string_view bytes = layout.resolve(piece, page, fills.data(), fills.size(), injection);
        EXPECT_FALSE(bytes.empty()) << "a piece resolved to nothing";
        out.append(bytes);
    }
    return out;
}

std::string read_page(const char* name) {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/data/pages/" + name);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct Case {
    const char* what;
    std::string page;
};

std::vector<Case> pages() {
    return {
        {"the product page", read_page("product.html")},
        {"no slots", read_page("product_noslots.html")},
        {"edge cases",
         "<html><body><tailor-slot name=hero>Hi</tailor-slot><tailor-slot "
         "name='cart'></tailor-slot>"
         "<tailor-slot name=\"x>y\">q</tailor-slot><TAILOR-SLOT name=hero>upper</TAILOR-SLOT>"
         "<tailor-slotx name=hero>no</tailor-slotx><tailor-slot>nameless</tailor-slot>"
         "<!-- <tailor-slot name=hero>commented</tailor-slot> -->"
         "<script>'<tailor-slot name=hero>'</script>"
         "<tailor-slot name=hero><tailor-slot name=cart>nested</tailor-slot></tailor-slot>"
         "<tailor-slot name=cart>never closed"},
        {"a body close inside a slot",
         "<tailor-slot name=hero>a</body>b</tailor-slot></body></html>"},
        {"empty", ""},
    };
}

std::vector<std::vector<SlotFill>> fill_sets() {
    return {
        {},
        {{"hero", "<p>Welcome back</p>"}},
        {{"hero", ""}},
        {{"cart", "<b>2 items</b>"}, {"hero", "<p>A</p>"}, {"hero", "<p>ignored</p>"}},
        {{"reorder", "time to restock"}, {"x>y", "z"}, {"", "never"}},
    };
}

TEST(PageLayout, ReplayEqualsStreamingForEveryPageFillsAndInjection) {
    for (const Case& c : pages()) {
        for (const auto& fills : fill_sets()) {
            for (std::string_view injection : {std::string_view(), std::string_view("<i>d</i>")}) {
                auto layout = PageLayout::record(c.page, fills.data(), fills.size(), injection);
                ASSERT_TRUE(layout.has_value()) << c.what;
                const std::string expected = stream(c.page, fills, injection, c.page.size() + 1);
                EXPECT_EQ(replay(*layout, c.page, fills, injection), expected)
                    << c.what << " with " << fills.size() << " fills";
                // the streaming path sees the file in the copy filter's chunks
                EXPECT_EQ(stream(c.page, fills, injection, 32768), expected) << c.what;
            }
        }
    }
}

TEST(PageLayout, ALayoutServesEveryRequestWithTheSameSignature) {
    const std::string page = read_page("product.html");
    const std::vector<SlotFill> ann = {{"hero", "<p>Hi Ann</p>"}};
    const std::vector<SlotFill> bob = {{"hero", "<p>Hello Bob, welcome back to the shop</p>"}};
    ASSERT_EQ(fill_signature(ann.data(), 1, ""), fill_signature(bob.data(), 1, ""));
    auto layout = PageLayout::record(page, ann.data(), 1, "");
    ASSERT_TRUE(layout.has_value());
    EXPECT_EQ(replay(*layout, page, bob, ""), stream(page, bob, "", page.size()));
}

TEST(PageLayout, SignaturesTellApartWhatChangesTheOutput) {
    const SlotFill a[] = {{"hero", "x"}, {"cart", "y"}};
    const SlotFill b[] = {{"cart", "other"}, {"hero", "text"}};
    const SlotFill empty_cart[] = {{"hero", "x"}, {"cart", ""}};
    const SlotFill dup[] = {{"hero", "x"}, {"cart", "y"}, {"hero", ""}};
    EXPECT_EQ(fill_signature(a, 2, ""), fill_signature(b, 2, ""));    // order and text do not
    EXPECT_EQ(fill_signature(a, 2, ""), fill_signature(dup, 3, ""));  // the first fill wins
    EXPECT_NE(fill_signature(a, 2, ""), fill_signature(empty_cart, 2, ""));
    EXPECT_NE(fill_signature(a, 2, ""), fill_signature(a, 2, "<script></script>"));
    EXPECT_NE(fill_signature(a, 1, ""), fill_signature(a, 2, ""));
    const SlotFill ab[] = {{"ab", "x"}};
    const SlotFill a_b[] = {{"a", "x"}, {"b", "x"}};
    EXPECT_NE(fill_signature(ab, 1, ""), fill_signature(a_b, 2, ""));
}

TEST(PageLayout, AnUnchangedPageIsOnePieceOfThePage) {
    const std::string page = read_page("product_noslots.html");
    auto layout = PageLayout::record(page, nullptr, 0, "");
    ASSERT_TRUE(layout.has_value());
    ASSERT_EQ(layout->pieces().size(), 1u);
    EXPECT_EQ(layout->pieces()[0].kind, LayoutPiece::Kind::kPage);
    EXPECT_EQ(layout->pieces()[0].end, page.size());
}

}  // namespace
}  // namespace tailor
