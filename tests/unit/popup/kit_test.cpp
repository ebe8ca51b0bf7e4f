// Pop-ups in the rule kit: t.popup's misuse reports, evaluation through the policy, the
// directives JSON contract, and the caps path from StoredVisitor through Engine::decide.
#include <gtest/gtest.h>

#include <string>

#include "rules/test_support.h"
#include "tailor/engine/engine.h"
#include "tailor/popup/caps.h"
#include "tailor/popup/runtime.h"
#include "tailor/profile/cache.h"

namespace tailor {
namespace {

using namespace rules_test;

constexpr const char* kTwoPopups = R"(local t = require "tailor"
t.popup "cart-rescue" { trigger = t.exit_intent(), intent = "cart", when = t.cart_has_items(),
  html = [[<p>Hi {{first_name|there}}, your cart</p>]] }
t.popup "news" { trigger = t.linger(20), intent = "browse", priority = 9,
  html = [[<p>Join</p>]] }
)";

std::string compile_error(std::string_view text) {
    RulesError err;
    auto pack = compile(text, &err);
    EXPECT_FALSE(pack.has_value());
    return err.message();
}

Profile with_cart(Profile p) {
    p.cart = {{"COFFEE-1KG", 1, kNow - 3600, 1500}};
    p.last_order_at = kNow - 20 * kDay;
    p.purchases.clear();
    return p;
}

bool ends_with(std::string_view s, std::string_view tail) {
    return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

std::string_view directives_json(const Decision& d) {
    std::string_view html = d.directives_html();
    size_t start = html.find('>');
    size_t end = html.find("</script>");
    if (start == std::string_view::npos || end == std::string_view::npos) {
        return {};
    }
    return html.substr(start + 1, end - start - 1);
}

const RuleTraceEntry* traced(const RuleTrace& trace, std::string_view id) {
    for (const auto& e : trace.entries) {
        if (e.rule == id) {
            return &e;
        }
    }
    return nullptr;
}

TEST(PopupKit, MisuseIsReportedAtTheLine) {
    EXPECT_EQ(compile_error("local t = require \"tailor\"\n"
                            "t.popup \"a\" { intent = \"cart\", html = \"x\" }\n"),
              "pack.lua:2: popup \"a\": option 'trigger' is required (t.exit_intent(), "
              "t.linger(s), t.idle(s), t.scroll_depth(pct), t.repeat_visit{...})");
    EXPECT_NE(
        compile_error("local t = require \"tailor\"\n\n"
                      "t.popup \"a\" { trigger = \"exit\", intent = \"cart\", html = \"x\" }\n")
            .find("pack.lua:3: popup \"a\": 'trigger' must be"),
        std::string::npos);
    EXPECT_NE(compile_error("local t = require \"tailor\"\n"
                            "t.popup \"a\" { trigger = t.exit_intent(), intent = \"checkout\", "
                            "html = \"x\" }\n")
                  .find("pack.lua:2: popup \"a\": intent must be cart, product or browse"),
              std::string::npos);
    EXPECT_NE(compile_error("local t = require \"tailor\"\n"
                            "t.popup \"a\" { trigger = t.exit_intent(), intent = \"cart\", "
                            "html = \"x\", wen = 1 }\n")
                  .find("pack.lua:2: popup \"a\": unknown option 'wen'"),
              std::string::npos);
    EXPECT_NE(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.linger(0), intent = \"cart\", html = \"x\" }\n")
            .find("pack.lua:2: t.linger: seconds must be a whole number in 1..3600"),
        std::string::npos);
    EXPECT_NE(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\",\n"
                      "  caps = { per_day = 1.5 } }\n")
            .find("pack.lua:2: popup \"a\": caps.per_day must be a whole number"),
        std::string::npos);
    EXPECT_NE(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\",\n"
                      "  caps = { per_week = 1 } }\n")
            .find("popup \"a\" caps: unknown option 'per_week'"),
        std::string::npos);
    EXPECT_NE(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\",\n"
                      "  exclude = { open_return = 1 } }\n")
            .find("exclude.open_return must be true or false"),
        std::string::npos);
    EXPECT_NE(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\" }\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\" }\n")
            .find("pack.lua:3: popup \"a\": defined twice"),
        std::string::npos);
    EXPECT_NE(compile_error("local t = require \"tailor\"\n"
                            "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", "
                            "html = \"{{#x}}\" }\n")
                  .find("pack.lua:2: popup \"a\": html line 1"),
              std::string::npos);
    EXPECT_NE(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.repeat_visit { n = 1 }, intent = \"browse\", "
                      "html = \"x\" }\n")
            .find("pack.lua:2: t.repeat_visit: n must be a whole number in 2..1000"),
        std::string::npos);
    EXPECT_NE(compile_error("local t = require \"tailor\"\n"
                            "t.config { popups = { utc_offset_minutes = 900 } }\n")
                  .find("pack.lua:2: t.config popups: 'utc_offset_minutes'"),
              std::string::npos);
}

