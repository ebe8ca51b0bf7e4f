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

// Every URL attribute, on any element: a placeholder that could supply the
// scheme is refused, one after a literal path is not.
TEST(Template, EveryUrlAttributeNeedsALiteralStart) {
    for (const char* attr :
         {"href",   "src",        "action",   "formaction", "xlink:href", "XLink:Href",
          "poster", "cite",       "data",     "codebase",   "manifest",   "longdesc",
          "usemap", "icon",       "lowsrc",   "dynsrc",     "profile",    "classid",
          "code",   "background", "xml:base", "itemtype"}) {
        for (const char* value :
             {"{{u}}", "javascript:{{u}}", " JAVASCRIPT:{{u}}", "java\nscript:{{u}}",
              "data:text/html,{{u}}", "vbscript:{{u}}", "{{a}}:{{b}}"}) {
            const std::string bad = std::string("<x ") + attr + "=\"" + value + "\">";
            const TemplateError err = compile_error(bad);
            EXPECT_EQ(err.code, TemplateErrorCode::kUnsafeContext) << bad;
            EXPECT_NE(err.message.find("URL attribute"), std::string::npos) << err.message;
        }
        const std::string ok = std::string("<x ") + attr + "=\"/p/{{u}}\">";
        TemplateError err;
        EXPECT_TRUE(compile_template(ok, &err).has_value()) << ok << ": " << err.message;
    }
}

TEST(Template, UrlAttributesOnSvgAndMathMlElementsAreChecked) {
    for (const char* bad :
         {"<svg><a href=\"{{u}}\"><text>x</text></a></svg>",
          "<svg><a xlink:href=\"{{u}}\">x</a></svg>", "<svg><image href=\"{{u}}\"/></svg>",
          "<svg><use xlink:href=\"javascript:{{u}}\"/></svg>",
          "<math><mi href=\"{{u}}\">x</mi></math>", "<iframe src=\"{{u}}\"></iframe>",
          "<button formaction=\"{{u}}\">go</button>", "<input type=image formaction='{{u}}'>"}) {
        EXPECT_EQ(compile_error(bad).code, TemplateErrorCode::kUnsafeContext) << bad;
    }
}

// A profile value "javascript:..." in an accepted URL attribute lands after
// the literal path, where it is only a path segment.
TEST(Template, JavascriptValueAfterALiteralPathIsOnlyAPath) {
    Vars v{{{"u", {"javascript:alert(1)", false}}}};
    EXPECT_EQ(render("<a href=\"/p/{{u}}\">x</a>", v), "<a href=\"/p/javascript:alert(1)\">x</a>");
    EXPECT_EQ(render("<a href=\"https://shop.example/?q={{u}}\">x</a>", v),
              "<a href=\"https://shop.example/?q=javascript:alert(1)\">x</a>");
}

// SVG animation elements set another attribute (attributeName="href") to
// their to/values/from/by: no placeholder in any of their attributes.
TEST(Template, SvgAnimationAttributesAreRefused) {
    for (const char* bad :
         {"<svg><a><set attributeName=\"href\" to=\"{{u}}\"/><text>x</text></a></svg>",
          "<svg><a><animate attributeName=\"href\" values=\"{{u}}\"/></a></svg>",
          "<svg><a><animate attributeName=\"href\" from=\"{{u}}\" to=\"/\"/></a></svg>",
          "<svg><a><animate attributeName=\"href\" by=\"{{u}}\"/></a></svg>",
          "<svg><a><animate attributeName=\"{{a}}\" to=\"javascript:alert(1)\"/></a></svg>",
          "<svg><a><ANIMATE attributeName=\"href\" to=\"/p/{{u}}\"/></a></svg>",
          "<svg><animateMotion path=\"{{p}}\"/></svg>",
          "<svg><animateTransform attributeName=\"transform\" to=\"{{t}}\"/></svg>",
          "<svg><animateColor values=\"{{c}}\"/></svg>",
          "<svg><set attributeName=\"xlink:href\" to='{{u}}'/></svg>"}) {
        const TemplateError err = compile_error(bad);
        EXPECT_EQ(err.code, TemplateErrorCode::kUnsafeContext) << bad;
        EXPECT_NE(err.message.find("no placeholder is allowed"), std::string::npos) << err.message;
    }
    // text around and inside SVG stays allowed
    Vars v{{{"x", {"<b>", false}}}};
    EXPECT_EQ(render("<svg><text>{{x}}</text></svg>", v), "<svg><text>&lt;b&gt;</text></svg>");
}

