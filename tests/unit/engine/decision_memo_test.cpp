// DecisionMemo through the Engine: a reused decision is the decision a fresh run makes.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tailor/engine/decision_memo.h"
#include "tailor/engine/engine.h"
#include "tailor/rules/compile.h"
#include "tailor/rules/runtime.h"

namespace {

using tailor::Decision;
using tailor::Engine;
using tailor::EngineOptions;
using tailor::Personalization;
using tailor::RequestFacts;

constexpr int64_t kNow = 1763700000;

std::optional<tailor::RulePack> pack(const std::string& text) {
    tailor::RulePackOptions options;
    // No wall-clock deadline (5 ms by default): on a loaded machine a
    // preempted evaluation is cut for time, and a failed evaluation is
    // rightly never memoized. What is tested here is the memo, not the clock.
    options.limits.evaluation_micros = 0;
    tailor::RulesError error;
    auto p = tailor::compile_rule_pack({{"pack.lua", text}}, options, &error);
    EXPECT_TRUE(p) << error.message();
    return p;
}

std::unique_ptr<Engine> engine(const std::string& text, size_t memo_entries) {
    EngineOptions o;
    o.memo_entries = memo_entries;
    auto e = std::make_unique<Engine>(o, pack(text));
    tailor::RulesError error;
    EXPECT_TRUE(e->start_worker(&error)) << error.message();
    return e;
}

RequestFacts facts(std::string_view path, std::string_view vid = "vid-1") {
    RequestFacts f;
    f.visitor_id = vid;
    f.now = kNow;
    f.path = path;
    f.device_class = "desktop";
    f.referrer_source = "direct";
    return f;
}

// Everything a decision holds, for comparing two of them.
std::string dump(const Decision& d) {
    std::string s;
    for (const auto& f : d.fills()) {
        s += "slot " + std::string(f.name) + "=" + std::string(f.html) + "\n";
    }
    for (const auto& [k, v] : d.variables()) {
        s += "var " + k + "=" + v + "\n";
    }
    for (const auto& e : d.exposures()) {
        s += "exposure " + e.rule_id + " " + e.experiment + " " + e.variant + "\n";
    }
    s += "directives " + std::string(d.directives_html()) + "\n";
    return s;
}

struct Decided {
    std::string decision;
    bool hit = false;
    size_t failed = 0;
};

Decided decide(Engine& e, const RequestFacts& f, const tailor::StoredVisitor* stored = nullptr) {
    Personalization p;
    (void)e.decide(stored, f, p);
    return {dump(p.decision()), p.memo_hit(), p.failed_rules()};
}

constexpr const char* kPathPack = R"(
local t = require "tailor"
t.slot "hero" {
  t.rule "products" { when = t.path "^/products/", html = [[<p>Free returns</p>]] },
  t.rule "mobile"   { when = t.device "mobile", html = [[<p>Get the app</p>]] },
  t.rule "new"      { when = t.lifecycle "new_visitor", html = [[<p>Welcome, {{first_name|friend}}</p>]] },
}
t.popup "hello" { trigger = t.exit_intent(), intent = "browse", html = [[<p>10% off</p>]] }
)";

}  // namespace

TEST(DecisionMemo, AHitGivesTheSameDecisionAsAFreshRun) {
    auto memo = engine(kPathPack, 16);
    auto fresh = engine(kPathPack, 0);
    Decided first = decide(*memo, facts("/products/mug"));
    Decided second = decide(*memo, facts("/products/mug"));
    Decided reference = decide(*fresh, facts("/products/mug"));
    EXPECT_FALSE(first.hit);
    EXPECT_TRUE(second.hit);
    EXPECT_FALSE(reference.hit);
    EXPECT_EQ(second.decision, reference.decision);
    EXPECT_EQ(first.decision, reference.decision);
    EXPECT_NE(reference.decision.find("Free returns"), std::string::npos) << reference.decision;
    EXPECT_NE(reference.decision.find("tailor-directives"), std::string::npos);
    EXPECT_EQ(memo->memo_hits(), 1u);
    EXPECT_EQ(memo->memo_misses(), 1u);
}