TEST(PopupKit, PopupsCannotBeDeclaredFromARule) {
    auto rt = runtime(R"(local t = require "tailor"
t.slot "hero" { t.rule "r" { when = function(v) t.popup "x" { } return true end, html = "x" } })");
    ASSERT_NE(rt, nullptr);
    auto r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("hero"), "<default>");
    EXPECT_TRUE(r.decision.directives_html().empty());
}

TEST(PopupKit, TheChosenPopupIsWrittenAsTheDirectivesContract) {
    auto rt = runtime(kTwoPopups);
    ASSERT_NE(rt, nullptr);
    Profile p = with_cart(typical_profile());
    p.first_name = "</script><b>";
    auto r = evaluate(*rt, p);
    ASSERT_TRUE(r.summary.ok) << r.summary.error;
    // cart beats browse although "news" has the higher priority; the news
    // pop-up is also in a lower-intent flow than the cart
    EXPECT_EQ(directives_json(r.decision),
              R"({"v":1,"popups":[{"id":"cart-rescue","trigger":{"type":"exit_intent"},)"
              R"("html":"\u003cp\u003eHi \u0026lt;/script\u0026gt;\u0026lt;b\u0026gt;, your )"
              R"(cart\u003c/p\u003e","intent":"cart"}],"beacon":"/tailor/beacon"})");
    EXPECT_EQ(r.decision.variable("popup").value_or(""), "cart-rescue");
    ASSERT_EQ(r.decision.exposures().size(), 1u);
    EXPECT_EQ(r.decision.exposures()[0].rule_id, "cart-rescue");
    EXPECT_EQ(r.decision.exposures()[0].experiment, "popup");
    EXPECT_EQ(r.decision.exposures()[0].variant, "offered");
    EXPECT_TRUE(r.decision.changes_page());
    const RuleTraceEntry* news = traced(r.trace, "news");
    ASSERT_NE(news, nullptr);
    EXPECT_EQ(news->outcome, RuleOutcome::kExcluded);
    EXPECT_EQ(news->detail, "higher-intent-flow");
    EXPECT_EQ(news->slot, "(popups)");
}

TEST(PopupKit, TheRuntimeTagFollowsTheDirectivesAtTheConfiguredPaths) {
    auto rt = runtime(kTwoPopups);
    ASSERT_NE(rt, nullptr);
    const std::string version(popup_runtime_version());
    ASSERT_EQ(version.size(), 12u);

    Decision d;
    PopupCaps caps;
    ASSERT_TRUE(rt->evaluate(typical_profile(), facts(), &caps, &d).ok);
    EXPECT_TRUE(ends_with(d.directives_html(), "</script><script src=\"/tailor/popups.js?v=" +
                                                   version + "\" defer></script>"))
        << d.directives_html();

    RequestFacts f = facts();
    f.popup_runtime_path = "/assets/t.js?shop=1&x=\"";
    f.popup_beacon_path = "/b</script>";
    Decision moved;
    ASSERT_TRUE(rt->evaluate(typical_profile(), f, &caps, &moved).ok);
    EXPECT_TRUE(ends_with(
        moved.directives_html(),
        "<script src=\"/assets/t.js?shop=1&amp;x=&quot;&amp;v=" + version + "\" defer></script>"))
        << moved.directives_html();
    EXPECT_NE(directives_json(moved).find(R"("beacon":"/b\u003c/script\u003e")"),
              std::string_view::npos)
        << directives_json(moved);
}

