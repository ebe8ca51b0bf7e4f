// Pop-ups as experiment variants: declaring them, the sticky split, "no pop-up" as a
// control and the holdout, and when a visitor counts as exposed (caps do not decide it;
// exclusions and a pop-up that outranks the experiment's do).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "rules/test_support.h"
#include "tailor/decision/experiment.h"
#include "tailor/popup/caps.h"

namespace tailor {
namespace {

using namespace rules_test;

// Half the visitors get the exit offer, the other half nothing; 10 % held out.
constexpr const char* kExitOffer = R"(local t = require "tailor"
t.experiment "exit-offer" { variants = { control = 50, offer = 50 }, holdout = 10 }
t.popup "exit-discount" { trigger = t.exit_intent(), intent = "product",
  experiment = "exit-offer", variant = "offer",
  html = [[<p>10 % off, {{first_name|friend}}</p>]] }
)";

std::string compile_error(std::string_view text) {
    RulesError err;
    auto pack = compile(text, &err);
    EXPECT_FALSE(pack.has_value());
    return err.message();
}

RequestFacts facts_for(std::string_view vid) {
    RequestFacts f = facts();
    f.visitor_id = vid;
    return f;
}

// A visitor who may see any pop-up: no cart, no recent purchase.
Profile browsing() {
    Profile p = typical_profile();
    p.cart.clear();
    return p;
}

struct Outcome {
    std::string popup;  // the offered pop-up, empty for none
    std::string variant;
    std::string rule;  // the exposure's rule; variant and rule empty when not exposed
    RuleTrace trace;
};

Outcome run(RuleRuntime& rt, const Profile& p, std::string_view vid, const PopupCaps* caps,
            std::string_view experiment = "exit-offer", std::string_view query = {}) {
    Outcome o;
    Decision d;
    RequestFacts f = facts_for(vid);
    f.query = query;
    EXPECT_TRUE(rt.evaluate(p, f, caps, &d, &o.trace).ok);
    o.popup = std::string(d.variable("popup").value_or(""));
    for (const Exposure& x : d.exposures()) {
        if (x.experiment == experiment) {
            EXPECT_TRUE(o.variant.empty()) << "one exposure per experiment and page view";
            o.variant = x.variant;
            o.rule = x.rule_id;
        }
    }
    return o;
}

const RuleTraceEntry* traced(const RuleTrace& trace, std::string_view id) {
    for (const auto& e : trace.entries) {
        if (e.rule == id) {
            return &e;
        }
    }
    return nullptr;
}

std::string vid_in(const RuleRuntime& rt, std::string_view variant) {
    const Experiment& e = rt.experiments().at(0);
    for (int i = 0; i < 1000; ++i) {
        std::string vid = "visitor-" + std::to_string(i);
        if (e.assign(vid).variant == variant) {
            return vid;
        }
    }
    ADD_FAILURE() << "no visitor in " << variant;
    return {};
}

TEST(PopupExperiment, DeclarationErrorsNameThePopupsLine) {
    EXPECT_EQ(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\",\n"
                      "  experiment = \"nope\", variant = \"b\" }\n"),
        "pack.lua:2: popup \"a\": unknown experiment \"nope\"");
    EXPECT_EQ(
        compile_error("local t = require \"tailor\"\n"
                      "t.experiment \"e\" { variants = { control = 1, b = 1 } }\n"
                      "\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\",\n"
                      "  experiment = \"e\", variant = \"c\" }\n"),
        "pack.lua:4: popup \"a\": experiment \"e\" has no variant \"c\"");
    EXPECT_EQ(
        compile_error("local t = require \"tailor\"\n"
                      "t.experiment \"e\" { variants = { control = 1, b = 1 } }\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\",\n"
                      "  experiment = \"e\" }\n"),
        "pack.lua:3: popup \"a\": 'experiment' and 'variant' go together");
    EXPECT_EQ(
        compile_error("local t = require \"tailor\"\n"
                      "t.popup \"a\" { trigger = t.idle(5), intent = \"cart\", html = \"x\",\n"
                      "  experiment = \"e\", variant = 2 }\n"),
        "pack.lua:2: popup \"a\": option 'variant' must be a string, got number");
    EXPECT_EQ(compile_error("local t = require \"tailor\"\n"
                            "t.experiment \"popup\" { variants = { a = 1 } }\n"),
              "pack.lua:2: experiment \"popup\": the name is reserved for pop-up offers; pick "
              "another");
}

