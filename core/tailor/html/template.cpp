// Template: the compiler (syntax, names, caps) and the per-request render walk; the HTML
// context of each placeholder is judged by TemplateContext (template_context.h).
#include "tailor/html/template.h"

#include <algorithm>
#include <utility>

#include "tailor/base/ascii.h"
#include "tailor/html/escape.h"
#include "tailor/html/template_context.h"

namespace tailor {
namespace {

bool is_name_start(char c) {
    return is_ascii_alpha(c) || c == '_';
}
bool is_name_char(char c) {
    return is_ascii_alnum(c) || c == '_';
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
    TemplateContext context;
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
