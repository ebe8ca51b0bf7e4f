// PageLayout tests: a replayed layout gives exactly the streaming rewriter's bytes.
#include "tailor/page/layout.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "page/page_cases.h"

namespace tailor {
namespace {

using page_cases::Case;
using page_cases::fill_sets;
using page_cases::pages;
using page_cases::read_page;
using page_cases::stream;

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

TEST(PageLayout, ManyFillsSignAlikeInAnyOrder) {
    std::vector<std::string> names;  // more than fill_signature keeps on its stack
    for (int i = 0; i < 40; ++i) {
        names.push_back("slot-" + std::to_string(i));
    }
    std::vector<SlotFill> fills;
    for (int i = 0; i < 40; ++i) {
        fills.push_back({names[static_cast<size_t>(i)], i % 3 == 0 ? "" : "x"});
    }
    std::vector<SlotFill> reversed(fills.rbegin(), fills.rend());
    reversed.push_back({"slot-7", ""});  // a later duplicate changes nothing
    const std::string sig = fill_signature(fills.data(), fills.size(), "");
    EXPECT_EQ(sig, fill_signature(reversed.data(), reversed.size(), ""));
    EXPECT_EQ(sig.substr(0, 22), "-6eslot-06fslot-17fslo");  // by name: slot-0, slot-1, slot-10
    fills[1].html = "";
    EXPECT_NE(sig, fill_signature(fills.data(), fills.size(), ""));
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
