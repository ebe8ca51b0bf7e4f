// TemplateContext: where a placeholder sits in HTML, and whether escaping can make it safe there.
#include "tailor/html/template_context.h"

#include "tailor/base/ascii.h"

#include <algorithm>
#include <array>

namespace tailor {
namespace {

// Elements whose content is not HTML: a placeholder there would be in script,
// CSS or raw text, where HTML escaping means nothing.
constexpr std::array<std::string_view, 8> kRawTextElements = {
    "script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"};

// Attributes whose value is a URL: a placeholder at its start could supply
// the scheme (javascript:, data:). Matched by name on every element, HTML,
// SVG and MathML alike.
constexpr std::array<std::string_view, 21> kUrlAttributes = {
    "href",     "src",      "action",   "formaction", "poster",     "cite",     "data",
    "codebase", "manifest", "longdesc", "usemap",     "icon",       "lowsrc",   "dynsrc",
    "profile",  "classid",  "code",     "background", "xlink:href", "xml:base", "itemtype"};

// Attributes whose value is a list of URLs: a placeholder anywhere can start
// another entry (", https://evil.example/x.gif 2x"), so none is allowed.
constexpr std::array<std::string_view, 4> kUrlListAttributes = {"srcset", "imagesrcset", "ping",
                                                                "archive"};

// Elements where a placeholder in any attribute decides what runs or where
// the page goes, so none is allowed: SVG animation elements set another
// attribute (attributeName="href") to their to/values/from/by, <meta> can
// redirect (http-equiv=refresh content="0;url=..."), <base> moves every
// relative URL of the page, and the attributes of <script> and of plug-in
// content pick the code that runs.
bool refuses_every_attribute(std::string_view tag) {
    if (tag.substr(0, 7) == "animate") {  // animate, animatemotion, animatetransform, ...
        return true;
    }
    for (std::string_view t :
         {"set", "meta", "base", "script", "object", "embed", "applet", "param"}) {
        if (tag == t) {
            return true;
        }
    }
    return false;
}

// Stands for a placeholder in a value prefix: a byte literal text never holds
// there (value_char drops controls only at the start, so check both).
constexpr char kPlaceholderMark = '\x01';
constexpr size_t kMaxValuePrefix = 512;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// Whether a URL value starting with `p` (as TemplateContext::value_char keeps it)
// has its scheme and host settled by literal text, so what a placeholder adds
// can only be path, query or fragment. Anything unclear is "no": a '&' may be
// a character reference hiding ':' or '/', and a placeholder may hold either.
bool url_prefix_is_fixed(std::string_view p) {
    if (p.empty()) {
        return false;
    }
    if (p[0] == '?' || p[0] == '#') {
        return true;  // this document
    }
    if (p[0] == '/' || p[0] == '\\') {
        // "/p/..." is a path; "//host" and "/\host" are another host.
        return p[0] == '/' && p.size() >= 2 && p[1] != '/' && p[1] != '\\' && p[1] != '&' &&
               p[1] != kPlaceholderMark;
    }
    for (std::string_view scheme : {"mailto:", "tel:"}) {
        if (starts_with(p, scheme)) {
            return true;  // neither runs script
        }
    }
    for (std::string_view scheme : {"http://", "https://"}) {
        if (starts_with(p, scheme)) {
            // The host ends at the first '/', '?', '#' or '\'; it must be literal.
            const std::string_view rest = p.substr(scheme.size());
            const size_t end = rest.find_first_of("/?#\\");
            if (end == std::string_view::npos || end == 0) {
                return false;
            }
            for (char c : rest.substr(0, end)) {
                if (c == '&' || c == kPlaceholderMark) {
                    return false;
                }
            }
            return true;
        }
    }
    // A relative path: its first segment must end, in literal text, before a
    // ':' could make it a scheme ("products/..." yes, "javascript:..." no).
    for (char c : p) {
        if (c == '/' || c == '?' || c == '#') {
            return true;
        }
        if (c == ':' || c == '&' || c == '\\' || c == kPlaceholderMark) {
            return false;
        }
    }
    return false;
}

}  // namespace

void TemplateContext::feed(std::string_view text) {
    for (char c : text) {
        step(c);
    }
}

// A placeholder in a value could hold anything, ':' and '/' included.
void TemplateContext::feed_placeholder() {
    if (value_.size() < kMaxValuePrefix) {
        value_.push_back(kPlaceholderMark);
    }
}

std::string TemplateContext::refusal(bool raw) const {
    switch (state_) {
        case State::kText:
            return {};
        case State::kAttrValueDouble:
        case State::kAttrValueSingle:
            if (raw) {
                return "raw placeholder inside attribute \"" + attr_ + "\"; use {{name}} there";
            }
            return attribute_refusal();
        case State::kAttrValueUnquoted:
        case State::kBeforeAttrValue:
            return "placeholder in an unquoted value of attribute \"" + attr_ +
                   "\"; quote the value";
        case State::kComment:
        case State::kMarkupDecl:
        case State::kMarkupDeclDash:
        case State::kBogusComment:
            return "placeholder inside an HTML comment or declaration";
        case State::kRawText:
            return "placeholder inside <" + raw_tag_ + ">, where HTML escaping does not apply";
        default:
            return "placeholder inside a tag; only quoted attribute values may hold one";
    }
}

std::string TemplateContext::attribute_refusal() const {
    if (attr_.size() >= 2 && attr_[0] == 'o' && attr_[1] == 'n') {
        return "placeholder in event handler attribute \"" + attr_ + "\"";
    }
    if (attr_ == "style" || attr_ == "srcdoc") {
        return "placeholder in attribute \"" + attr_ + "\", which is not plain text";
    }
    if (refuses_every_attribute(tag_)) {
        return "placeholder in attribute \"" + attr_ + "\" of <" + tag_ +
               ">, whose attributes can run script or redirect the page; "
               "no placeholder is allowed in them";
    }
    if (std::find(kUrlListAttributes.begin(), kUrlListAttributes.end(), attr_) !=
        kUrlListAttributes.end()) {
        return "placeholder in attribute \"" + attr_ +
               "\", a list of URLs that a value could add to; write the list out, or use "
               "src or href with a literal start";
    }
    const bool url =
        std::find(kUrlAttributes.begin(), kUrlAttributes.end(), attr_) != kUrlAttributes.end();
    if (url && !url_prefix_is_fixed(value_)) {
        return "placeholder in URL attribute \"" + attr_ +
               "\" before a literal path, query, or http(s) scheme and host; "
               "e.g. \"/p/{{sku}}\"";
    }
    return {};
}

void TemplateContext::begin_tag(char c, bool end) {
    tag_ = std::string(1, ascii_lower(c));
    end_tag_ = end;
    state_ = State::kTagName;
}

void TemplateContext::begin_attr(char c) {
    attr_ = std::string(1, ascii_lower(c));
    state_ = State::kAttrName;
}

void TemplateContext::begin_value(State s) {
    value_.clear();
    state_ = s;
}

// Keeps the start of the value the way a URL parser reads it: leading
// whitespace and controls stripped, tab/CR/LF dropped anywhere
// ("java\tscript:" is "javascript:"), lower-cased.
void TemplateContext::value_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (value_.size() >= kMaxValuePrefix || (value_.empty() && u <= 0x20) || c == '\t' ||
        c == '\n' || c == '\r') {
        return;
    }
    value_.push_back(ascii_lower(c));
}

