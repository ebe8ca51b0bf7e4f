// Template: syntax, escaping of every value, trust of raw values, and refused HTML contexts.
#include "tailor/html/template.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace tailor {
namespace {

struct Vars {
    std::map<std::string, std::pair<std::string, bool>, std::less<>> values;

    bool operator()(std::string_view name, TemplateValue* value) const {
        auto it = values.find(name);
        if (it == values.end()) {
            return false;
        }
        value->text = it->second.first;
        value->trusted = it->second.second;
        return true;
    }
};

std::string render(std::string_view source, Vars vars, RenderStats* stats = nullptr) {
    TemplateError err;
    auto t = compile_template(source, &err);
    EXPECT_TRUE(t.has_value()) << source << ": " << err.message;
    std::string out;
    if (t) {
        t->render_with(out, vars, stats);
    }
    return out;
}

TemplateError compile_error(std::string_view source) {
    TemplateError err;
    auto t = compile_template(source, &err);
    EXPECT_FALSE(t.has_value()) << source;
    return err;
}

TEST(Template, VariablesAreLookedUpAndEscaped) {
    Vars v{{{"first_name", {"Ann <script>", false}}}};
    EXPECT_EQ(render("<p>Hi {{first_name}}!</p>", v), "<p>Hi Ann &lt;script&gt;!</p>");
}

TEST(Template, SpacesAroundNamesAreAllowed) {
    Vars v{{{"a", {"x", false}}}};
    EXPECT_EQ(render("[{{ a }}]", v), "[x]");
}

TEST(Template, DottedNamesAreOneVariable) {
    Vars v{{{"profile.first_name", {"Bo", false}}}};
    EXPECT_EQ(render("{{profile.first_name}}", v), "Bo");
}

TEST(Template, UnknownVariableRendersEmpty) {
    RenderStats stats;
    EXPECT_EQ(render("Hi {{first_name}}!", Vars{}, &stats), "Hi !");
    EXPECT_EQ(stats.missing, 1u);
}

TEST(Template, DefaultIsUsedWhenUnknownOrEmpty) {
    EXPECT_EQ(render("Hi {{first_name|there}}!", Vars{}), "Hi there!");
    Vars empty{{{"first_name", {"", false}}}};
    EXPECT_EQ(render("Hi {{first_name | there }}!", empty), "Hi there!");
    Vars known{{{"first_name", {"Ann", false}}}};
    EXPECT_EQ(render("Hi {{first_name|there}}!", known), "Hi Ann!");
}

TEST(Template, DefaultIsPlainTextAndEscaped) {
    EXPECT_EQ(render("{{x|<b>&</b>}}", Vars{}), "&lt;b&gt;&amp;&lt;/b&gt;");
}

TEST(Template, RawInsertsTrustedValuesAsIs) {
    Vars v{{{"promo", {"<b>20% off</b>", true}}}};
    RenderStats stats;
    EXPECT_EQ(render("<div>{{{promo}}}</div>", v, &stats), "<div><b>20% off</b></div>");
    EXPECT_EQ(stats.raw_escaped, 0u);
}

TEST(Template, RawEscapesUntrustedValuesAnyway) {
    Vars v{{{"first_name", {"<img src=x onerror=alert(1)>", false}}}};
    RenderStats stats;
    EXPECT_EQ(render("{{{first_name}}}", v, &stats), "&lt;img src=x onerror=alert(1)&gt;");
    EXPECT_EQ(stats.raw_escaped, 1u);
}

TEST(Template, EscapedPlaceholderEscapesTrustedValuesToo) {
    Vars v{{{"promo", {"<b>", true}}}};
    EXPECT_EQ(render("{{promo}}", v), "&lt;b&gt;");
}

TEST(Template, QuotedAttributeValuesMayHoldPlaceholders) {
    Vars v{{{"name", {"\"><script>", false}}}};
    EXPECT_EQ(render("<img alt=\"{{name}}\" title='{{name}}'>", v),
              "<img alt=\"&quot;&gt;&lt;script&gt;\" title='&quot;&gt;&lt;script&gt;'>");
}

TEST(Template, UrlAttributesNeedALiteralStart) {
    Vars v{{{"sku", {"a b", false}}}};
    EXPECT_EQ(render("<a href=\"/p/{{sku}}\">x</a>", v), "<a href=\"/p/a b\">x</a>");
    EXPECT_EQ(render("<a href=\"https://shop.example/?q={{sku}}\">", v),
              "<a href=\"https://shop.example/?q=a b\">");
    EXPECT_EQ(compile_error("<a href=\"{{url}}\">").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<a href=\" {{url}}\">").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<a href=\"/{{host}}\">").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<img SRC='{{u}}'>").code, TemplateErrorCode::kUnsafeContext);
}

