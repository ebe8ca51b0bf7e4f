// HtmlEscape: making untrusted text safe inside HTML text, quoted attributes and JSON in <script>.
//
// Every function appends to a caller-owned std::string, so a page's worth of
// escaping costs one amortised growth of that string and no allocation per
// character. Clean runs of bytes are copied in bulk; only the bytes that
// matter are looked at one by one.
//
// Invalid UTF-8 in the input (profile data written by another system) is
// replaced with U+FFFD, one per maximal ill-formed subpart, which is what a
// browser decoding the page as UTF-8 would show anyway. Passing the bytes
// through would be unsafe in legacy encodings, where a stray lead byte can
// swallow the quote that closes an attribute, and would make the JSON we
// emit invalid. NUL is replaced with U+FFFD for the same reason browsers do.
#pragma once

#include <string>
#include <string_view>

namespace tailor {

// append_html_text
//
// Appends `in` to `out`, escaped for HTML text content (between tags):
//   &  -> &amp;   it starts a character reference;
//   <  -> &lt;    it starts a tag, a comment or an end tag;
//   >  -> &gt;    not needed by the parser in text, but harmless, and it
//                 keeps `-->` from closing a comment if the text is misused.
// Quotes are left alone: they mean nothing in text. Not safe inside an
// attribute value; use append_html_attribute there.
//
// Example:
//   std::string out = "<p>";
//   append_html_text(out, "Fish & <Chips>");  // out == "<p>Fish &amp; &lt;Chips&gt;"
void append_html_text(std::string& out, std::string_view in);

// append_html_attribute
//
// Appends `in` to `out`, escaped for a quoted attribute value (single or
// double quotes). Everything append_html_text escapes, and also:
//   "  -> &quot;  it ends a double-quoted value;
//   '  -> &#39;   it ends a single-quoted value;
//   `  -> &#96;   legacy IE treated it as an attribute delimiter.
// The result is also safe in text, so templates use it everywhere. It is NOT
// safe in an unquoted value, in an event handler (on*), in style, or as the
// start of a URL: the template compiler refuses placeholders there.
//
// Example:
//   std::string out;
//   append_html_attribute(out, "a\"b'c");  // out == "a&quot;b&#39;c"
void append_html_attribute(std::string& out, std::string_view in);

// html_escape_text
//
// append_html_text into a new string; for cold paths and tests.
//
// Example:
//   html_escape_text("1 < 2") == "1 &lt; 2"
[[nodiscard]] std::string html_escape_text(std::string_view in);

// html_escape_attribute
//
// append_html_attribute into a new string; for cold paths and tests.
//
// Example:
//   html_escape_attribute("it's") == "it&#39;s"
[[nodiscard]] std::string html_escape_attribute(std::string_view in);

// append_json_for_script
//
// Appends the JSON text `json` to `out`, made safe to sit inside
// `<script type="application/json">`: `<`, `>` and `&` become \u003c,
// \u003e and \u0026, so neither `</script>` nor `<!--` can end or alter the
// script element, and U+2028/U+2029 become \u2028/\u2029 because older
// JavaScript parsers treat them as line ends. In valid JSON these characters
// can only occur inside strings, where the \u escapes mean the same thing, so
// JSON.parse sees the same value. The output is safe even if `json` is not
// valid JSON (it stays invalid, but cannot break out).
//
// Example:
//   std::string out;
//   append_json_for_script(out, R"({"t":"</script>"})");
//   // out == R"({"t":"\u003c/script\u003e"})"
void append_json_for_script(std::string& out, std::string_view json);

// append_json_string_for_script
//
// Appends `text` as one quoted JSON string, safe inside a script element:
// `"` and `\` are backslash-escaped, control characters use \n, \t ... or
// \u00XX, and the characters append_json_for_script rewrites are rewritten
// too.
//
// Example:
//   std::string out;
//   append_json_string_for_script(out, "a\"<b>\n");
//   // out == R"("a\"\u003cb\u003e\n")"
void append_json_string_for_script(std::string& out, std::string_view text);

}  // namespace tailor