TEST(PopupKit, WithoutTraceTheSameDecisionIsMade) {
    auto rt = runtime(kTwoPopups);
    ASSERT_NE(rt, nullptr);
    Decision d;
    PopupCaps caps;
    auto s = rt->evaluate(typical_profile(), facts(), &caps, &d);
    ASSERT_TRUE(s.ok);
    EXPECT_NE(d.directives_html().find(R"("id":"news","trigger":{"type":"linger","seconds":20})"),
              std::string_view::npos);
}

TEST(PopupKit, CapsDecideAndUnreadableCapsShowNothing) {
    auto rt = runtime(kTwoPopups);
    ASSERT_NE(rt, nullptr);
    Profile p = with_cart(typical_profile());
    PopupCaps caps;
    PopupCapsEntry closed;
    closed.id = "cart-rescue";
    closed.closed_at = kNow - 3600;
    caps.entries.push_back(closed);
    Decision d;
    RuleTrace trace;
    ASSERT_TRUE(rt->evaluate(p, facts(), &caps, &d, &trace).ok);
    EXPECT_TRUE(d.directives_html().empty());
    ASSERT_NE(traced(trace, "cart-rescue"), nullptr);
    EXPECT_EQ(traced(trace, "cart-rescue")->outcome, RuleOutcome::kCapped);
    EXPECT_EQ(traced(trace, "cart-rescue")->detail, "cooldown");

    Decision d2;
    RuleTrace trace2;
    ASSERT_TRUE(rt->evaluate(p, facts(), nullptr, &d2, &trace2).ok);
    EXPECT_TRUE(d2.directives_html().empty());
    EXPECT_EQ(traced(trace2, "cart-rescue")->detail, "caps-unreadable");
}

TEST(PopupKit, AFailingPopupTestShowsNoPopupAtAll) {
    auto rt = runtime(R"(local t = require "tailor"
t.popup "cart" { trigger = t.exit_intent(), intent = "cart",
  when = function(v) error("boom") end, html = "c" }
t.popup "browse" { trigger = t.idle(5), intent = "browse", html = "b",
  exclude = { higher_intent_flow = false } }
)");
    ASSERT_NE(rt, nullptr);
    for (bool tracing : {false, true}) {
        Decision d;
        RuleTrace trace;
        PopupCaps caps;
        auto s = rt->evaluate(typical_profile(), facts(), &caps, &d, tracing ? &trace : nullptr);
        EXPECT_TRUE(s.ok);
        EXPECT_EQ(s.failures, 1u);
        EXPECT_TRUE(d.directives_html().empty()) << tracing;
    }
    EXPECT_EQ(rt->rule_stats()[0].errors, 2u);
}

TEST(PopupKit, RepeatVisitIsDecidedOnTheServer) {
    auto rt = runtime(R"(local t = require "tailor"
t.popup "back" { trigger = t.repeat_visit { n = 3, within_days = 7 }, intent = "browse",
  html = "welcome back" })");
    ASSERT_NE(rt, nullptr);
    Profile p;
    p.first_seen = kNow - 6 * kDay;
    p.visits = 2;
    EXPECT_TRUE(evaluate(*rt, p).decision.directives_html().empty());
    p.visits = 3;
    EXPECT_NE(evaluate(*rt, p).decision.directives_html().find(
                  R"("trigger":{"type":"repeat_visit","n":3,"within_days":7})"),
              std::string_view::npos);
    p.first_seen = kNow - 8 * kDay;  // the visits may be older than the window
    EXPECT_TRUE(evaluate(*rt, p).decision.directives_html().empty());
}

