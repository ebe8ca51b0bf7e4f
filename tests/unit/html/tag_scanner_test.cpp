// Tag scanner: which '<' the tokenizer is handed, and which tags are skipped whole.
#include "tailor/html/tag_scanner.h"

#include <gtest/gtest.h>

#include <string_view>

namespace tailor::tag_scan {
namespace {

// The offset of the '<' skip_to_tag returns, or -1 for none.
long stop(std::string_view s, TagInterest interest = {}) {
    const char* p = skip_to_tag(s.data(), s.data() + s.size(), interest);
    return p == nullptr ? -1 : static_cast<long>(p - s.data());
}

TEST(TagScanner, HeaderExampleHolds) {
    const std::string_view s = "<p class=a>hi</p><tailor-slot name=x>";
    EXPECT_EQ(skip_to_tag(s.data(), s.data() + s.size(), {}), s.data() + 17);
}

TEST(TagScanner, TextAndBoringTagsAreSkipped) {
    EXPECT_EQ(stop("plain text"), -1);
    EXPECT_EQ(stop("<div id=\"a>b\" class='c' data-x=y>text</div><img src=x/>"), -1);
    EXPECT_EQ(stop("<span a = 'b' c=\"d\" e>x</span>"), -1);
}

TEST(TagScanner, StartTagsThatMatterStop) {
    EXPECT_EQ(stop("ab<TAILOR-SLOT name=x>"), 2);
    for (std::string_view raw : kRawNames) {
        const std::string page = "<p>x</p><" + std::string(raw) + ">";
        EXPECT_EQ(stop(page), 8) << raw;
    }
    EXPECT_EQ(stop("<tailor-slots>"), -1);  // a longer name is another element
    EXPECT_EQ(stop("<scripts>"), -1);
}

TEST(TagScanner, EndTagsStopOnlyWhenOfInterest) {
    EXPECT_EQ(stop("x</body>"), -1);
    EXPECT_EQ(stop("x</body>", TagInterest{false, true}), 1);
    EXPECT_EQ(stop("x</BODY >", TagInterest{false, true}), 1);
    EXPECT_EQ(stop("x</tailor-slot>"), -1);
    EXPECT_EQ(stop("x</tailor-slot>", TagInterest{true, false}), 1);
    EXPECT_EQ(stop("x</tailor-slot>", TagInterest{false, true}), -1);
}

TEST(TagScanner, CommentsDeclarationsAndLoneLessThanStop) {
    EXPECT_EQ(stop("a<!-- <tailor-slot> -->"), 1);
    EXPECT_EQ(stop("<!doctype html>"), 0);
    EXPECT_EQ(stop("a < b"), 2);
    EXPECT_EQ(stop("<?xml?>"), 0);
}

TEST(TagScanner, TagsCutByTheChunkEndStop) {
    EXPECT_EQ(stop("<p>a</p><div class=\"x"), 8);
    EXPECT_EQ(stop("<p>a</p><di"), 8);
    EXPECT_EQ(stop("<p>a</p><"), 8);
    EXPECT_EQ(stop("<p>a</p></"), 8);
}

}  // namespace
}  // namespace tailor::tag_scan