TEST(PopupExperiment, ThePackDeclaresEveryVariantIncludingTheControlWithoutAPopup) {
    RulesError err;
    auto pack = compile(kExitOffer, &err);
    ASSERT_TRUE(pack.has_value()) << err.message();
    ASSERT_EQ(pack->declared_experiments.size(), 1u);
    const ExperimentSpec& e = pack->declared_experiments[0];
    EXPECT_EQ(e.name, "exit-offer");
    EXPECT_EQ(e.holdout_percent, 10u);
    ASSERT_EQ(e.variants.size(), 2u);
    EXPECT_EQ(e.variants[0].name, "control");
    EXPECT_EQ(e.variants[1].name, "offer");
    EXPECT_EQ(pack->experiments, std::vector<std::string>{"exit-offer"});
    for (const RuleInfo& r : pack->rules) {
        if (r.id == "exit-discount") {
            EXPECT_EQ(r.kind, "popup");
            EXPECT_EQ(r.experiment, "exit-offer");
            EXPECT_EQ(r.variant, "offer");
        }
    }
}

TEST(PopupExperiment, VisitorsSplitByCoresBucketingAndOnlyTheOfferArmSeesThePopup) {
    auto rt = runtime(kExitOffer);
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    const Experiment& e = rt->experiments().at(0);
    std::map<std::string, int> exposed;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
        std::string vid = "split-" + std::to_string(i);
        Outcome o = run(*rt, browsing(), vid, &caps);
        ASSERT_EQ(o.variant, e.assign(vid).variant) << vid;
        EXPECT_EQ(o.rule, "exit-discount");  // control and holdout name the pop-up they miss
        EXPECT_EQ(o.popup, o.variant == "offer" ? "exit-discount" : "") << vid;
        ++exposed[o.variant];
    }
    // 10 % holdout, the rest halved: a deterministic draw, so the counts are exact per
    // vid set; they land near the weights
    EXPECT_NEAR(exposed["holdout"], n * 0.10, n * 0.02);
    EXPECT_NEAR(exposed["control"], n * 0.45, n * 0.03);
    EXPECT_NEAR(exposed["offer"], n * 0.45, n * 0.03);
    EXPECT_EQ(exposed["holdout"] + exposed["control"] + exposed["offer"], n);
}

TEST(PopupExperiment, TheAssignmentIsStickyAcrossPageViewsAndWorkers) {
    auto rt = runtime(kExitOffer);
    auto other_worker = runtime(kExitOffer);
    ASSERT_NE(rt, nullptr);
    ASSERT_NE(other_worker, nullptr);
    PopupCaps caps;
    for (int i = 0; i < 50; ++i) {
        std::string vid = "sticky-" + std::to_string(i);
        Outcome first = run(*rt, browsing(), vid, &caps);
        for (int again = 0; again < 3; ++again) {
            Outcome o = run(again == 1 ? *other_worker : *rt, browsing(), vid, &caps);
            EXPECT_EQ(o.variant, first.variant) << vid;
            EXPECT_EQ(o.popup, first.popup) << vid;
        }
    }
}

TEST(PopupExperiment, SetAsidePopupsAreTracedWithTheVisitorsVariant) {
    auto rt = runtime(kExitOffer);
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    Outcome control = run(*rt, browsing(), vid_in(*rt, "control"), &caps);
    ASSERT_NE(traced(control.trace, "exit-discount"), nullptr);
    EXPECT_EQ(traced(control.trace, "exit-discount")->outcome, RuleOutcome::kOtherVariant);
    EXPECT_EQ(traced(control.trace, "exit-discount")->detail, "control");
    Outcome holdout = run(*rt, browsing(), vid_in(*rt, "holdout"), &caps);
    EXPECT_EQ(traced(holdout.trace, "exit-discount")->outcome, RuleOutcome::kHoldout);
    Outcome offer = run(*rt, browsing(), vid_in(*rt, "offer"), &caps);
    EXPECT_EQ(traced(offer.trace, "exit-discount")->outcome, RuleOutcome::kWon);
}

