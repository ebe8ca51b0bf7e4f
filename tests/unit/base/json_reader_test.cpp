// JsonReader: the grammar, the decoded strings, and every bound at its limit and one past it.
#include "tailor/base/json_reader.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(JsonReader, ParsesNestedDocumentIntoFlatValues) {
    JsonDocument doc;
    ASSERT_EQ(doc.parse(R"( {"a": [1, "x", true, false, null], "b": {"c": -0.5e+3}} )"),
              JsonError::kOk);
    const auto& v = doc.values();
    ASSERT_EQ(v.size(), 12u);
    EXPECT_EQ(v[0].type, JsonType::kObject);
    EXPECT_EQ(v[0].count, 2u);
    EXPECT_EQ(v[0].end, 12u);
    const size_t a = doc.member(0, "a");
    ASSERT_EQ(a, 2u);
    EXPECT_EQ(v[a].type, JsonType::kArray);
    EXPECT_EQ(v[a].count, 5u);
    EXPECT_EQ(v[a + 1].text, "1");
    EXPECT_EQ(v[a + 2].text, "x");
    EXPECT_EQ(v[a + 3].type, JsonType::kTrue);
    EXPECT_EQ(v[a + 4].type, JsonType::kFalse);
    EXPECT_EQ(v[a + 5].type, JsonType::kNull);
    const size_t b = doc.member(0, "b");
    ASSERT_NE(b, JsonDocument::npos);
    EXPECT_EQ(v[doc.member(b, "c")].text, "-0.5e+3");
    EXPECT_EQ(doc.member(0, "zz"), JsonDocument::npos);
    EXPECT_EQ(doc.member(a, "a"), JsonDocument::npos);  // not an object
}

TEST(JsonReader, DecodesEscapesAndSurrogatePairs) {
    JsonDocument doc;
    ASSERT_EQ(doc.parse(R"(["a\"b\\c\/d\n\t", "\u00e9\u20ac", "\ud83d\ude00", "caf\u00E9 é"])"),
              JsonError::kOk);
    const auto& v = doc.values();
    EXPECT_EQ(v[1].text, "a\"b\\c/d\n\t");
    EXPECT_EQ(v[2].text, "\xC3\xA9\xE2\x82\xAC");
    EXPECT_EQ(v[3].text, "\xF0\x9F\x98\x80");
    EXPECT_EQ(v[4].text, "caf\xC3\xA9 \xC3\xA9");
}

TEST(JsonReader, RefusesBadStrings) {
    JsonDocument doc;
    EXPECT_EQ(doc.parse("\"abc"), JsonError::kBadString);
    EXPECT_EQ(doc.parse("\"a\x01\""), JsonError::kBadString);     // raw control character
    EXPECT_EQ(doc.parse("\"\xC3\""), JsonError::kBadString);      // cut UTF-8
    EXPECT_EQ(doc.parse("\"\xC0\xAF\""), JsonError::kBadString);  // overlong
    EXPECT_EQ(doc.parse(R"("\x41")"), JsonError::kBadString);     // not a JSON escape
    EXPECT_EQ(doc.parse(R"("\ud83d")"), JsonError::kBadString);   // lone high surrogate
    EXPECT_EQ(doc.parse(R"("\ude00")"), JsonError::kBadString);   // lone low surrogate
    EXPECT_EQ(doc.parse(R"("\ud83d\u0041")"), JsonError::kBadString);
    EXPECT_EQ(doc.parse(R"("\u12G4")"), JsonError::kBadString);
    EXPECT_TRUE(doc.values().empty());
}

TEST(JsonReader, RefusesWhatIsNotRfc8259Numbers) {
    JsonDocument doc;
    for (const char* bad : {"01", "1.", ".5", "-", "+1", "1e", "1e+", "0x10", "1.2.3", "--1"}) {
        EXPECT_NE(doc.parse(bad), JsonError::kOk) << bad;
    }
    for (const char* good : {"0", "-0", "10", "1.25", "1e9", "1E-2", "-12.5e+1"}) {
        EXPECT_EQ(doc.parse(good), JsonError::kOk) << good;
        EXPECT_EQ(doc.values()[0].text, good);
    }
}

TEST(JsonReader, RefusesSyntaxErrorsAndTrailingBytes) {
    JsonDocument doc;
    for (const char* bad : {"", " ", "{", "}", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}",
                            "{\"a\":1,}", "[1]]", "nul", "truex", "{} {}", "'a'"}) {
        EXPECT_NE(doc.parse(bad), JsonError::kOk) << bad;
    }
    EXPECT_EQ(doc.parse("{}"), JsonError::kOk);
    EXPECT_EQ(doc.parse("[]"), JsonError::kOk);
    EXPECT_EQ(doc.parse(" \t\r\n[ ] \n"), JsonError::kOk);
}

TEST(JsonReader, RefusesDuplicateKeys) {
    JsonDocument doc;
    EXPECT_EQ(doc.parse(R"({"a":1,"b":2,"a":3})"), JsonError::kDuplicateKey);
    // the same key in two objects is fine; an escape that spells the same key is not
    EXPECT_EQ(doc.parse(R"({"a":{"a":1},"b":{"a":2}})"), JsonError::kOk);
    EXPECT_EQ(doc.parse(R"({"a":1,"\u0061":2})"), JsonError::kDuplicateKey);
}

TEST(JsonReader, DepthAtTheLimitAndOnePast) {
    JsonLimits limits;
    limits.max_depth = 3;
    JsonDocument doc;
    EXPECT_EQ(doc.parse("[[[1]]]", limits), JsonError::kOk);
    EXPECT_EQ(doc.parse("[[[[1]]]]", limits), JsonError::kTooDeep);
    EXPECT_EQ(doc.parse(R"({"a":{"b":{"c":{}}}})", limits), JsonError::kTooDeep);
    // a careless limit is still capped below the stack's reach
    limits.max_depth = 1000000;
    limits.max_values = 1000000;
    limits.max_bytes = 1000000;
    EXPECT_EQ(doc.parse(std::string(100000, '['), limits), JsonError::kTooDeep);
}

TEST(JsonReader, ValueCountAtTheLimitAndOnePast) {
    JsonLimits limits;
    limits.max_values = 4;
    JsonDocument doc;
    EXPECT_EQ(doc.parse("[1,2,3]", limits), JsonError::kOk);
    EXPECT_EQ(doc.parse("[1,2,3,4]", limits), JsonError::kTooManyValues);
    EXPECT_EQ(doc.parse(R"({"a":1,"b":2})", limits), JsonError::kTooManyValues);  // keys count
}

TEST(JsonReader, SizeAtTheLimitAndOnePast) {
    JsonLimits limits;
    limits.max_bytes = 10;
    JsonDocument doc;
    EXPECT_EQ(doc.parse("\"12345678\"", limits), JsonError::kOk);
    EXPECT_EQ(doc.parse("\"123456789\"", limits), JsonError::kTooLarge);
}

TEST(JsonReader, ViewsOutliveTheInputAndAFailedParseEmptiesTheDocument) {
    JsonDocument doc;
    {
        std::string text = R"({"k":"value"})";
        ASSERT_EQ(doc.parse(text), JsonError::kOk);
        text.assign(text.size(), 'x');
    }
    EXPECT_EQ(doc.values()[2].text, "value");
    EXPECT_EQ(doc.parse("[1,"), JsonError::kSyntax);
    EXPECT_TRUE(doc.values().empty());
    EXPECT_EQ(json_error_name(JsonError::kDuplicateKey), "duplicate key");
}

}  // namespace
}  // namespace tailor
