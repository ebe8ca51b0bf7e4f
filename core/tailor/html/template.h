// Template: rule authors' `{{name}}` fragments, compiled once, rendered per request by a walk.
//
// Syntax (docs/templates.md is the reference for rule authors):
//   {{first_name}}          the variable, HTML-escaped (always)
//   {{first_name|there}}    ... or the plain-text default when unknown or empty
//   {{{promo_html}}}        raw HTML, but only if the lookup marks the value
//                           trusted; an untrusted value is escaped anyway
//   \{{                     a literal "{{"
// Names are dotted identifiers: [A-Za-z_][A-Za-z0-9_]* ('.' [A-Za-z_][A-Za-z0-9_]*)*.
//
// The compiler tracks the HTML context of each placeholder (template_context.h)
// and refuses the ones escaping cannot make safe: inside <script>/<style>,
// comments, tag or attribute names, unquoted attribute values, event
// handlers (on*), style and srcdoc, a URL attribute before literal text has
// fixed its scheme and host ("/p/{{sku}}" is fine; "{{url}}" could be
// "javascript:..."), URL lists (srcset, imagesrcset, ping), and every
// attribute of SVG <set>/<animate*>, <meta>, <base>, <script> and plug-in
// elements. Raw placeholders are refused everywhere but text. So every
// template that compiles is safe for any profile data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

// TemplateErrorCode
//
// Why a template did not compile; the message in TemplateError says more.
enum class TemplateErrorCode : unsigned char {
    kNone = 0,
    kUnclosedPlaceholder,  // `{{` without its `}}` on the same line
    kEmptyName,            // `{{}}` or `{{|x}}`
    kBadName,              // a character outside the name grammar
    kNameTooLong,          // longer than Template::kMaxNameBytes
    kUnsafeContext,        // a placeholder where escaping cannot make it safe
    kTooLarge,             // source or placeholder count over the caps
};

// TemplateError
//
// Where and why compilation failed. `offset` is the byte offset into the
// source; `line` and `column` are 1-based (column counts bytes), so a caller
// holding the template's position in a rule file can report `file:line`.
struct TemplateError {
    TemplateErrorCode code = TemplateErrorCode::kNone;
    size_t offset = 0;
    size_t line = 0;
    size_t column = 0;
    std::string message;
};

// TemplateValue
//
// What a lookup hands back: the text, and whether the rule pack itself vouches
// for it as HTML. Profile data is never trusted.
struct TemplateValue {
    std::string_view text;
    bool trusted = false;
};

// TemplateLookupFn
//
// Finds `name`; fills `*value` and returns true, or returns false when the
// name is unknown. A plain function pointer plus context keeps the per-request
// walk free of std::function and its allocation.
using TemplateLookupFn = bool (*)(void* ctx, std::string_view name, TemplateValue* value);

// RenderStats
//
// What happened in one render, for counters and rule previews.
struct RenderStats {
    uint32_t missing = 0;      // unknown or empty variables (default or nothing rendered)
    uint32_t raw_escaped = 0;  // {{{x}}} whose value was untrusted, so escaped
};

// Template
//
// A compiled template: literal segments and placeholders over one owned pool,
// so it copies and moves as a value and rendering never re-parses. A
// default-constructed Template renders nothing.
class Template {
  public:
    static constexpr size_t kMaxSourceBytes = 64 * 1024;
    static constexpr size_t kMaxNameBytes = 64;
    static constexpr size_t kMaxPlaceholders = 256;

    Template() = default;

    // render
    //
    // Appends the template to `out`, asking `lookup(ctx, name, &value)` for
    // each placeholder. Escaped placeholders and untrusted raw ones go
    // through append_html_attribute; a trusted raw value is appended as is.
    // Fills `*stats` when given.
    //
    // Example:
    //   // t compiled from "Hi {{first_name|there}}!", lookup knows first_name="Ann <3"
    //   std::string out;
    //   t.render(out, lookup, &profile);  // out == "Hi Ann &lt;3!"
    void render(std::string& out, TemplateLookupFn lookup, void* ctx,
                RenderStats* stats = nullptr) const;

    // render_with
    //
    // render() for any callable `bool(std::string_view name, TemplateValue*)`;
    // it is passed by reference through a captureless trampoline, so there is
    // no std::function and no allocation.
    //
    // Example:
    //   auto lookup = [&](std::string_view n, TemplateValue* v) { ... };
    //   t.render_with(out, lookup);
    template <typename Lookup>
    void render_with(std::string& out, Lookup& lookup, RenderStats* stats = nullptr) const {
        render(
            out,
            [](void* ctx, std::string_view name, TemplateValue* value) -> bool {
                return (*static_cast<Lookup*>(ctx))(name, value);
            },
            &lookup, stats);
    }

    // variables
    //
    // The variable names the template uses, in order of appearance, with
    // repeats; for `tailorctl rules check` and for prefetching.
    //
    // Example:
    //   // "{{a}} {{b|x}} {{a}}" -> {"a", "b", "a"}
    [[nodiscard]] std::vector<std::string_view> variables() const;

    // literal_bytes
    //
    // Bytes of literal text; a lower bound of the rendered size, used to
    // reserve the output once.
    [[nodiscard]] size_t literal_bytes() const noexcept { return literal_bytes_; }

  private:
    friend std::optional<Template> compile_template(std::string_view source, TemplateError* error);

    enum class Kind : unsigned char { kLiteral, kEscaped, kRaw };

    // Offsets into pool_ rather than views, so copies stay valid.
    struct Segment {
        Kind kind;
        uint32_t offset;  // literal text, or the variable name
        uint32_t length;
        uint32_t default_offset;  // the default, already HTML-escaped
        uint32_t default_length;
    };

    [[nodiscard]] std::string_view slice(uint32_t offset, uint32_t length) const noexcept {
        return std::string_view(pool_).substr(offset, length);
    }

    std::string pool_;
    std::vector<Segment> segments_;
    size_t literal_bytes_ = 0;
};

// compile_template
//
// Parses `source` into a Template, checking names, syntax and the HTML
// context of every placeholder. On failure returns nullopt and, when `error`
// is given, fills it with the code, the byte offset, line and column.
//
// Example:
//   TemplateError err;
//   auto t = compile_template("<p>Hi {{first_name|there}}</p>", &err);  // ok
//   compile_template("Hi {{first_name", &err);  // nullopt, err.offset == 3, err.column == 4
//   compile_template("<a href=\"{{url}}\">", &err);  // nullopt, kUnsafeContext
[[nodiscard]] std::optional<Template> compile_template(std::string_view source,
                                                       TemplateError* error);

// template_error_name
//
// A short lower-case name for the code, for logs.
//
// Example:
//   template_error_name(TemplateErrorCode::kBadName) == "bad-name"
[[nodiscard]] std::string_view template_error_name(TemplateErrorCode code) noexcept;

}  // namespace tailor