TEST(PopupExperiment, ACappedPopupLeavesTheVisitorInTheVariantAndExposed) {
    auto rt = runtime(kExitOffer);
    ASSERT_NE(rt, nullptr);
    const std::string vid = vid_in(*rt, "offer");
    PopupCaps caps;
    PopupCapsEntry seen;
    seen.id = "exit-discount";
    seen.impressions[0] = kNow - 600;  // shown ten minutes ago: per_day = 1 reached
    seen.impression_count = 1;
    caps.entries.push_back(seen);
    Outcome o = run(*rt, browsing(), vid, &caps);
    EXPECT_EQ(o.popup, "");
    EXPECT_EQ(o.variant, "offer");
    EXPECT_EQ(o.rule, "exit-discount");
    EXPECT_EQ(traced(o.trace, "exit-discount")->outcome, RuleOutcome::kCapped);
    EXPECT_EQ(traced(o.trace, "exit-discount")->detail, "cap-per-day");
}

TEST(PopupExperiment, ExcludedVisitorsAreExposedInNoVariant) {
    auto rt = runtime(kExitOffer);
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    Profile bought = browsing();
    bought.last_order_at = kNow - 3600;  // within recent_purchase_hours = 24
    for (std::string_view variant : {"offer", "control", "holdout"}) {
        Outcome o = run(*rt, bought, vid_in(*rt, variant), &caps);
        EXPECT_EQ(o.popup, "") << variant;
        EXPECT_EQ(o.variant, "") << variant;
    }
    // from an email: excluded by default too
    Outcome mail =
        run(*rt, browsing(), vid_in(*rt, "control"), &caps, "exit-offer", "utm_medium=email");
    EXPECT_EQ(mail.variant, "");
    // the caps blob was refused: nobody gets a pop-up, nobody is exposed
    Outcome unreadable = run(*rt, browsing(), vid_in(*rt, "control"), nullptr);
    EXPECT_EQ(unreadable.variant, "");
}

TEST(PopupExperiment, APopupThatOutranksTheExperimentsTakesThePageViewForEveryVariant) {
    auto rt = runtime(R"(local t = require "tailor"
t.experiment "exit-offer" { variants = { control = 50, offer = 50 }, holdout = 10 }
t.popup "exit-discount" { trigger = t.exit_intent(), intent = "product",
  experiment = "exit-offer", variant = "offer", html = "10 % off",
  exclude = { higher_intent_flow = false } }
t.popup "cart-rescue" { trigger = t.exit_intent(), intent = "cart", when = t.cart_has_items(),
  html = "cart" }
)");
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    Profile carted = browsing();
    carted.cart = {{"COFFEE-1KG", 1, kNow - 3600, 1500}};
    for (std::string_view variant : {"offer", "control", "holdout"}) {
        Outcome o = run(*rt, carted, vid_in(*rt, variant), &caps);
        EXPECT_EQ(o.popup, "cart-rescue") << variant;
        EXPECT_EQ(o.variant, "") << variant;
    }
    // the cart rescue cooling down: the experiment's pop-up takes the page view again
    PopupCapsEntry closed;
    closed.id = "cart-rescue";
    closed.closed_at = kNow - 60;
    caps.entries.push_back(closed);
    for (std::string_view variant : {"offer", "control", "holdout"}) {
        Outcome o = run(*rt, carted, vid_in(*rt, variant), &caps);
        EXPECT_EQ(o.popup, variant == "offer" ? "exit-discount" : "") << variant;
        EXPECT_EQ(o.variant, variant);
    }
}

