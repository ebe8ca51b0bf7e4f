// Utf8: well-formed sequences and maximal ill-formed subparts, and the three ways to cut.
#include "tailor/base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

int seq(std::string_view s) {
    return utf8_sequence(reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

TEST(Utf8, WellFormedSequencesHaveTheirLength) {
    EXPECT_EQ(seq("a"), 1);
    EXPECT_EQ(seq("\xC3\xA9"), 2);          // é
    EXPECT_EQ(seq("\xE2\x82\xAC"), 3);      // €
    EXPECT_EQ(seq("\xF0\x9F\x98\x80"), 4);  // 😀
    EXPECT_EQ(seq("\xF4\x8F\xBF\xBF"), 4);  // U+10FFFF
}

TEST(Utf8, IllFormedSequencesGiveTheirMaximalSubpart) {
    EXPECT_EQ(seq("\x80"), -1);              // stray continuation
    EXPECT_EQ(seq("\xC0\xAF"), -1);          // overlong lead
    EXPECT_EQ(seq("\xE0\x80\x80"), -1);      // overlong: second byte out of range
    EXPECT_EQ(seq("\xED\xA0\x80"), -1);      // surrogate
    EXPECT_EQ(seq("\xF4\x90\x80\x80"), -1);  // above U+10FFFF
    EXPECT_EQ(seq("\xE2\x82"), -2);          // cut off
    EXPECT_EQ(seq("\xE2\x82("), -2);
    EXPECT_EQ(seq("\xF0\x9F\x98"), -3);
    EXPECT_EQ(seq("\xFF"), -1);
}

TEST(Utf8, CutNeverSplitsAWellFormedSequence) {
    EXPECT_EQ(utf8_cut("caf\xC3\xA9", 4), "caf");
    EXPECT_EQ(utf8_cut("caf\xC3\xA9", 5), "caf\xC3\xA9");
    EXPECT_EQ(utf8_cut("ab\xFF\xFF", 3), "ab\xFF");  // ill-formed bytes count one each
    EXPECT_EQ(utf8_cut("short", 100), "short");
}

TEST(Utf8, FloorBacksUpOverContinuationBytes) {
    EXPECT_EQ(utf8_floor("caf\xC3\xA9", 4), 3u);
    EXPECT_EQ(utf8_floor("caf\xC3\xA9", 3), 3u);
    EXPECT_EQ(utf8_floor("caf\xC3\xA9", 5), 5u);
    EXPECT_EQ(utf8_floor("abc", 10), 10u);  // past the end: nothing to look at
}

TEST(Utf8, PartialTailCutDropsOnlyAnIncompleteLastSequence) {
    EXPECT_EQ(utf8_partial_tail_cut("caf\xC3"), 3u);
    EXPECT_EQ(utf8_partial_tail_cut("caf\xC3\xA9"), 5u);
    EXPECT_EQ(utf8_partial_tail_cut("x\xE2\x82"), 1u);
    EXPECT_EQ(utf8_partial_tail_cut("x\xE2\x82\xAC"), 4u);
    EXPECT_EQ(utf8_partial_tail_cut("ab\x80"), 3u);  // a stray continuation stays
    EXPECT_EQ(utf8_partial_tail_cut(""), 0u);
}

}  // namespace
}  // namespace tailor