TEST(DecisionMemo, DifferentFactsMiss) {
    auto memo = engine(kPathPack, 16);
    auto fresh = engine(kPathPack, 0);
    (void)decide(*memo, facts("/products/mug"));
    Decided home = decide(*memo, facts("/"));
    EXPECT_FALSE(home.hit);
    EXPECT_EQ(home.decision, decide(*fresh, facts("/")).decision);
    EXPECT_EQ(home.decision.find("Free returns"), std::string::npos);

    RequestFacts mobile = facts("/");
    mobile.device_class = "mobile";
    Decided m = decide(*memo, mobile);
    EXPECT_FALSE(m.hit);
    EXPECT_NE(m.decision.find("Get the app"), std::string::npos);

    RequestFacts query = facts("/");
    query.query = "utm_source=x";
    EXPECT_FALSE(decide(*memo, query).hit);
    RequestFacts logged_in = facts("/");
    logged_in.logged_in = true;
    EXPECT_FALSE(decide(*memo, logged_in).hit);
    RequestFacts beacon = facts("/");
    beacon.popup_beacon_path = "/other-beacon";
    Decided b = decide(*memo, beacon);
    EXPECT_FALSE(b.hit);
    EXPECT_NE(b.decision.find("/other-beacon"), std::string::npos);
    const tailor::RequestCookie cookie{"ab", "on"};
    RequestFacts with_cookie = facts("/");
    with_cookie.cookies = &cookie;
    with_cookie.cookie_count = 1;
    EXPECT_FALSE(decide(*memo, with_cookie).hit);
    EXPECT_TRUE(decide(*memo, with_cookie).hit);
}

TEST(DecisionMemo, APackReloadStartsAfresh) {
    auto before = engine(kPathPack, 16);
    (void)decide(*before, facts("/products/mug"));
    ASSERT_TRUE(decide(*before, facts("/products/mug")).hit);
    // nginx -s reload: a new Engine with the new pack, in every worker
    std::string edited = kPathPack;
    edited.replace(edited.find("Free returns"), 12, "Free shipping");
    auto after = engine(edited, 16);
    Decided r = decide(*after, facts("/products/mug"));
    EXPECT_FALSE(r.hit);
    EXPECT_NE(r.decision.find("Free shipping"), std::string::npos) << r.decision;

    // and a key never matches across packs
    tailor::DecisionMemo one(16, 1), two(16, 2);
    std::string k1, k2;
    ASSERT_TRUE(one.key(facts("/"), &k1));
    ASSERT_TRUE(two.key(facts("/"), &k2));
    EXPECT_NE(k1, k2);
}

TEST(DecisionMemo, ExperimentDrawsByVisitorIdAreNeverMixedUp) {
    constexpr const char* kExperimentPack = R"(
local t = require "tailor"
t.experiment "hero-copy" { variants = { a = 50, b = 50 }, holdout = 20 }
t.slot "hero" {
  t.rule "a" { experiment = "hero-copy", variant = "a", html = [[<p>A</p>]] },
  t.rule "b" { experiment = "hero-copy", variant = "b", html = [[<p>B</p>]] },
}
t.slot "note" { t.rule "v" { html = [[{{variant}}]],
  vars = function(v) return { variant = t.variant(v, "hero-copy") } end } }
)";
    auto memo = engine(kExperimentPack, 64);
    auto fresh = engine(kExperimentPack, 0);
    size_t hits = 0;
    std::vector<std::string> seen;
    for (int i = 0; i < 60; ++i) {
        std::string vid = "visitor-" + std::to_string(i);
        Decided m = decide(*memo, facts("/", vid));
        Decided r = decide(*fresh, facts("/", vid));
        EXPECT_EQ(m.decision, r.decision) << vid;
        hits += m.hit ? 1 : 0;
        if (std::find(seen.begin(), seen.end(), r.decision) == seen.end()) {
            seen.push_back(r.decision);
        }
    }
    EXPECT_EQ(seen.size(), 3u);  // a, b and holdout all came up
    EXPECT_GE(hits, 50u);        // one miss per variant and a few more at most
}