TEST(PopupExperiment, WhenTheTargetingSaysNoThereIsNoDrawAndNoExposure) {
    auto rt = runtime(R"(local t = require "tailor"
t.experiment "exit-offer" { variants = { control = 50, offer = 50 } }
t.popup "exit-discount" { trigger = t.exit_intent(), intent = "browse",
  when = t.path "^/products/", experiment = "exit-offer", variant = "offer", html = "x" }
)");
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    Decision d;
    ASSERT_TRUE(rt->evaluate(browsing(), facts(), &caps, &d).ok);
    EXPECT_TRUE(d.exposures().empty());
    EXPECT_FALSE(d.variable("exp_exit-offer").has_value());
    EXPECT_TRUE(rt->draws().empty());

    RequestFacts f = facts();
    f.path = "/products/kettle";
    Decision on_product;
    ASSERT_TRUE(rt->evaluate(browsing(), f, &caps, &on_product).ok);
    ASSERT_EQ(rt->draws().size(), 1u);  // the decision memo keys on it
    EXPECT_TRUE(on_product.variable("exp_exit-offer").has_value());
    EXPECT_EQ(on_product.exposures().size(), on_product.variable("popup") ? 2u : 1u);
}

TEST(PopupExperiment, EachVariantMayHaveItsOwnPopup) {
    auto rt = runtime(R"(local t = require "tailor"
t.experiment "exit-offer" { variants = { control = 1, discount = 1, shipping = 1 } }
t.popup "exit-discount" { trigger = t.exit_intent(), intent = "product",
  experiment = "exit-offer", variant = "discount", html = "10 % off" }
t.popup "exit-shipping" { trigger = t.linger(30), intent = "browse",
  experiment = "exit-offer", variant = "shipping", html = "free shipping",
  exclude = { higher_intent_flow = false } }
)");
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    Outcome discount = run(*rt, browsing(), vid_in(*rt, "discount"), &caps);
    EXPECT_EQ(discount.popup, "exit-discount");
    EXPECT_EQ(discount.rule, "exit-discount");
    Outcome shipping = run(*rt, browsing(), vid_in(*rt, "shipping"), &caps);
    EXPECT_EQ(shipping.popup, "exit-shipping");
    EXPECT_EQ(shipping.variant, "shipping");
    EXPECT_EQ(shipping.rule, "exit-shipping");  // the one shown, not the higher-ranked one
    Outcome control = run(*rt, browsing(), vid_in(*rt, "control"), &caps);
    EXPECT_EQ(control.popup, "");
    EXPECT_EQ(control.variant, "control");
    EXPECT_EQ(control.rule, "exit-discount");  // product outranks browse

    // a shipping visitor whose pop-up is capped is still exposed
    PopupCapsEntry seen;
    seen.id = "exit-shipping";
    seen.converted_at = kNow - kDay;
    caps.entries.push_back(seen);
    Outcome capped = run(*rt, browsing(), vid_in(*rt, "shipping"), &caps);
    EXPECT_EQ(capped.popup, "");
    EXPECT_EQ(capped.variant, "shipping");
}

TEST(PopupExperiment, ARuleAndAPopupOfOneExperimentExposeOnce) {
    auto rt = runtime(R"(local t = require "tailor"
t.experiment "summer" { variants = { control = 1, sale = 1 } }
t.slot "hero" { t.rule "hero-sale" { experiment = "summer", variant = "sale", html = "Sale" } }
t.popup "sale-popup" { trigger = t.idle(10), intent = "browse",
  experiment = "summer", variant = "sale", html = "Sale!" }
)");
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    for (std::string_view variant : {"sale", "control"}) {
        Outcome o = run(*rt, browsing(), vid_in(*rt, variant), &caps, "summer");
        EXPECT_EQ(o.variant, variant);
        EXPECT_EQ(o.rule, "hero-sale");  // the rule reached first
        EXPECT_EQ(o.popup, variant == "sale" ? "sale-popup" : "");
    }
}

TEST(PopupExperiment, WithoutTraceTheSameDecisionAndExposure) {
    auto rt = runtime(kExitOffer);
    ASSERT_NE(rt, nullptr);
    PopupCaps caps;
    for (std::string_view variant : {"offer", "control"}) {
        Decision d;
        ASSERT_TRUE(rt->evaluate(browsing(), facts_for(vid_in(*rt, variant)), &caps, &d).ok);
        bool found = false;
        for (const Exposure& x : d.exposures()) {
            found = found || (x.experiment == "exit-offer" && x.variant == variant);
        }
        EXPECT_TRUE(found) << variant;
        EXPECT_EQ(d.variable("popup").has_value(), variant == "offer");
    }
}

}  // namespace
}  // namespace tailor