TEST(PopupKit, TimeZoneConfigMovesTheDay) {
    // shown at kNow - 12.5 h, 23:30 UTC the day before kNow (12:00 UTC): a
    // new day in UTC, but at UTC+1 both are the same day (00:30 and 13:00)
    const char* pack = R"(local t = require "tailor"
t.config { popups = { utc_offset_minutes = %d } }
t.popup "p" { trigger = t.idle(5), intent = "browse", html = "x" })";
    for (int offset : {0, 60}) {
        char text[256];
        std::snprintf(text, sizeof(text), pack, offset);
        auto rt = runtime(text);
        ASSERT_NE(rt, nullptr);
        PopupCaps caps;
        PopupCapsEntry e;
        e.id = "p";
        e.impressions[0] = kNow - 12 * 3600 - 1800;
        e.impression_count = 1;
        caps.entries.push_back(e);
        Decision d;
        ASSERT_TRUE(rt->evaluate(Profile(), facts(), &caps, &d).ok);
        EXPECT_EQ(d.directives_html().empty(), offset == 60) << offset;
    }
}

TEST(PopupKit, EmailCampaignVisitorsAreExcluded) {
    auto rt = runtime(kTwoPopups);
    ASSERT_NE(rt, nullptr);
    RequestFacts f = facts();
    f.query = "utm_source=klaviyo&utm_medium=email";
    auto r = evaluate(*rt, typical_profile(), f);
    EXPECT_TRUE(r.decision.directives_html().empty());
    EXPECT_EQ(traced(r.trace, "news")->detail, "email-campaign");
}

TEST(PopupKit, PopupsAndSlotsLiveSideBySide) {
    auto rt = runtime(R"(local t = require "tailor"
t.slot "hero" { t.rule "hi" { html = "hello" } }
t.popup "p" { trigger = t.scroll_depth(50), intent = "product", html = "x" })");
    ASSERT_NE(rt, nullptr);
    auto r = evaluate(*rt, typical_profile());
    EXPECT_EQ(r.slot("hero"), "hello");
    EXPECT_NE(r.decision.directives_html().find(R"({"type":"scroll_depth","percent":50})"),
              std::string_view::npos);
    EXPECT_EQ(rt->rule_stats()[1].info.kind, "popup");
    EXPECT_EQ(rt->rule_stats()[1].wins, 1u);
}

TEST(PopupKit, EngineReadsCapsFromTheStoredVisitor) {
    RulePackOptions options;
    options.kit_path = kit_path();
    options.limits = untimed();  // a loaded machine is not a slow rule
    RulesError error;
    auto pack = compile_rule_pack({{"pack.lua", std::string(R"(local t = require "tailor"
t.popup "p" { trigger = t.exit_intent(), intent = "browse", html = "x" })")}},
                                  options, &error);
    ASSERT_TRUE(pack) << error.message();
    Engine engine(EngineOptions{}, std::move(pack));
    ASSERT_TRUE(engine.start_worker(&error)) << error.message();
    RequestFacts f = facts();

    Personalization none;
    (void)engine.decide(nullptr, f, none);
    EXPECT_NE(none.decision().directives_html().find("\"id\":\"p\""), std::string_view::npos);

    // {"p":{"p":{"close":kNow - 60}}}: cooling down
    StoredVisitor stored;
    stored.caps.present = true;
    stored.caps.bytes = std::string(
        "\x81\xa1p\x81\xa1p\x81\xa5"
        "close\xce",
        14);
    const auto at = static_cast<uint32_t>(kNow - 60);
    for (int shift = 24; shift >= 0; shift -= 8) {
        stored.caps.bytes.push_back(static_cast<char>((at >> shift) & 0xff));
    }
    ASSERT_EQ(decode_popup_caps(stored.caps.bytes).caps.entries.size(), 1u);
    Personalization capped;
    (void)engine.decide(&stored, f, capped);
    EXPECT_TRUE(capped.decision().directives_html().empty());

    stored.caps.bytes = "\x91";  // refused: no pop-up, the page still served
    Personalization refused;
    EXPECT_EQ(engine.decide(&stored, f, refused), Outcome::kMiss);
    EXPECT_TRUE(refused.decision().directives_html().empty());
}

TEST(PopupKit, ExamplePackCompiles) {
    RulesError err;
    auto pack = compile_rule_pack_files(
        {std::string(TAILOR_SOURCE_DIR) + "/lua/examples/popups.lua"}, options(), &err);
    ASSERT_TRUE(pack.has_value()) << err.message();
    EXPECT_EQ(pack->rules.size(), 4u);
    EXPECT_NE(RuleRuntime::create(*pack, &err), nullptr) << err.message();
}

}  // namespace
}  // namespace tailor