void TemplateContext::end_tag() {
    state_ = State::kText;
    if (!end_tag_ && std::find(kRawTextElements.begin(), kRawTextElements.end(), tag_) !=
                         kRawTextElements.end()) {
        raw_tag_ = tag_;
        raw_match_ = 0;
        state_ = State::kRawText;
    }
}

// Looks for "</" + raw_tag_ followed by space, '/' or '>'.
void TemplateContext::raw_text_char(char c) {
    const size_t need = raw_tag_.size() + 2;
    if (raw_match_ == need) {
        if (is_html_space(c) || c == '/' || c == '>') {
            tag_ = raw_tag_;
            end_tag_ = true;
            state_ = State::kTagName;
            step(c);
            return;
        }
        raw_match_ = 0;
    }
    if (raw_match_ == 0) {
        raw_match_ = c == '<' ? 1 : 0;
    } else if (raw_match_ == 1) {
        raw_match_ = c == '/' ? 2 : (c == '<' ? 1 : 0);
    } else if (ascii_lower(c) == raw_tag_[raw_match_ - 2]) {
        ++raw_match_;
    } else {
        raw_match_ = c == '<' ? 1 : 0;
    }
}

void TemplateContext::step(char c) {
    switch (state_) {
        case State::kText:
            if (c == '<') {
                state_ = State::kTagOpen;
            }
            return;
        case State::kTagOpen:
            if (is_ascii_alpha(c)) {
                begin_tag(c, false);
            } else if (c == '/') {
                state_ = State::kEndTagOpen;
            } else if (c == '!') {
                state_ = State::kMarkupDecl;
            } else if (c == '?') {
                state_ = State::kBogusComment;
            } else {
                state_ = State::kText;  // "a < b": just text
                step(c);
            }
            return;
        case State::kEndTagOpen:
            if (is_ascii_alpha(c)) {
                begin_tag(c, true);
            } else {
                state_ = c == '>' ? State::kText : State::kBogusComment;
            }
            return;
        case State::kTagName:
            if (is_html_space(c) || c == '/') {
                state_ = State::kBeforeAttrName;
            } else if (c == '>') {
                end_tag();
            } else {
                tag_.push_back(ascii_lower(c));
            }
            return;
        case State::kBeforeAttrName:
            if (c == '>') {
                end_tag();
            } else if (!is_html_space(c) && c != '/') {
                begin_attr(c);
            }
            return;
        case State::kAttrName:
            if (is_html_space(c)) {
                state_ = State::kAfterAttrName;
            } else if (c == '/') {
                state_ = State::kBeforeAttrName;
            } else if (c == '=') {
                state_ = State::kBeforeAttrValue;
            } else if (c == '>') {
                end_tag();
            } else {
                attr_.push_back(ascii_lower(c));
            }
            return;
        case State::kAfterAttrName:
            if (c == '=') {
                state_ = State::kBeforeAttrValue;
            } else if (c == '>') {
                end_tag();
            } else if (c == '/') {
                state_ = State::kBeforeAttrName;
            } else if (!is_html_space(c)) {
                begin_attr(c);
            }
            return;
        case State::kBeforeAttrValue:
            if (c == '"') {
                begin_value(State::kAttrValueDouble);
            } else if (c == '\'') {
                begin_value(State::kAttrValueSingle);
            } else if (c == '>') {
                end_tag();
            } else if (!is_html_space(c)) {
                begin_value(State::kAttrValueUnquoted);
                value_char(c);
            }
            return;
        case State::kAttrValueDouble:
            if (c == '"') {
                state_ = State::kBeforeAttrName;
            } else {
                value_char(c);
            }
            return;
        case State::kAttrValueSingle:
            if (c == '\'') {
                state_ = State::kBeforeAttrName;
            } else {
                value_char(c);
            }
            return;
        case State::kAttrValueUnquoted:
            if (is_html_space(c)) {
                state_ = State::kBeforeAttrName;
            } else if (c == '>') {
                end_tag();
            } else {
                value_char(c);
            }
            return;
        case State::kMarkupDecl:
            state_ = c == '-' ? State::kMarkupDeclDash : State::kBogusComment;
            if (c == '>') {
                state_ = State::kText;
            }
            return;
        case State::kMarkupDeclDash:
            state_ = c == '-' ? State::kComment : State::kBogusComment;
            dashes_ = 0;
            return;
        case State::kComment:
            if (c == '>' && dashes_ >= 2) {
                state_ = State::kText;
            }
            dashes_ = c == '-' ? dashes_ + 1 : 0;
            return;
        case State::kBogusComment:
            if (c == '>') {
                state_ = State::kText;
            }
            return;
        case State::kRawText:
            raw_text_char(c);
            return;
    }
}

}  // namespace tailor