TEST(DecisionMemo, ADecisionThatReadTheClockIsReusedWithinItsSecondOnly) {
    constexpr const char* kClockPack = R"(
local t = require "tailor"
t.slot "hero" { t.rule "even" { when = function(v) return v.now % 2 == 0 end, html = [[even]] } }
)";
    auto memo = engine(kClockPack, 16);
    RequestFacts even = facts("/");
    RequestFacts odd = facts("/");
    odd.now = kNow + 1;
    EXPECT_NE(decide(*memo, even).decision.find("even"), std::string::npos);
    EXPECT_TRUE(decide(*memo, even).hit);
    Decided later = decide(*memo, odd);
    EXPECT_FALSE(later.hit);
    EXPECT_EQ(later.decision.find("slot hero"), std::string::npos) << later.decision;

    // a pack that never reads it is reused across seconds
    auto steady = engine(kPathPack, 16);
    (void)decide(*steady, even);
    EXPECT_TRUE(decide(*steady, odd).hit);
}

TEST(DecisionMemo, AnEmptyProfileDependsOnTheClockOnlyThroughNow) {
    // every helper and field the kit offers, over the visitor with nothing
    // stored, a year apart: the same decision, and the runtime says no
    // clock was read. If a new field or native measures against now for
    // an empty profile, this fails before the memo serves stale pages.
    constexpr const char* kEverything = R"(
local t = require "tailor"
t.experiment "e" { variants = { a = 1 } }
t.slot "s" {
  t.rule "all" { html = [[{{first_name|x}} {{days_since_last_order|-}} {{cart_count}} {{tier|-}}]],
    when = function(v)
      local _ = v.first_name, v.known, v.logged_in, v.currency, v.visits, v.first_seen,
        v.last_seen, v.orders_count, v.last_order_at, v.total_spent, v.days_since_last_order,
        v.days_since_first_seen, v.hours_since_last_purchase, v.cart_count, v.cart_value,
        v.top_category, v.points, v.tier, v.loyalty, v.flags, v.consent, v.request,
        v.acquisition, v.purchases, v.viewed, v.cart, v.affinities, v.affinity,
        v.attributes, v.consumables, v.purchased, v.in_cart, v.purchase_skus, v.viewed_skus
      return t.stage(v) ~= nil and not t.suppressed(v) and #v.consumables == 0
        and (v.loyalty.days_to_points_expiry == nil)
    end },
}
t.slot "r" { t.reorder_prompt { html = [[{{sku}}]] } }
t.slot "w" { t.reward_reminder { min_points = 0, html = [[{{points}}]] } }
t.slot "c" { t.recommendations { sources = { "viewed", "replenish" }, html = [[{{{items}}}]],
                                item_html = [[{{sku}}]], min_items = 0 } }
t.popup "p" { trigger = t.exit_intent(), intent = "cart", html = [[x]],
              caps = { per_day = 1, cooldown_hours = 24 }, exclude = { recent_purchase_hours = 48 } }
t.popup "q" { trigger = t.repeat_visit { n = 2 }, intent = "browse", html = [[y]] }
)";
    auto p = pack(kEverything);
    ASSERT_TRUE(p);
    tailor::RulesError error;
    auto rt = tailor::RuleRuntime::create(*p, &error);
    ASSERT_TRUE(rt) << error.message();
    tailor::Profile nobody;
    tailor::PopupCaps none;
    RequestFacts now = facts("/");
    RequestFacts year_later = facts("/");
    year_later.now = kNow + 365 * 86400 + 7;
    Decision a, b;
    tailor::EvalSummary sa = rt->evaluate(nobody, now, &none, &a);
    tailor::EvalSummary sb = rt->evaluate(nobody, year_later, &none, &b);
    EXPECT_TRUE(sa.ok) << sa.error;
    EXPECT_EQ(sa.failures, 0u);
    EXPECT_FALSE(sa.read_clock);
    EXPECT_FALSE(sb.read_clock);
    EXPECT_EQ(dump(a), dump(b));
    EXPECT_TRUE(a.slot("s").has_value());
}

