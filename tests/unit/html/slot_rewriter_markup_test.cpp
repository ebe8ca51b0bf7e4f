// SlotRewriter tests, markup where a tag is text: raw-text elements, comments,
// CDATA, doctype and processing instructions, a '<' that starts no tag.
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

TEST(SlotRewriter, TagInsideScriptIsIgnored) {
    const std::string page =
        "<script>var s = \"<tailor-slot name=hero>x</tailor-slot></body>\";</script>";
    const auto stats = expect_rewrite(page, kHero, kInject, page);
    EXPECT_EQ(0u, stats.slots_seen);
    EXPECT_FALSE(stats.injected);
}

TEST(SlotRewriter, RawTextElementsHideTags) {
    for (const char* el :
         {"style", "textarea", "title", "xmp", "iframe", "noscript", "noembed", "noframes"}) {
        const std::string page = std::string("<") + el +
                                 "><tailor-slot name=hero>x</tailor-slot></" + el +
                                 "><tailor-slot name=hero>y</tailor-slot>";
        expect_rewrite(page, kHero, "",
                       std::string("<") + el + "><tailor-slot name=hero>x</tailor-slot></" + el +
                           "><tailor-slot name=hero><p>Hi Ann</p></tailor-slot>",
                       3);
    }
}

TEST(SlotRewriter, RawTextEndsAtMatchingCloseTagCaseInsensitively) {
    expect_rewrite(
        "<SCRIPT type=module>a</style></scripts></ScRiPt\t>"
        "<tailor-slot name=hero>y</tailor-slot>",
        kHero, "",
        "<SCRIPT type=module>a</style></scripts></ScRiPt\t>"
        "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>");
}

TEST(SlotRewriter, PlaintextHidesTheRestOfThePage) {
    const std::string page = "<plaintext><tailor-slot name=hero>x</tailor-slot></body>";
    expect_rewrite(page, kHero, kInject, page);
}

TEST(SlotRewriter, TagInsideCommentIsIgnored) {
    const std::string page = "<!-- <tailor-slot name=hero>x</tailor-slot> -- > </body> --><p>";
    const auto stats = expect_rewrite(page, kHero, kInject, page);
    EXPECT_EQ(0u, stats.slots_seen);
}

TEST(SlotRewriter, CommentClosersFollowTheStandard) {
    const std::string slot = "<tailor-slot name=hero>x</tailor-slot>";
    const std::string filled = "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>";
    for (const char* c :
         {"<!---->", "<!-->", "<!--->", "<!-- a --!>", "<!-- a --->", "<!-- <!-- -->"}) {
        expect_rewrite(std::string(c) + slot, kHero, "", std::string(c) + filled, 3);
    }
    // Not closed yet: "-!>" and "- ->" are comment text.
    const std::string open = "<!-- -!> - -> " + slot + " -->";
    expect_rewrite(open, kHero, "", open, 3);
}

TEST(SlotRewriter, CdataDoctypeAndProcessingInstructionsAreSkipped) {
    const std::string page =
        "<!DOCTYPE html><?xml version=\"1.0\"?><![CDATA[ <tailor-slot name=hero>x</tailor-slot> ]]>"
        "<!x <tailor-slot name=hero>>";
    expect_rewrite(page, kHero, "", page);
    expect_rewrite("<![CDATA[ a ]] > ]]><tailor-slot name=hero>x</tailor-slot>", kHero, "",
                   "<![CDATA[ a ]] > ]]><tailor-slot name=hero><p>Hi Ann</p></tailor-slot>");
}

TEST(SlotRewriter, LessThanNotStartingATagIsText) {
    expect_rewrite("a < b <= c <<tailor-slot name=hero>x</tailor-slot></>< /x>", kHero, "",
                   "a < b <= c <<tailor-slot name=hero><p>Hi Ann</p></tailor-slot></>< /x>");
}

}  // namespace
}  // namespace tailor
