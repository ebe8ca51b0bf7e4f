// SlotRewriter tests: every case runs whole, byte by byte, and at random split points.
//
// The random splits come from a seed printed once per run; pin it with
// TAILOR_CHUNK_SEED=<n> to replay a failure (lol-html's CHUNK_SIZE habit).
#include "tailor/html/slot_rewriter.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {
namespace {

uint64_t chunk_seed() {
    static const uint64_t seed = [] {
        const char* env = std::getenv("TAILOR_CHUNK_SEED");
        const uint64_t s =
            env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
        std::cout << "[ SlotRewriter ] TAILOR_CHUNK_SEED=" << s << "\n";
        return s;
    }();
    return seed;
}

struct RewriteRun {
    std::string out;
    SlotRewriterStats stats;
    std::string problem;  // a broken piece contract, if any
};

struct Pieces {
    std::string_view chunk;  // the chunk of the write() in progress
    const std::vector<SlotFill>* fills;
    std::string_view injection;
    RewriteRun* run;

    static bool within(std::string_view piece, std::string_view buffer) {
        return !buffer.empty() && piece.data() >= buffer.data() &&
               piece.data() + piece.size() <= buffer.data() + buffer.size();
    }

    void operator()(std::string_view bytes, PieceOrigin origin) {
        if (bytes.empty()) {
            run->problem = "empty piece";
        }
        if (origin == PieceOrigin::kInput && !within(bytes, chunk)) {
            run->problem = "kInput piece outside the current chunk";
        }
        if (origin == PieceOrigin::kFill) {
            bool found = within(bytes, injection);
            for (const auto& f : *fills) {
                found = found || within(bytes, f.html);
            }
            if (!found) {
                run->problem = "kFill piece outside the fills and the injection";
            }
        }
        run->out.append(bytes);
    }
};

// Feeds `page` cut at `cuts` (ascending offsets); each chunk is a fresh copy
// that dies after its write(), so a kInput view kept too long would show.
RewriteRun rewrite_cut(std::string_view page, const std::vector<SlotFill>& fills,
                       std::string_view injection, const std::vector<size_t>& cuts) {
    RewriteRun run;
    SlotRewriter rw(fills, injection);
    Pieces pieces{{}, &fills, injection, &run};
    size_t from = 0;
    auto feed = [&](size_t to) {
        const std::string chunk(page.substr(from, to - from));
        pieces.chunk = chunk;
        rw.write(chunk, make_sink(pieces));
        from = to;
    };
    for (size_t cut : cuts) {
        feed(cut);
    }
    feed(page.size());
    pieces.chunk = {};
    rw.finish(make_sink(pieces));
    run.stats = rw.stats();
    return run;
}

std::vector<size_t> every_byte(size_t n) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < n; ++i) {
        cuts.push_back(i);
    }
    return cuts;
}

std::vector<size_t> random_cuts(size_t n, std::mt19937_64& rng) {
    std::vector<size_t> cuts;
    const size_t max_chunk = 1 + rng() % 64;
    for (size_t at = 0;;) {
        at += 1 + rng() % max_chunk;
        if (at >= n) {
            return cuts;
        }
        cuts.push_back(at);
    }
}

void expect_same_stats(const SlotRewriterStats& want, const SlotRewriterStats& got,
                       const std::string& how) {
    EXPECT_EQ(want.slots_seen, got.slots_seen) << how;
    EXPECT_EQ(want.slots_replaced, got.slots_replaced) << how;
    EXPECT_EQ(want.slots_bailed, got.slots_bailed) << how;
    EXPECT_EQ(want.injected, got.injected) << how;
}

// Runs `page` whole, byte by byte and at random splits; every run must give
// `expected` and the same stats. Returns the whole run's stats.
SlotRewriterStats expect_rewrite(std::string_view page, const std::vector<SlotFill>& fills,
                                 std::string_view injection, std::string_view expected,
                                 int random_runs = 20) {
    const RewriteRun whole = rewrite_cut(page, fills, injection, {});
    EXPECT_EQ(expected, whole.out) << "whole";
    EXPECT_EQ("", whole.problem) << "whole";
    const RewriteRun bytes = rewrite_cut(page, fills, injection, every_byte(page.size()));
    EXPECT_EQ(expected, bytes.out) << "byte by byte";
    EXPECT_EQ("", bytes.problem) << "byte by byte";
    expect_same_stats(whole.stats, bytes.stats, "byte by byte");
    std::mt19937_64 rng(chunk_seed());
    for (int i = 0; i < random_runs; ++i) {
        const RewriteRun r = rewrite_cut(page, fills, injection, random_cuts(page.size(), rng));
        const std::string how = "random split #" + std::to_string(i) +
                                ", TAILOR_CHUNK_SEED=" + std::to_string(chunk_seed());
        EXPECT_EQ(expected, r.out) << how;
        EXPECT_EQ("", r.problem) << how;
        expect_same_stats(whole.stats, r.stats, how);
    }
    return whole.stats;
}

