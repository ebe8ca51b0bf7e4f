// SlotRewriter tests, the injection before the first </body> and what the
// rewriter holds back between writes to find it.
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

}  // namespace
}  // namespace tailor