TEST(Template, UrlPrefixesThatFixSchemeAndHostAreAccepted) {
    for (const char* ok :
         {"<a href=\"/p/{{sku}}\">", "<a href=\"/p/{{a}}/{{b}}\">", "<a href=\"products/{{sku}}\">",
          "<a href=\"?q={{q}}\">", "<a href=\"#{{id}}\">",
          "<a href=\"https://shop.example/{{p}}\">", "<a href=\"HTTP://shop.example?q={{q}}\">",
          "<a href=\"mailto:{{email}}\">", "<a href=\"tel:{{phone}}\">"}) {
        TemplateError err;
        EXPECT_TRUE(compile_template(ok, &err).has_value()) << ok << ": " << err.message;
    }
}

TEST(Template, UrlPrefixesThatCouldRunScriptAreRefused) {
    for (const char* bad :
         {"<a href=\"javascript:alert('{{x}}')\">", "<a href=\"JavaScript:{{x}}\">",
          "<a href=\"java\tscript:{{x}}\">", "<a href=\"javascript&#58;a/{{x}}\">",
          "<a href=\"data:text/html,{{x}}\">", "<a href=\"https://{{host}}/\">",
          "<a href=\"https://shop.{{x}}/\">", "<a href=\"//{{host}}\">",
          "<a href=\"/&#47;{{host}}\">", "<a href=\"{{a}}/{{b}}\">", "<a href=\"/{{a}}/{{b}}\">",
          "<form action=\"{{x}}\">"}) {
        EXPECT_EQ(compile_error(bad).code, TemplateErrorCode::kUnsafeContext) << bad;
    }
}

TEST(Template, ScriptAndStyleContentsAreRefused) {
    EXPECT_EQ(compile_error("<script>var n = \"{{name}}\";</script>").code,
              TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<STYLE>.a{content:'{{x}}'}</STYLE>").code,
              TemplateErrorCode::kUnsafeContext);
}

TEST(Template, TextAfterScriptEndTagIsFine) {
    Vars v{{{"x", {"<", false}}}};
    EXPECT_EQ(render("<script>if (a</b) {}</script ><p>{{x}}</p>", v),
              "<script>if (a</b) {}</script ><p>&lt;</p>");
}

TEST(Template, EventHandlersStyleAndSrcdocAreRefused) {
    EXPECT_EQ(compile_error("<b onclick=\"go('{{x}}')\">").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<b style=\"color:{{c}}\">").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<iframe srcdoc=\"{{h}}\">").code, TemplateErrorCode::kUnsafeContext);
}

TEST(Template, UnquotedValuesAndTagInternalsAreRefused) {
    EXPECT_EQ(compile_error("<b title={{x}}>").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<b {{x}}>").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<h{{n}}>").code, TemplateErrorCode::kUnsafeContext);
    EXPECT_EQ(compile_error("<!-- {{x}} -->").code, TemplateErrorCode::kUnsafeContext);
}

TEST(Template, CommentEndsAtDoubleDashAngle) {
    Vars v{{{"x", {"y", false}}}};
    EXPECT_EQ(render("<!-- a -- b --><i>{{x}}</i>", v), "<!-- a -- b --><i>y</i>");
}

TEST(Template, RawPlaceholdersOnlyInText) {
    const TemplateError err = compile_error("<b title=\"{{{x}}}\">");
    EXPECT_EQ(err.code, TemplateErrorCode::kUnsafeContext);
}

TEST(Template, LessThanInTextIsNotATag) {
    Vars v{{{"x", {"1", false}}}};
    EXPECT_EQ(render("a < b {{x}}", v), "a < b 1");
}

TEST(Template, BackslashMakesLiteralBraces) {
    EXPECT_EQ(render("use \\{{name}} here", Vars{}), "use {{name}} here");
}