const std::vector<SlotFill> kHero = {{"hero", "<p>Hi Ann</p>"}};
constexpr std::string_view kInject =
    "<script type=\"application/json\" id=\"tailor-directives\">{}</script>";

std::string read_page(const char* name) {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/data/pages/" + name,
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

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

TEST(SlotRewriter, TagAndAttributeNamesAreCaseInsensitive) {
    expect_rewrite("<TAILOR-SLOT NAME=hero>x</Tailor-Slot >", kHero, "",
                   "<TAILOR-SLOT NAME=hero><p>Hi Ann</p></Tailor-Slot >");
}

TEST(SlotRewriter, SlotNamesAreCaseSensitive) {
    const std::string page = "<tailor-slot name=Hero>x</tailor-slot>";
    expect_rewrite(page, kHero, "", page);
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

TEST(SlotRewriter, InjectsBeforeTheFirstBodyCloseTag) {
    const auto stats = expect_rewrite("<body><p>x</p></BODY ></body>", {}, kInject,
                                      "<body><p>x</p>" + std::string(kInject) + "</BODY ></body>");
    EXPECT_TRUE(stats.injected);
}

TEST(SlotRewriter, BodyCloseInScriptOrCommentIsNotTheAnchor) {
    expect_rewrite(
        "<script>'</body>'</script><!-- </body> --><p></body>", {}, kInject,
        "<script>'</body>'</script><!-- </body> --><p>" + std::string(kInject) + "</body>");
}

TEST(SlotRewriter, BodyPrefixIsNotTheAnchor) {
    const std::string page = "</bodyx></bod></b>";
    expect_rewrite(page, {}, kInject, page);
}

TEST(SlotRewriter, NoBodyCloseMeansNoInjection) {
    const std::string page = "<div>a fragment</div>";
    const auto stats = expect_rewrite(page, {}, kInject, page);
    EXPECT_FALSE(stats.injected);
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

TEST(SlotRewriter, TagSplitInsideAttributeValue) {
    const std::string page = "<tailor-slot class=\"a > b\" name=\"hero\">x</tailor-slot>";
    for (size_t cut = 1; cut < page.size(); ++cut) {
        const RewriteRun r = rewrite_cut(page, kHero, "", {cut});
        EXPECT_EQ("<tailor-slot class=\"a > b\" name=\"hero\"><p>Hi Ann</p></tailor-slot>", r.out)
            << "cut at " << cut;
    }
}

TEST(SlotRewriter, HoldsBackOnlyABodyPrefixWhileInjecting) {
    std::string out;
    auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
    SlotRewriter rw(kHero, kInject);
    rw.write("<p>text</bo", make_sink(append));
    EXPECT_EQ("<p>text", out);
    EXPECT_EQ(4u, rw.held_bytes());
    rw.write("dy>", make_sink(append));
    EXPECT_EQ("<p>text" + std::string(kInject) + "</body>", out);
    EXPECT_EQ(0u, rw.held_bytes());
}

TEST(SlotRewriter, HoldsNothingWithoutAnInjection) {
    std::string out;
    auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
    SlotRewriter rw(kHero);
    rw.write("<p>text</bo", make_sink(append));
    EXPECT_EQ("<p>text</bo", out);
    rw.write("<tailor-sl", make_sink(append));
    EXPECT_EQ(0u, rw.held_bytes());
    EXPECT_EQ("<p>text</bo<tailor-sl", out);
}

TEST(SlotRewriter, PassThroughIsOnePiecePerChunk) {
    int pieces = 0;
    auto count = [&pieces](std::string_view, PieceOrigin origin) {
        pieces += origin == PieceOrigin::kInput ? 1 : 100;
    };
    SlotRewriter rw(kHero);
    rw.write("<div class=\"x\"><script>if (a<b) {}</script><!-- c --></div>", make_sink(count));
    rw.finish(make_sink(count));
    EXPECT_EQ(1, pieces);
}

TEST(SlotRewriter, WriteAfterFinishPassesThrough) {
    std::string out;
    auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
    SlotRewriter rw(kHero, kInject);
    rw.write("<tailor-slot name=hero>a", make_sink(append));
    rw.finish(make_sink(append));
    rw.finish(make_sink(append));
    rw.write("</tailor-slot></body>", make_sink(append));
    EXPECT_EQ("<tailor-slot name=hero>a</tailor-slot></body>", out);
    EXPECT_EQ(1u, rw.stats().slots_bailed);
}

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

TEST(SlotRewriter, RewriteSlotsReportsStats) {
    SlotRewriterStats stats;
    EXPECT_EQ("<tailor-slot name=a>y</tailor-slot>",
              rewrite_slots("<tailor-slot name=a>x</tailor-slot>", {{"a", "y"}}, "", &stats));
    EXPECT_EQ(1u, stats.slots_replaced);
}

}  // namespace
}  // namespace tailor
