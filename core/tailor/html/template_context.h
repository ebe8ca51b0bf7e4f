// TemplateContext: the template compiler's HTML context tracker.
//
// A tokenizer for just enough of HTML to know where a placeholder sits: the
// states of the WHATWG tokenizer that change what escaping means, folded.
// The compiler (template.cpp) feeds it the literal text between
// placeholders and asks, at each placeholder, whether HTML escaping makes
// any value safe there; every context where it does not (script, comments,
// tag and attribute names, unquoted values, event handlers, URL attributes
// whose scheme is not fixed by literal text, URL lists such as srcset, any
// attribute of SVG animation elements, <meta>, <base>, <script> and plug-in
// elements) is refused with a reason. docs/templates.md has the table.
// Kept apart from the compiler so the policy of what is refused reads in
// one place.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tailor {

// TemplateContext
//
// Example:
//   TemplateContext c;
//   c.feed("<a title=\"");
//   c.refusal(false).empty();   // true: a quoted title is plain text
//   c.feed("\" href=\"");
//   c.refusal(false);           // "placeholder in URL attribute \"href\" before ..."
class TemplateContext {
  public:
    // feed
    //
    // Advances over literal template text.
    void feed(std::string_view text);

    // feed_placeholder
    //
    // Advances over a placeholder that was allowed here: inside a value it
    // could hold anything, ':' and '/' included.
    void feed_placeholder();

    // refusal
    //
    // Why an escaped (or, if `raw`, a raw) placeholder is unsafe here; empty
    // when it is safe.
    [[nodiscard]] std::string refusal(bool raw) const;

  private:
    enum class State : unsigned char {
        kText,
        kTagOpen,         // after '<'
        kEndTagOpen,      // after '</'
        kTagName,         // in a tag or end-tag name
        kBeforeAttrName,  // between attributes
        kAttrName,
        kAfterAttrName,
        kBeforeAttrValue,  // after '='
        kAttrValueDouble,
        kAttrValueSingle,
        kAttrValueUnquoted,
        kMarkupDecl,      // after '<!'
        kMarkupDeclDash,  // after '<!-'
        kComment,
        kBogusComment,  // <!DOCTYPE ...>, <?...>, </3...>
        kRawText,       // inside <script>, <style>, ...
    };

    [[nodiscard]] std::string attribute_refusal() const;
    void begin_tag(char c, bool end);
    void begin_attr(char c);
    void begin_value(State s);
    void value_char(char c);
    void end_tag();
    void raw_text_char(char c);
    void step(char c);

    State state_ = State::kText;
    std::string tag_;
    bool end_tag_ = false;
    std::string attr_;
    std::string value_;  // the value so far, as value_char() keeps it
    int dashes_ = 0;
    std::string raw_tag_;
    size_t raw_match_ = 0;
};

}  // namespace tailor
