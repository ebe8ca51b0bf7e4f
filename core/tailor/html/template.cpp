// Template: the compiler (syntax plus an HTML context tracker) and the per-request render walk.
#include "tailor/html/template.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "tailor/base/ascii.h"
#include "tailor/html/escape.h"

namespace tailor {
namespace {

// Elements whose content is not HTML: a placeholder there would be in script,
// CSS or raw text, where HTML escaping means nothing.
constexpr std::array<std::string_view, 8> kRawTextElements = {
    "script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"};

// Attributes whose value is a URL: a placeholder at its start could supply
// the scheme (javascript:, data:).
constexpr std::array<std::string_view, 17> kUrlAttributes = {
    "href",     "src",    "action",     "formaction", "poster",    "cite",
    "data",     "srcset", "background", "codebase",   "manifest",  "ping",
    "longdesc", "usemap", "icon",       "lowsrc",     "xlink:href"};

// Stands for a placeholder in a value prefix: a byte literal text never holds
// there (value_char drops controls only at the start, so check both).
constexpr char kPlaceholderMark = '\x01';
constexpr size_t kMaxValuePrefix = 512;

bool starts_with(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
}

// Whether a URL value starting with `p` (as HtmlContext::value_char keeps it)
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

// A tokenizer for just enough of HTML to know where a placeholder sits: the
// states of the WHATWG tokenizer that change what escaping means, folded.
class HtmlContext {
  public:
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

    void feed(std::string_view text) {
        for (char c : text) {
            step(c);
        }
    }

    // A placeholder in a value could hold anything, ':' and '/' included.
    void feed_placeholder() {
        if (value_.size() < kMaxValuePrefix) {
            value_.push_back(kPlaceholderMark);
        }
    }

