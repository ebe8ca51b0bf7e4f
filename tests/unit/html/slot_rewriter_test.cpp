// SlotRewriter tests, the slots: which are filled, which keep their default,
// nested slots, and the caps past which a slot bails out.
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

TEST(SlotRewriter, PassesThroughPageWithoutSlots) {
    const std::string page =
        "<!DOCTYPE html><html><head><title>x</title></head><body><p "
        "class=\"a\">hi</p></body></html>";
    expect_rewrite(page, kHero, "", page);
}

TEST(SlotRewriter, KeepsDefaultWhenNoRuleFires) {
    const std::string page = "<tailor-slot name=\"hero\">Welcome, shopper</tailor-slot>";
    const auto stats = expect_rewrite(page, {}, "", page);
    EXPECT_EQ(1u, stats.slots_seen);
    EXPECT_EQ(0u, stats.slots_replaced);
}

TEST(SlotRewriter, ReplacesChildrenAndKeepsTheWrapper) {
    const auto stats = expect_rewrite(
        "<div><tailor-slot name=\"hero\" class=\"slot\">Welcome, "
        "<b>shopper</b></tailor-slot></div>",
        kHero, "",
        "<div><tailor-slot name=\"hero\" class=\"slot\"><p>Hi Ann</p></tailor-slot></div>");
    EXPECT_EQ(1u, stats.slots_replaced);
    EXPECT_EQ(0u, stats.slots_bailed);
}

TEST(SlotRewriter, SlotNamesAreCaseSensitive) {
    const std::string page = "<tailor-slot name=Hero>x</tailor-slot>";
    expect_rewrite(page, kHero, "", page);
}

TEST(SlotRewriter, MissingNamePassesThrough) {
    const std::string page =
        "<tailor-slot>a</tailor-slot><tailor-slot data-name=hero>b</tailor-slot>";
    expect_rewrite(page, kHero, "", page);
}

TEST(SlotRewriter, EmptyNamePassesThrough) {
    const std::vector<SlotFill> empty_name = {{"", "<p>never</p>"}};
    const std::string page =
        "<tailor-slot name=\"\">a</tailor-slot><tailor-slot name>b</tailor-slot>";
    expect_rewrite(page, empty_name, "", page);
}

TEST(SlotRewriter, FirstNameAttributeWins) {
    expect_rewrite("<tailor-slot name=hero name=other>a</tailor-slot>", kHero, "",
                   "<tailor-slot name=hero name=other><p>Hi Ann</p></tailor-slot>");
    const std::string page = "<tailor-slot name=other name=hero>a</tailor-slot>";
    expect_rewrite(page, kHero, "", page);
}

TEST(SlotRewriter, FirstFillWithANameWins) {
    const std::vector<SlotFill> fills = {{"hero", "1"}, {"hero", "2"}};
    expect_rewrite("<tailor-slot name=hero>a</tailor-slot>", fills, "",
                   "<tailor-slot name=hero>1</tailor-slot>");
}

TEST(SlotRewriter, EveryOccurrenceOfANameIsFilled) {
    const auto stats = expect_rewrite(
        "<tailor-slot name=hero>a</tailor-slot>|<tailor-slot name=hero>b</tailor-slot>", kHero, "",
        "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>|"
        "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>");
    EXPECT_EQ(2u, stats.slots_replaced);
}

TEST(SlotRewriter, EmptyFillEmptiesTheSlot) {
    const std::vector<SlotFill> fills = {{"hero", ""}};
    expect_rewrite("<tailor-slot name=hero>a</tailor-slot>", fills, "",
                   "<tailor-slot name=hero></tailor-slot>");
}

TEST(SlotRewriter, SelfClosingSlotIsNotReplaced) {
    const std::string page = "<tailor-slot name=\"hero\"/>after</tailor-slot>";
    const auto stats = expect_rewrite(page, kHero, "", page);
    EXPECT_EQ(0u, stats.slots_replaced);
    // Unquoted, the '/' belongs to the value: the name is "hero/".
    const std::string unquoted = "<tailor-slot name=hero/>after</tailor-slot>";
    expect_rewrite(unquoted, kHero, "", unquoted);
}

TEST(SlotRewriter, OverlongSlotNameNeverMatches) {
    const std::string name(kMaxSlotNameBytes + 1, 'n');
    const std::vector<SlotFill> fills = {{name, "F"}};
    const std::string page = "<tailor-slot name=" + name + ">x</tailor-slot>";
    expect_rewrite(page, fills, "", page, 5);
    const std::string longest(kMaxSlotNameBytes, 'n');
    const std::vector<SlotFill> fits = {{longest, "F"}};
    expect_rewrite("<tailor-slot name=" + longest + ">x</tailor-slot>", fits, "",
                   "<tailor-slot name=" + longest + ">F</tailor-slot>", 5);
}

