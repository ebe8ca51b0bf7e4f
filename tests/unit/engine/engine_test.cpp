#include <gtest/gtest.h>

#include <msgpack.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tailor/engine/engine.h"
#include "tailor/rules/compile.h"

namespace {

// A profile map {"v": 1, "attrs": {name: value, ...}} in MessagePack.
std::string profile_with_attrs(const std::vector<std::pair<std::string, std::string>>& attrs) {
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_str_with_body(&pk, "attrs", 5);
    msgpack_pack_map(&pk, static_cast<uint32_t>(attrs.size()));
    for (const auto& [k, v] : attrs) {
        msgpack_pack_str_with_body(&pk, k.data(), k.size());
        msgpack_pack_str_with_body(&pk, v.data(), v.size());
    }
    std::string out(buf.data, buf.size);
    msgpack_sbuffer_destroy(&buf);
    return out;
}

tailor::RequestFacts facts() {
    tailor::RequestFacts f;
    f.visitor_id = "vid";
    f.now = 1763700000;
    return f;
}

tailor::StoredVisitor stored_profile(std::string bytes) {
    tailor::StoredVisitor s;
    s.profile.present = true;
    s.profile.bytes = std::move(bytes);
    return s;
}

}  // namespace

TEST(Engine, NothingStoredIsAMissWithDefaultPage) {
    tailor::Engine engine(tailor::EngineOptions{}, std::nullopt);
    tailor::Personalization p;
    EXPECT_EQ(engine.decide(nullptr, facts(), p), tailor::Outcome::kMiss);
    EXPECT_FALSE(p.decision().changes_page());
}

TEST(Engine, SlotAttributeFillsThatSlotEscaped) {
    tailor::Engine engine(tailor::EngineOptions{}, std::nullopt);
    tailor::Personalization p;
    auto stored = stored_profile(profile_with_attrs({{"slot:hero", "Hi <Ada> & co"}}));
    EXPECT_EQ(engine.decide(&stored, facts(), p), tailor::Outcome::kHit);
    ASSERT_TRUE(p.decision().slot("hero"));
    EXPECT_EQ(*p.decision().slot("hero"), "Hi &lt;Ada&gt; &amp; co");
    EXPECT_TRUE(p.decision().changes_page());
}

TEST(Engine, OtherAttributesFillNothingButSegmentIsAVariable) {
    tailor::Engine engine(tailor::EngineOptions{}, std::nullopt);
    tailor::Personalization p;
    auto stored = stored_profile(profile_with_attrs({{"segment", "vip"}, {"slotty", "x"}}));
    EXPECT_EQ(engine.decide(&stored, facts(), p), tailor::Outcome::kHit);
    EXPECT_FALSE(p.decision().changes_page());
    EXPECT_EQ(p.decision().variable("segment").value_or(""), "vip");
}

TEST(Engine, GarbageProfileIsBadProfile) {
    tailor::Engine engine(tailor::EngineOptions{}, std::nullopt);
    tailor::Personalization p;
    auto stored = stored_profile("\xc1garbage");
    EXPECT_EQ(engine.decide(&stored, facts(), p), tailor::Outcome::kBadProfile);
    EXPECT_FALSE(p.decision().changes_page());
}

TEST(Engine, ProfileOverTheOperatorLimitIsBadProfile) {
    tailor::EngineOptions options;
    options.max_profile_bytes = 64;
    tailor::Engine engine(options, std::nullopt);
    tailor::Personalization p;
    auto stored = stored_profile(profile_with_attrs({{"slot:hero", std::string(100, 'x')}}));
    EXPECT_EQ(engine.decide(&stored, facts(), p), tailor::Outcome::kBadProfile);
}

TEST(Engine, RewritesThePageWithTheDecision) {
    tailor::Engine engine(tailor::EngineOptions{}, std::nullopt);
    tailor::Personalization p;
    auto stored = stored_profile(profile_with_attrs({{"slot:hero", "Welcome back"}}));
    ASSERT_EQ(engine.decide(&stored, facts(), p), tailor::Outcome::kHit);

    std::string out;
    auto sink = [](void* data, const char* bytes, size_t n, tailor::PieceOrigin) noexcept {
        static_cast<std::string*>(data)->append(bytes, n);
    };
    p.start_rewrite();
    p.rewrite("<p>a</p><tailor-slot name=\"hero\">Default</tail", sink, &out);
    p.rewrite("or-slot><p>b</p>", sink, &out);
    tailor::RewriteStats stats = p.finish_rewrite(sink, &out);
    EXPECT_EQ(out, "<p>a</p><tailor-slot name=\"hero\">Welcome back</tailor-slot><p>b</p>");
    EXPECT_EQ(stats.slots_filled, 1u);
    EXPECT_EQ(stats.bailouts, 0u);
    EXPECT_FALSE(p.holding());
}

TEST(Engine, RulePackDecidesAndNewVisitorsRunRulesToo) {
    tailor::RulePackOptions options;
    options.limits.evaluation_micros = 0;  // no wall clock: a loaded machine is not a slow rule
    tailor::RulesError error;
    auto pack = tailor::compile_rule_pack(
        {{"pack.lua",
          "local t = require \"tailor\"\n"
          "t.slot \"hero\" { t.rule \"everyone\" { html = [[<b>Hello</b>]] } }\n"}},
        options, &error);
    ASSERT_TRUE(pack) << error.message();
    tailor::Engine engine(tailor::EngineOptions{}, std::move(pack));
    ASSERT_TRUE(engine.start_worker(&error)) << error.message();
    EXPECT_TRUE(engine.has_rules());

    tailor::Personalization p;
    EXPECT_EQ(engine.decide(nullptr, facts(), p), tailor::Outcome::kMiss);
    EXPECT_EQ(p.decision().slot("hero").value_or(""), "<b>Hello</b>");
    EXPECT_EQ(p.failed_rules(), 0u);
}

TEST(Engine, RuleThatErrorsKeepsTheDefaultAndIsCounted) {
    tailor::RulePackOptions options;
    options.limits.evaluation_micros = 0;  // no wall clock: a loaded machine is not a slow rule
    tailor::RulesError error;
    auto pack = tailor::compile_rule_pack(
        {{"pack.lua",
          "local t = require \"tailor\"\n"
          "t.slot \"hero\" { t.rule \"broken\" { when = function(v) error(\"boom\") "
          "end, html = [[x]] } }\n"}},
        options, &error);
    ASSERT_TRUE(pack) << error.message();
    tailor::Engine engine(tailor::EngineOptions{}, std::move(pack));
    ASSERT_TRUE(engine.start_worker(&error)) << error.message();

    tailor::Personalization p;
    auto stored = stored_profile(profile_with_attrs({}));
    EXPECT_EQ(engine.decide(&stored, facts(), p), tailor::Outcome::kHit);
    EXPECT_FALSE(p.decision().changes_page());
    EXPECT_EQ(p.failed_rules(), 1u);
}