// <meta http-equiv=refresh content="0;url=..."> redirects, in whatever order
// its attributes come.
TEST(Template, MetaAttributesAreRefused) {
    for (const char* bad : {"<meta http-equiv=\"refresh\" content=\"0;url={{u}}\">",
                            "<meta content=\"0;url={{u}}\" http-equiv=\"refresh\">",
                            "<meta http-equiv=\"{{h}}\" content=\"0;url=javascript:alert(1)\">",
                            "<META HTTP-EQUIV=\"Refresh\" CONTENT=\"0; URL=/p/{{u}}\">",
                            "<meta name=\"description\" content=\"{{d}}\">"}) {
        const TemplateError err = compile_error(bad);
        EXPECT_EQ(err.code, TemplateErrorCode::kUnsafeContext) << bad;
        EXPECT_NE(err.message.find("<meta>"), std::string::npos) << err.message;
    }
}

// A URL list gains an entry from a value holding ", url 2x": refused
// wherever the placeholder sits.
TEST(Template, SrcsetImagesrcsetAndOtherUrlListsAreRefused) {
    for (const char* bad :
         {"<img srcset=\"{{u}}\">", "<img srcset=\"/img/{{sku}}.jpg 2x\">",
          "<img src=\"/a.jpg\" srcset=\"/a.jpg 1x, /img/{{sku}}@2x.jpg 2x\">",
          "<source srcset=\"https://cdn.example/{{sku}}.webp\">",
          "<link rel=\"preload\" as=\"image\" imagesrcset=\"{{u}} 2x\">",
          "<link rel=\"preload\" as=\"image\" imagesrcset=\"/i/{{u}}.jpg 2x\">",
          "<a href=\"/p\" ping=\"/t/{{u}}\">x</a>", "<applet archive=\"/a/{{u}}.jar\">"}) {
        EXPECT_EQ(compile_error(bad).code, TemplateErrorCode::kUnsafeContext) << bad;
    }
    const TemplateError err = compile_error("<img imagesrcset=\"/i/{{u}}.jpg\">");
    EXPECT_NE(err.message.find("\"imagesrcset\", a list of URLs"), std::string::npos)
        << err.message;
}

// <base> moves every relative URL on the page; <script> and plug-in elements'
// attributes pick the code that runs: even after a literal path, refused.
TEST(Template, BaseScriptAndPluginAttributesAreRefused) {
    for (const char* bad :
         {"<base href=\"/shop/{{u}}/\">", "<base href=\"https://shop.example/{{u}}/\">",
          "<script src=\"/js/{{name}}.js\"></script>", "<script type=\"{{t}}\"></script>",
          "<svg><script href=\"/js/{{u}}.js\"></script></svg>",
          "<object data=\"/o/{{u}}\"></object>", "<embed src=\"/e/{{u}}\">",
          "<param name=\"movie\" value=\"{{u}}\">", "<applet code=\"{{u}}\"></applet>"}) {
        EXPECT_EQ(compile_error(bad).code, TemplateErrorCode::kUnsafeContext) << bad;
    }
    // the same placeholders on ordinary elements are fine
    TemplateError err;
    EXPECT_TRUE(compile_template("<img src=\"/e/{{u}}\" alt=\"{{t}}\">", &err).has_value())
        << err.message;
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