TEST(Template, UnclosedPlaceholderReportsOffsetLineAndColumn) {
    const TemplateError err = compile_error("<p>\n  Hi {{first_name</p>");
    EXPECT_EQ(err.code, TemplateErrorCode::kUnclosedPlaceholder);
    EXPECT_EQ(err.offset, 9u);
    EXPECT_EQ(err.line, 2u);
    EXPECT_EQ(err.column, 6u);
}

TEST(Template, PlaceholderCannotSpanLines) {
    EXPECT_EQ(compile_error("{{a\n}}").code, TemplateErrorCode::kUnclosedPlaceholder);
}

TEST(Template, NestedOpenIsUnclosed) {
    const TemplateError err = compile_error("{{a {{b}}");
    EXPECT_EQ(err.code, TemplateErrorCode::kUnclosedPlaceholder);
    EXPECT_EQ(err.offset, 0u);
}

TEST(Template, RawNeedsThreeClosingBraces) {
    EXPECT_EQ(compile_error("{{{a}}").code, TemplateErrorCode::kUnclosedPlaceholder);
}

TEST(Template, BadNamesPointAtTheBadByte) {
    const TemplateError err = compile_error("x {{first-name}}");
    EXPECT_EQ(err.code, TemplateErrorCode::kBadName);
    EXPECT_EQ(err.offset, 9u);  // the "-"
    EXPECT_EQ(err.column, 10u);
    EXPECT_EQ(compile_error("{{1st}}").code, TemplateErrorCode::kBadName);
    EXPECT_EQ(compile_error("{{a.}}").code, TemplateErrorCode::kBadName);
    EXPECT_EQ(compile_error("{{a..b}}").code, TemplateErrorCode::kBadName);
    EXPECT_EQ(compile_error("{{a b}}").code, TemplateErrorCode::kBadName);
}

TEST(Template, EmptyNamesAreRefused) {
    EXPECT_EQ(compile_error("{{}}").code, TemplateErrorCode::kEmptyName);
    EXPECT_EQ(compile_error("{{ |x}}").code, TemplateErrorCode::kEmptyName);
}

TEST(Template, NameAtTheLengthLimitCompilesAndOnePastDoesNot) {
    const std::string at(Template::kMaxNameBytes, 'a');
    EXPECT_TRUE(compile_template("{{" + at + "}}", nullptr).has_value());
    EXPECT_EQ(compile_error("{{" + at + "a}}").code, TemplateErrorCode::kNameTooLong);
}

TEST(Template, SourceAndPlaceholderCapsAreEnforced) {
    EXPECT_TRUE(compile_template(std::string(Template::kMaxSourceBytes, 'x'), nullptr));
    EXPECT_EQ(compile_error(std::string(Template::kMaxSourceBytes + 1, 'x')).code,
              TemplateErrorCode::kTooLarge);
    std::string many;
    for (size_t i = 0; i < Template::kMaxPlaceholders; ++i) {
        many += "{{a}}";
    }
    EXPECT_TRUE(compile_template(many, nullptr));
    EXPECT_EQ(compile_error(many + "{{a}}").code, TemplateErrorCode::kTooLarge);
}

TEST(Template, VariablesAreListedInOrder) {
    auto t = compile_template("{{a}} {{b|x}} {{{c}}} {{a}}", nullptr);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->variables(), (std::vector<std::string_view>{"a", "b", "c", "a"}));
}

TEST(Template, CopiesRenderIndependently) {
    auto t = compile_template("<i>{{a|d}}</i>", nullptr);
    ASSERT_TRUE(t);
    Template copy = *t;
    t.reset();
    std::string out;
    copy.render(out, nullptr, nullptr);
    EXPECT_EQ(out, "<i>d</i>");
}

TEST(Template, FunctionPointerLookupWorks) {
    auto t = compile_template("{{a}}", nullptr);
    ASSERT_TRUE(t);
    std::string value_text = "&";
    std::string out;
    t->render(
        out,
        [](void* ctx, std::string_view name, TemplateValue* value) {
            value->text = *static_cast<std::string*>(ctx);
            return name == "a";
        },
        &value_text);
    EXPECT_EQ(out, "&amp;");
}

TEST(Template, DefaultConstructedRendersNothing) {
    std::string out = "x";
    Template().render(out, nullptr, nullptr);
    EXPECT_EQ(out, "x");
}

TEST(Template, ErrorNamesAreStable) {
    EXPECT_EQ(template_error_name(TemplateErrorCode::kUnsafeContext), "unsafe-context");
}

}  // namespace
}  // namespace tailor
