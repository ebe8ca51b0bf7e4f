// HtmlEscape: text, attribute and JSON-in-script escaping, and what happens to invalid UTF-8.
#include "tailor/html/escape.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(HtmlEscape, TextEscapesAmpersandAndAngleBrackets) {
    EXPECT_EQ(html_escape_text("Fish & <Chips>"), "Fish &amp; &lt;Chips&gt;");
}

TEST(HtmlEscape, TextLeavesQuotesAlone) {
    EXPECT_EQ(html_escape_text("it's \"fine\" `ok`"), "it's \"fine\" `ok`");
}

TEST(HtmlEscape, QuotesAreEscapedInAttributes) {
    EXPECT_EQ(html_escape_attribute("a\"b'c`d"), "a&quot;b&#39;c&#96;d");
}

TEST(HtmlEscape, AttributeEscapesEverythingTextDoes) {
    EXPECT_EQ(html_escape_attribute("<a&b>"), "&lt;a&amp;b&gt;");
}

TEST(HtmlEscape, CleanInputIsCopiedUnchanged) {
    const std::string clean = "Welcome back, Ann. Ihre Bestellung: 3 \xC3\xA4pfel \xE2\x82\xAC 9";
    EXPECT_EQ(html_escape_attribute(clean), clean);
    EXPECT_EQ(html_escape_text(""), "");
}

TEST(HtmlEscape, AppendsToWhatIsAlreadyThere) {
    std::string out = "<p>";
    append_html_text(out, "1<2");
    EXPECT_EQ(out, "<p>1&lt;2");
}

TEST(HtmlEscape, InvalidUtf8BecomesReplacementCharacter) {
    const std::string fffd = "\xEF\xBF\xBD";
    EXPECT_EQ(html_escape_text("a\xFF"
                               "b"),
              "a" + fffd + "b");
    // A lone lead byte must not swallow the quote after it.
    EXPECT_EQ(html_escape_attribute("\xC3\""), fffd + "&quot;");
    // Truncated at the end of input.
    EXPECT_EQ(html_escape_text("ok\xE2\x82"), "ok" + fffd);
    // Overlong '<' (C0 BC) is two errors, never a '<'.
    EXPECT_EQ(html_escape_text("\xC0\xBC"), fffd + fffd);
    // Surrogate (ED A0 80): ED is its own maximal subpart, then A0 and 80.
    EXPECT_EQ(html_escape_text("\xED\xA0\x80"), fffd + fffd + fffd);
    // Above U+10FFFF.
    EXPECT_EQ(html_escape_text("\xF4\x90\x80\x80"), fffd + fffd + fffd + fffd);
}

TEST(HtmlEscape, ValidFourByteSequencesPass) {
    EXPECT_EQ(html_escape_text("\xF0\x9F\x8E\x81 gift"), "\xF0\x9F\x8E\x81 gift");
}

TEST(HtmlEscape, NulBecomesReplacementCharacter) {
    EXPECT_EQ(html_escape_text(std::string("a\0b", 3)),
              "a\xEF\xBF\xBD"
              "b");
}

TEST(HtmlEscapeJson, ScriptEndTagCannotBreakOut) {
    std::string out;
    append_json_for_script(out, R"({"t":"</script><script>alert(1)</script>"})");
    EXPECT_EQ(out.find("</"), std::string::npos);
    EXPECT_EQ(out, R"({"t":"\u003c/script\u003e\u003cscript\u003ealert(1)\u003c/script\u003e"})");
}

TEST(HtmlEscapeJson, CommentOpenerAndAmpersandAreEscaped) {
    std::string out;
    append_json_for_script(out, R"(["<!--","a&b"])");
    EXPECT_EQ(out, R"(["\u003c!--","a\u0026b"])");
}

TEST(HtmlEscapeJson, LineSeparatorsAreEscaped) {
    std::string out;
    append_json_for_script(out,
                           "[\"a\xE2\x80\xA8"
                           "b\xE2\x80\xA9\"]");
    EXPECT_EQ(out, R"(["a\u2028b\u2029"])");
}

TEST(HtmlEscapeJson, OtherJsonIsUntouched) {
    std::string out;
    const std::string json = R"({"popups":[{"id":"p1","after_ms":3000,"x":"\"q\\"}]})";
    append_json_for_script(out, json);
    EXPECT_EQ(out, json);
}

TEST(HtmlEscapeJsonString, QuotesBackslashesAndControlsAreEscaped) {
    std::string out;
    append_json_string_for_script(out, "a\"<b>\n\\\x01");
    EXPECT_EQ(out, R"("a\"\u003cb\u003e\n\\\u0001")");
}

TEST(HtmlEscapeJsonString, InvalidUtf8BecomesReplacementCharacter) {
    std::string out;
    append_json_string_for_script(out, "x\x80y");
    EXPECT_EQ(out, "\"x\xEF\xBF\xBDy\"");
}

}  // namespace
}  // namespace tailor