TEST(SlotRewriter, NestedSlotsAreReplacedWithTheirParent) {
    const std::vector<SlotFill> fills = {{"outer", "O"}, {"inner", "I"}};
    const auto stats = expect_rewrite(
        "<tailor-slot name=outer>a<tailor-slot name=inner>b</tailor-slot>c</tailor-slot>d", fills,
        "", "<tailor-slot name=outer>O</tailor-slot>d");
    EXPECT_EQ(1u, stats.slots_replaced);
    EXPECT_EQ(2u, stats.slots_seen);
}

TEST(SlotRewriter, DepthFindsTheMatchingCloseTag) {
    expect_rewrite(
        "<tailor-slot name=hero><tailor-slot><tailor-slot name=x/>a</tailor-slot></tailor-slot>b"
        "</tailor-slot>c",
        kHero, "", "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>c");
}

TEST(SlotRewriter, SlotInsideAnUnfilledSlotIsFilled) {
    expect_rewrite("<tailor-slot name=outer>a<tailor-slot name=hero>b</tailor-slot>c</tailor-slot>",
                   kHero, "",
                   "<tailor-slot name=outer>a<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>c"
                   "</tailor-slot>");
}

TEST(SlotRewriter, UnclosedSlotKeepsItsDefaultAtEndOfStream) {
    const std::string page = "<p>a</p><tailor-slot name=hero>Welcome<p>more page</p></html>";
    const auto stats = expect_rewrite(page, kHero, "", page);
    EXPECT_EQ(0u, stats.slots_replaced);
    EXPECT_EQ(1u, stats.slots_bailed);
}

TEST(SlotRewriter, DefaultAtTheCapIsReplaced) {
    const std::string page =
        "<tailor-slot name=hero>" + std::string(kMaxSlotDefaultBytes, 'x') + "</tailor-slot>";
    const auto stats =
        expect_rewrite(page, kHero, "", "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>", 3);
    EXPECT_EQ(1u, stats.slots_replaced);
}

TEST(SlotRewriter, DefaultOneByteOverTheCapBailsOut) {
    const std::string page = "<tailor-slot name=hero>" +
                             std::string(kMaxSlotDefaultBytes + 1, 'x') + "</tailor-slot>after";
    const auto stats = expect_rewrite(page, kHero, "", page, 3);
    EXPECT_EQ(0u, stats.slots_replaced);
    EXPECT_EQ(1u, stats.slots_bailed);
}

TEST(SlotRewriter, BailedSlotDoesNotFillSlotsNestedInIt) {
    const std::string last = "<tailor-slot name=hero>z</tailor-slot>";
    const std::string page = "<tailor-slot name=hero>" + std::string(kMaxSlotDefaultBytes, 'x') +
                             "<tailor-slot name=hero>in</tailor-slot>y</tailor-slot>" + last;
    const auto stats = expect_rewrite(page, kHero, "",
                                      page.substr(0, page.size() - last.size()) +
                                          "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>",
                                      3);
    EXPECT_EQ(1u, stats.slots_bailed);
    EXPECT_EQ(1u, stats.slots_replaced);
}

TEST(SlotRewriter, HeldBytesStayUnderTheCap) {
    const std::string page = "<tailor-slot name=hero>" + std::string(3 * kMaxSlotDefaultBytes, 'x');
    std::vector<size_t> cuts;
    for (size_t at = 1000; at < page.size(); at += 1000) {
        cuts.push_back(at);
    }
    const RewriteRun r = rewrite_cut(page, kHero, "", cuts);
    EXPECT_EQ(page, r.out);
    EXPECT_LE(r.stats.bytes_held_max, kMaxSlotDefaultBytes);
    EXPECT_EQ(1u, r.stats.slots_bailed);
}

TEST(SlotRewriter, BodyCloseInsideAFilledSlotBailsOut) {
    const std::string page = "<tailor-slot name=hero>a</body></html>";
    const auto stats = expect_rewrite(
        page, kHero, kInject, "<tailor-slot name=hero>a" + std::string(kInject) + "</body></html>");
    EXPECT_EQ(1u, stats.slots_bailed);
    EXPECT_TRUE(stats.injected);
}

TEST(SlotRewriter, RewriteSlotsReportsStats) {
    SlotRewriterStats stats;
    EXPECT_EQ("<tailor-slot name=a>y</tailor-slot>",
              rewrite_slots("<tailor-slot name=a>x</tailor-slot>", {{"a", "y"}}, "", &stats));
    EXPECT_EQ(1u, stats.slots_replaced);
}

}  // namespace
}  // namespace tailor
