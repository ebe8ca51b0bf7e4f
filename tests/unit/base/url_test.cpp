// Url: query-component percent-decoding, broken escapes kept and reported, output caps.
#include "tailor/base/url.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

struct Decoded {
    std::string text;
    PercentDecoded r;
};

Decoded decode(std::string_view in, size_t cap = 64) {
    char buf[64];
    Decoded d;
    d.r = percent_decode_query(in, buf, cap);
    d.text.assign(buf, d.r.size);
    return d;
}

TEST(Url, PlusIsASpaceAndEscapesOfEitherCaseAreBytes) {
    const Decoded d = decode("spring+sale%21%2f%2F%C3%A9");
    EXPECT_EQ(d.text, "spring sale!//\xC3\xA9");
    EXPECT_TRUE(d.r.complete);
    EXPECT_FALSE(d.r.bad_escape);
    EXPECT_EQ(decode("%2B").text, "+");
}

TEST(Url, BrokenEscapesAreKeptLiterallyAndReported) {
    for (const char* in : {"100%", "100%4", "%zz", "%4g!", "a%"}) {
        const Decoded d = decode(in);
        EXPECT_EQ(d.text, in);
        EXPECT_TRUE(d.r.bad_escape) << in;
        EXPECT_TRUE(d.r.complete) << in;
    }
    const Decoded tail = decode("%41%");  // the escape ends exactly at the input's end
    EXPECT_EQ(tail.text, "A%");
}

TEST(Url, OutputAtTheCapCompletesOnePastDoesNot) {
    const Decoded at = decode("ab%43", 3);
    EXPECT_EQ(at.text, "abC");
    EXPECT_TRUE(at.r.complete);
    const Decoded past = decode("ab%43d", 3);
    EXPECT_EQ(past.text, "abC");
    EXPECT_FALSE(past.r.complete);
    EXPECT_TRUE(decode("", 0).r.complete);
    EXPECT_FALSE(decode("x", 0).r.complete);
}

}  // namespace
}  // namespace tailor