TEST(DecisionMemo, FailedEvaluationsAreNotKept) {
    auto memo = engine(R"(
local t = require "tailor"
t.slot "hero" { t.rule "broken" { when = function(v) error("boom") end, html = [[x]] } }
)",
                       16);
    Decided first = decide(*memo, facts("/"));
    Decided second = decide(*memo, facts("/"));
    EXPECT_EQ(first.failed, 1u);
    EXPECT_FALSE(second.hit);
    EXPECT_EQ(second.failed, 1u);
}

TEST(DecisionMemo, RuleCountersCountEveryPageAHitDecided) {
    auto memo = engine(kPathPack, 16);
    auto fresh = engine(kPathPack, 0);
    for (int i = 0; i < 3; ++i) {
        (void)decide(*memo, facts("/products/mug"));
        (void)decide(*fresh, facts("/products/mug"));
    }
    const auto& m = memo->runtime()->rule_stats();
    const auto& f = fresh->runtime()->rule_stats();
    ASSERT_EQ(m.size(), f.size());
    for (size_t i = 0; i < m.size(); ++i) {
        EXPECT_EQ(m[i].evaluations, f[i].evaluations) << m[i].info.id;
        EXPECT_EQ(m[i].matches, f[i].matches) << m[i].info.id;
        EXPECT_EQ(m[i].wins, f[i].wins) << m[i].info.id;
    }
    EXPECT_EQ(m[0].wins, 3u);
}

TEST(DecisionMemo, EntriesAreBounded) {
    auto memo = engine(kPathPack, 4);
    for (int i = 0; i < 20; ++i) {
        (void)decide(*memo, facts("/p/" + std::to_string(i)));
    }
    // the four most recent are kept, the rest went
    EXPECT_TRUE(decide(*memo, facts("/p/19")).hit);
    EXPECT_FALSE(decide(*memo, facts("/p/0")).hit);
    tailor::DecisionMemo bounded(4, 1);
    tailor::EvalSummary clean;
    Decision d;
    for (int i = 0; i < 10; ++i) {
        std::string k;
        ASSERT_TRUE(bounded.key(facts("/q/" + std::to_string(i)), &k));
        EXPECT_TRUE(bounded.insert(std::move(k), kNow, clean, {}, d, {}));
        EXPECT_LE(bounded.size(), 4u);
    }
    std::string huge(tailor::DecisionMemo::kMaxKeyBytes, 'x');
    std::string k;
    EXPECT_FALSE(bounded.key(facts(huge), &k));
}

TEST(DecisionMemo, VisitorsWithAStoredProfileAlwaysRunTheRules) {
    auto memo = engine(kPathPack, 16);
    tailor::StoredVisitor stored;
    stored.live.present = true;                  // anything stored: not a visitor with nothing
    stored.live.bytes = std::string("\x80", 1);  // an empty MessagePack map
    (void)decide(*memo, facts("/"), &stored);
    Decided again = decide(*memo, facts("/"), &stored);
    EXPECT_FALSE(again.hit);
    EXPECT_EQ(memo->memo_hits(), 0u);
    // nothing stored at all is the same as no cookie
    tailor::StoredVisitor empty;
    (void)decide(*memo, facts("/"), &empty);
    EXPECT_TRUE(decide(*memo, facts("/"), nullptr).hit);
}
