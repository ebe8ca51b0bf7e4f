// SlotRewriter tests, the tag tokenizer: attribute names, quoted and unquoted
// values, and the fast path over tags that cannot be a slot.
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

TEST(SlotRewriter, TagAndAttributeNamesAreCaseInsensitive) {
    expect_rewrite("<TAILOR-SLOT NAME=hero>x</Tailor-Slot >", kHero, "",
                   "<TAILOR-SLOT NAME=hero><p>Hi Ann</p></Tailor-Slot >");
}

TEST(SlotRewriter, NamesMayBeDoubleSingleOrUnquoted) {
    expect_rewrite("<tailor-slot name=\"hero\">a</tailor-slot>", kHero, "",
                   "<tailor-slot name=\"hero\"><p>Hi Ann</p></tailor-slot>");
    expect_rewrite("<tailor-slot name='hero'>a</tailor-slot>", kHero, "",
                   "<tailor-slot name='hero'><p>Hi Ann</p></tailor-slot>");
    expect_rewrite("<tailor-slot name=hero>a</tailor-slot>", kHero, "",
                   "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>");
    expect_rewrite("<tailor-slot\n  name = \"hero\"\n>a</tailor-slot>", kHero, "",
                   "<tailor-slot\n  name = \"hero\"\n><p>Hi Ann</p></tailor-slot>");
}

TEST(SlotRewriter, OtherAttributesAreKept) {
    expect_rewrite(
        "<tailor-slot data-x=\"1\" hidden name=hero class=a>a</tailor-slot>", kHero, "",
        "<tailor-slot data-x=\"1\" hidden name=hero class=a><p>Hi Ann</p></tailor-slot>");
}

TEST(SlotRewriter, GreaterThanInsideQuotedAttributeDoesNotEndTheTag) {
    expect_rewrite("<tailor-slot title=\"a > b\" data-y='>' name=hero>x</tailor-slot>", kHero, "",
                   "<tailor-slot title=\"a > b\" data-y='>' name=hero><p>Hi Ann</p></tailor-slot>");
}

TEST(SlotRewriter, TagTextInsideAnotherTagsAttributeIsNotATag) {
    const std::string page =
        "<div title=\"<tailor-slot name=hero>\" data-b='</body>'>x</div></tailor-slot>";
    expect_rewrite(page, kHero, kInject, page);
}

TEST(SlotRewriter, UnquotedValueEndsAtWhitespaceNotAtQuote) {
    // name=hero"x is one unquoted value, so there is no slot named hero.
    const std::string page = "<tailor-slot name=hero\"x>a</tailor-slot>";
    expect_rewrite(page, kHero, "", page);
}

TEST(SlotRewriter, AttributeEdgeCasesFollowTheTokenizer) {
    const std::string slot = "<tailor-slot name=hero>y</tailor-slot>";
    const std::string filled = "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>";
    // The quote is part of an attribute name or an unquoted value: the tag
    // ends at the first '>', so the slot after it is real.
    for (const char* open :
         {"<a =\"x>", "<a b=c=\"x>", "<a b=\"x\"=\"y>", "<a/=\"x>", "<a \"b=x>"}) {
        expect_rewrite(std::string(open) + slot + "\">", kHero, "",
                       std::string(open) + filled + "\">", 3);
    }
    // A real quoted value, however spaced: the slot is inside it.
    for (const char* open : {"<a b = \"x>", "<a b=\n'x>", "</div class=\"x>"}) {
        const std::string page = std::string(open) + slot + "\"'>";
        expect_rewrite(page, kHero, "", page, 3);
    }
}

TEST(SlotRewriter, ControlBytesInNamesAreNameBytes) {
    const std::string page = std::string("<tailor-slot\x01 name=hero>x</tailor-slot>") +
                             std::string("<tailor-slot name=hero\x00>x</tailor-slot>", 39);
    expect_rewrite(page, kHero, "", page);
}

TEST(SlotRewriter, TagSplitInsideAttributeValue) {
    const std::string page = "<tailor-slot class=\"a > b\" name=\"hero\">x</tailor-slot>";
    for (size_t cut = 1; cut < page.size(); ++cut) {
        const RewriteRun r = rewrite_cut(page, kHero, "", {cut});
        EXPECT_EQ("<tailor-slot class=\"a > b\" name=\"hero\"><p>Hi Ann</p></tailor-slot>", r.out)
            << "cut at " << cut;
    }
}

// The boring-tag fast path jumps between '>', quotes and '=' (16 bytes at a
// time in the quoted values): put each of them at every offset around the
// block and unroll edges, with a slot hidden in a value and a real one after.
TEST(SlotRewriter, QuotesAndGtAtEveryOffsetInBoringTags) {
    for (size_t pad = 0; pad < 40; ++pad) {
        const std::string fill = std::string(pad, 'y');
        const std::string head = "<div data-x" + fill + "=\"a>b <tailor-slot name=hero>\"" + fill +
                                 " c='>" + fill + "' d=e" + fill + ">" + fill + "<span title='" +
                                 fill + "<tailor-slot name=hero>'" + fill + ">";
        const std::string page = head + "<tailor-slot name=hero>x</tailor-slot></span></div>";
        const std::string want =
            head + "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot></span></div>";
        const auto stats = expect_rewrite(page, kHero, "", want, 5);
        EXPECT_EQ(1u, stats.slots_seen) << "pad " << pad;
    }
}

// Attribute forms where a quote after '=' does or does not open a value; the
// fast path hands the unusual ones to the exact walk.
TEST(SlotRewriter, QuotesOnlyOpenValuesAfterAnAttributesEquals) {
    const std::string slot = "<tailor-slot name=hero>d</tailor-slot>";
    const std::string filled = "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>";
    // A real value: the slot inside it is text.
    for (std::string head : {"<div a = '", "<div a\n=\t'", "<div \x01='", "<div a\"b='",
                             "<div a=b\"c d='", "<div a='1' b='"}) {
        const std::string page = head + "x>" + slot + "'>";
        expect_rewrite(page, kHero, "", page, 5);
    }
    // Not a value: the tag ends at "x>", the slot after it is real.
    for (std::string head : {"<div a=\"1\"='", "<div b= d='", "<div='", "<div a=='", "<div a/='",
                             "<div ='", "<div a= ='"}) {
        expect_rewrite(head + "x>" + slot + "'>", kHero, "", head + "x>" + filled + "'>", 5);
    }
}

}  // namespace
}  // namespace tailor