    // Why an escaped (or, if `raw`, a raw) placeholder is unsafe here; empty
    // when it is safe.
    [[nodiscard]] std::string refusal(bool raw) const {
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

  private:
    [[nodiscard]] std::string attribute_refusal() const {
        if (attr_.size() >= 2 && attr_[0] == 'o' && attr_[1] == 'n') {
            return "placeholder in event handler attribute \"" + attr_ + "\"";
        }
        if (attr_ == "style" || attr_ == "srcdoc") {
            return "placeholder in attribute \"" + attr_ + "\", which is not plain text";
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

    void begin_tag(char c, bool end) {
        tag_ = std::string(1, ascii_lower(c));
        end_tag_ = end;
        state_ = State::kTagName;
    }

    void begin_attr(char c) {
        attr_ = std::string(1, ascii_lower(c));
        state_ = State::kAttrName;
    }

    void begin_value(State s) {
        value_.clear();
        state_ = s;
    }

    // Keeps the start of the value the way a URL parser reads it: leading
    // whitespace and controls stripped, tab/CR/LF dropped anywhere
    // ("java\tscript:" is "javascript:"), lower-cased.
    void value_char(char c) {
        const auto u = static_cast<unsigned char>(c);
        if (value_.size() >= kMaxValuePrefix || (value_.empty() && u <= 0x20) || c == '\t' ||
            c == '\n' || c == '\r') {
            return;
        }
        value_.push_back(ascii_lower(c));
    }

    void end_tag() {
        state_ = State::kText;
        if (!end_tag_ && std::find(kRawTextElements.begin(), kRawTextElements.end(), tag_) !=
                             kRawTextElements.end()) {
            raw_tag_ = tag_;
            raw_match_ = 0;
            state_ = State::kRawText;
        }
    }

    // Looks for "</" + raw_tag_ followed by space, '/' or '>'.
    void raw_text_char(char c) {
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

    void step(char c) {
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

    State state_ = State::kText;
    std::string tag_;
    bool end_tag_ = false;
    std::string attr_;
    std::string value_;  // the value so far, as value_char() keeps it
    int dashes_ = 0;
    std::string raw_tag_;
    size_t raw_match_ = 0;
};

bool is_name_start(char c) {
    return is_ascii_alpha(c) || c == '_';
}
bool is_name_char(char c) {
    return is_ascii_alpha(c) || is_ascii_digit(c) || c == '_';
}

void fail(TemplateError* error, std::string_view source, TemplateErrorCode code, size_t offset,
          std::string message) {
    if (error == nullptr) {
        return;
    }
    error->code = code;
    error->offset = offset;
    error->line =
        1 + static_cast<size_t>(std::count(
                source.begin(), source.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
    const size_t line_start = source.rfind('\n', offset == 0 ? 0 : offset - 1);
    error->column =
        (line_start == std::string_view::npos || offset == 0) ? offset + 1 : offset - line_start;
    error->message = std::move(message);
}

}  // namespace

std::optional<Template> compile_template(std::string_view source, TemplateError* error) {
    if (error != nullptr) {
        *error = TemplateError{};
    }
    if (source.size() > Template::kMaxSourceBytes) {
        fail(error, source, TemplateErrorCode::kTooLarge, 0,
             "template is " + std::to_string(source.size()) + " bytes, over the limit of " +
                 std::to_string(Template::kMaxSourceBytes));
        return std::nullopt;
    }

    Template t;
    t.pool_.reserve(source.size());
    HtmlContext context;
    size_t placeholders = 0;

    auto add_literal = [&t](std::string_view text) {
        if (text.empty()) {
            return;
        }
        // Adjacent literals (around "\{{") merge into one segment.
        if (!t.segments_.empty() && t.segments_.back().kind == Template::Kind::kLiteral &&
            t.segments_.back().offset + t.segments_.back().length == t.pool_.size()) {
            t.segments_.back().length += static_cast<uint32_t>(text.size());
        } else {
            t.segments_.push_back({Template::Kind::kLiteral, static_cast<uint32_t>(t.pool_.size()),
                                   static_cast<uint32_t>(text.size()), 0, 0});
        }
        t.pool_.append(text);
        t.literal_bytes_ += text.size();
    };

    size_t pos = 0;
    while (pos < source.size()) {
        const size_t open = source.find("{{", pos);
        if (open == std::string_view::npos) {
            break;
        }
        if (open > pos && source[open - 1] == '\\') {
            // "\{{" is a literal "{{"; the backslash goes.
            const std::string_view before = source.substr(pos, open - 1 - pos);
            context.feed(before);
            add_literal(before);
            context.feed("{{");
            add_literal("{{");
            pos = open + 2;
            continue;
        }
        const std::string_view before = source.substr(pos, open - pos);
        context.feed(before);
        add_literal(before);

        const bool raw = source.substr(open, 3) == "{{{";
        const std::string_view close = raw ? "}}}" : "}}";
        const size_t body_start = open + close.size();
        const size_t end = source.find(close, body_start);
        const size_t line_end = source.find('\n', body_start);
        const size_t next_open = source.find("{{", body_start);
        if (end == std::string_view::npos ||
            (line_end != std::string_view::npos && line_end < end) ||
            (next_open != std::string_view::npos && next_open < end)) {
            fail(error, source, TemplateErrorCode::kUnclosedPlaceholder, open,
                 std::string(raw ? "\"{{{\"" : "\"{{\"") + " is not closed by \"" +
                     std::string(close) + "\" on the same line");
            return std::nullopt;
        }
        if (++placeholders > Template::kMaxPlaceholders) {
            fail(error, source, TemplateErrorCode::kTooLarge, open,
                 "more than " + std::to_string(Template::kMaxPlaceholders) + " placeholders");
            return std::nullopt;
        }

        const std::string_view body = source.substr(body_start, end - body_start);
        const size_t bar = body.find('|');
        const std::string_view name_part = body.substr(0, bar);
        const std::string_view name = trim(name_part);
        const size_t name_offset =
            body_start + static_cast<size_t>(name.empty() ? 0 : name.data() - name_part.data());
        if (name.empty()) {
            fail(error, source, TemplateErrorCode::kEmptyName, open, "placeholder has no name");
            return std::nullopt;
        }
        if (name.size() > Template::kMaxNameBytes) {
            fail(error, source, TemplateErrorCode::kNameTooLong, name_offset,
                 "name is longer than " + std::to_string(Template::kMaxNameBytes) + " bytes");
            return std::nullopt;
        }
        for (size_t i = 0; i < name.size(); ++i) {
            const bool segment_start = i == 0 || name[i - 1] == '.';
            const bool ok =
                segment_start ? is_name_start(name[i]) : (is_name_char(name[i]) || name[i] == '.');
            if (!ok || (name[i] == '.' && i + 1 == name.size())) {
                fail(error, source, TemplateErrorCode::kBadName, name_offset + i,
                     "bad character '" + std::string(1, name[i]) + "' in name \"" +
                         std::string(name) + "\"; names are letters, digits, '_' and '.'");
                return std::nullopt;
            }
        }
        std::string why = context.refusal(raw);
        if (!why.empty()) {
            fail(error, source, TemplateErrorCode::kUnsafeContext, open, std::move(why));
            return std::nullopt;
        }
        context.feed_placeholder();

        Template::Segment seg{raw ? Template::Kind::kRaw : Template::Kind::kEscaped,
                              static_cast<uint32_t>(t.pool_.size()),
                              static_cast<uint32_t>(name.size()), 0, 0};
        t.pool_.append(name);
        if (bar != std::string_view::npos) {
            // Defaults are the author's plain text; escaped once, here.
            const std::string_view def = trim(body.substr(bar + 1));
            seg.default_offset = static_cast<uint32_t>(t.pool_.size());
            append_html_attribute(t.pool_, def);
            seg.default_length = static_cast<uint32_t>(t.pool_.size() - seg.default_offset);
        }
        t.segments_.push_back(seg);
        pos = end + close.size();
    }
    const std::string_view rest = source.substr(std::min(pos, source.size()));
    add_literal(rest);
    return t;
}

void Template::render(std::string& out, TemplateLookupFn lookup, void* ctx,
                      RenderStats* stats) const {
    RenderStats local;
    for (const Segment& seg : segments_) {
        if (seg.kind == Kind::kLiteral) {
            out.append(pool_, seg.offset, seg.length);
            continue;
        }
        TemplateValue value;
        if (lookup == nullptr || !lookup(ctx, slice(seg.offset, seg.length), &value) ||
            value.text.empty()) {
            ++local.missing;
            out.append(pool_, seg.default_offset, seg.default_length);
            continue;
        }
        if (seg.kind == Kind::kRaw && value.trusted) {
            out.append(value.text);
            continue;
        }
        if (seg.kind == Kind::kRaw) {
            ++local.raw_escaped;
        }
        append_html_attribute(out, value.text);
    }
    if (stats != nullptr) {
        *stats = local;
    }
}

std::vector<std::string_view> Template::variables() const {
    std::vector<std::string_view> names;
    for (const Segment& seg : segments_) {
        if (seg.kind != Kind::kLiteral) {
            names.push_back(slice(seg.offset, seg.length));
        }
    }
    return names;
}

std::string_view template_error_name(TemplateErrorCode code) noexcept {
    switch (code) {
        case TemplateErrorCode::kNone:
            return "none";
        case TemplateErrorCode::kUnclosedPlaceholder:
            return "unclosed-placeholder";
        case TemplateErrorCode::kEmptyName:
            return "empty-name";
        case TemplateErrorCode::kBadName:
            return "bad-name";
        case TemplateErrorCode::kNameTooLong:
            return "name-too-long";
        case TemplateErrorCode::kUnsafeContext:
            return "unsafe-context";
        case TemplateErrorCode::kTooLarge:
            return "too-large";
    }
    return "none";
}

}  // namespace tailor
