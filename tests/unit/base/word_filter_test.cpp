// WordFilter: never says "not in the list" for a word that is.
#include "tailor/base/word_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "tailor/events/path.h"

namespace tailor {
namespace {

constexpr std::string_view kWords[] = {"email", "tel", "Zip", "_kx", "9lives", "utm_*", ""};
constexpr WordFilter kFilter(kWords);

TEST(WordFilter, KeepsEveryEntry) {
    for (std::string_view w : kWords) {
        if (!w.empty() && w.back() != '*') {
            EXPECT_TRUE(kFilter.may_contain(w)) << w;
        }
    }
    for (std::string_view w : kAlwaysStrippedQueryNames) {
        EXPECT_TRUE(WordFilter(kAlwaysStrippedQueryNames).may_contain(w)) << w;
    }
}

TEST(WordFilter, RejectsOtherLengthsAndFirstLetters) {
    EXPECT_FALSE(kFilter.may_contain("sku"));     // no 3-letter entry starts with s
    EXPECT_FALSE(kFilter.may_contain("emails"));  // no 6-letter entry starts with e
    EXPECT_FALSE(kFilter.may_contain(""));
    EXPECT_FALSE(kFilter.may_contain("utm_source"));  // prefix patterns are left out
    EXPECT_TRUE(kFilter.may_contain("tea"));          // same length and letter: maybe
    EXPECT_TRUE(kFilter.may_contain("zap"));          // letters fold case
    EXPECT_TRUE(kFilter.may_contain("_ab"));
    EXPECT_TRUE(kFilter.may_contain("0lives"));  // digits share one class
}

TEST(WordFilter, AnswersMaybeForLongWordsOnlyIfTheListHasThem) {
    const std::string longer(40, 'a');
    EXPECT_FALSE(kFilter.may_contain(longer));
    const std::string_view with_long[] = {longer};
    EXPECT_TRUE(WordFilter(with_long).may_contain(std::string(40, 'b')));
}

// The lists the event path filters with: no entry is ever rejected.
TEST(WordFilter, NeverRejectsAnEntryOfTheRealLists) {
    const WordFilter params(kDefaultEventParams);
    for (std::string_view w : kDefaultEventParams) {
        if (w.back() != '*') {
            EXPECT_TRUE(params.may_contain(w)) << w;
        }
    }
}

}  // namespace
}  // namespace tailor
