// Decision: slot fills and their views, directives, variables, exposures, value semantics.
#include "tailor/decision/decision.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(Decision, EmptyDecisionDoesNotChangeThePage) {
    Decision d;
    EXPECT_FALSE(d.changes_page());
    EXPECT_TRUE(d.fills().empty());
    EXPECT_TRUE(d.directives_html().empty());
}

TEST(Decision, FillsViewTheSlotsInOrder) {
    Decision d;
    ASSERT_TRUE(d.set_slot("hero", "<p>Hi</p>"));
    ASSERT_TRUE(d.set_slot("reorder", "<b>Again?</b>"));
    ASSERT_EQ(d.fills().size(), 2u);
    EXPECT_EQ(d.fills()[0].name, "hero");
    EXPECT_EQ(d.fills()[0].html, "<p>Hi</p>");
    EXPECT_EQ(d.fills()[1].name, "reorder");
    EXPECT_TRUE(d.changes_page());
}

TEST(Decision, LastFillOfASlotWins) {
    Decision d;
    ASSERT_TRUE(d.set_slot("hero", "a"));
    ASSERT_TRUE(d.set_slot("hero", "b"));
    ASSERT_EQ(d.fills().size(), 1u);
    EXPECT_EQ(d.fills()[0].html, "b");
    EXPECT_EQ(d.slot("hero"), "b");
}

TEST(Decision, ViewsSurviveGrowthOfShortStrings) {
    // Short strings live inside the vector's elements; growth moves them.
    Decision d;
    for (size_t i = 0; i < Decision::kMaxSlots; ++i) {
        ASSERT_TRUE(d.set_slot("s" + std::to_string(i), "h" + std::to_string(i)));
    }
    for (size_t i = 0; i < Decision::kMaxSlots; ++i) {
        EXPECT_EQ(d.fills()[i].name, "s" + std::to_string(i));
        EXPECT_EQ(d.fills()[i].html, "h" + std::to_string(i));
    }
}

TEST(Decision, SlotCapIsEnforcedButReplacingStillWorks) {
    Decision d;
    for (size_t i = 0; i < Decision::kMaxSlots; ++i) {
        ASSERT_TRUE(d.set_slot("s" + std::to_string(i), "x"));
    }
    EXPECT_FALSE(d.set_slot("one-more", "x"));
    EXPECT_TRUE(d.set_slot("s0", "y"));
    EXPECT_EQ(d.fills().size(), Decision::kMaxSlots);
}

TEST(Decision, EmptySlotNameIsRefused) {
    Decision d;
    EXPECT_FALSE(d.set_slot("", "x"));
    EXPECT_FALSE(d.changes_page());
}

TEST(Decision, ClearedSlotKeepsItsDefault) {
    Decision d;
    ASSERT_TRUE(d.set_slot("a", "1"));
    ASSERT_TRUE(d.set_slot("b", "2"));
    EXPECT_TRUE(d.clear_slot("a"));
    EXPECT_FALSE(d.clear_slot("a"));
    ASSERT_EQ(d.fills().size(), 1u);
    EXPECT_EQ(d.fills()[0].name, "b");
    EXPECT_EQ(d.slot("a"), std::nullopt);
}

TEST(Decision, MoveKeepsViewsValid) {
    Decision d;
    ASSERT_TRUE(d.set_slot("hero", "short"));
    Decision moved = std::move(d);
    ASSERT_EQ(moved.fills().size(), 1u);
    EXPECT_EQ(moved.fills()[0].html, "short");
    EXPECT_EQ(moved.fills()[0].html.data(), moved.slot("hero")->data());
    Decision assigned;
    assigned = std::move(moved);
    EXPECT_EQ(assigned.fills()[0].name, "hero");
}

TEST(Decision, CopyViewsItsOwnStrings) {
    Decision d;
    ASSERT_TRUE(d.set_slot("hero", "short"));
    Decision copy = d;
    d.clear();
    ASSERT_EQ(copy.fills().size(), 1u);
    EXPECT_EQ(copy.fills()[0].html, "short");
    EXPECT_EQ(copy.fills()[0].html.data(), copy.slot("hero")->data());
    Decision assigned;
    assigned = copy;
    EXPECT_EQ(assigned.fills()[0].html.data(), assigned.slot("hero")->data());
}

TEST(Decision, DirectivesAloneChangeThePage) {
    Decision d;
    d.set_directives_json(R"({"popups":[]})");
    EXPECT_TRUE(d.changes_page());
    EXPECT_EQ(
        d.directives_html(),
        "<script type=\"application/json\" id=\"tailor-directives\">{\"popups\":[]}</script>");
    d.set_directives_json("");
    EXPECT_FALSE(d.changes_page());
}

TEST(Decision, DirectivesCannotCloseTheirScript) {
    Decision d;
    d.set_directives_json(R"({"t":"</script><script>alert(1)</script>"})");
    const std::string_view html = d.directives_html();
    EXPECT_EQ(html.find("</script>"), html.size() - 9);
}

TEST(Decision, VariablesAreSetReplacedAndCapped) {
    Decision d;
    ASSERT_TRUE(d.set_variable("segment", "new"));
    ASSERT_TRUE(d.set_variable("segment", "vip"));
    ASSERT_TRUE(d.set_variable("variant", "b"));
    EXPECT_EQ(d.variable("segment"), "vip");
    EXPECT_EQ(d.variable("nope"), std::nullopt);
    EXPECT_EQ(d.variables().size(), 2u);
    EXPECT_FALSE(d.changes_page());
    EXPECT_FALSE(d.set_variable("", "x"));
    for (size_t i = d.variables().size(); i < Decision::kMaxVariables; ++i) {
        ASSERT_TRUE(d.set_variable("v" + std::to_string(i), "x"));
    }
    EXPECT_FALSE(d.set_variable("one-more", "x"));
}

TEST(Decision, RepeatedExposureIsRecordedOnce) {
    Decision d;
    ASSERT_TRUE(d.add_exposure("hero-rule", "hero_copy", "b"));
    ASSERT_TRUE(d.add_exposure("hero-rule", "hero_copy", "b"));
    ASSERT_TRUE(d.add_exposure("cta-rule", "cta", "holdout"));
    ASSERT_EQ(d.exposures().size(), 2u);
    EXPECT_EQ(d.exposures()[0].rule_id, "hero-rule");
    EXPECT_EQ(d.exposures()[1].variant, "holdout");
}

TEST(Decision, ExposureCapIsEnforced) {
    Decision d;
    for (size_t i = 0; i < Decision::kMaxExposures; ++i) {
        ASSERT_TRUE(d.add_exposure("r" + std::to_string(i), "e", "a"));
    }
    EXPECT_FALSE(d.add_exposure("late", "e", "a"));
}

TEST(Decision, ClearEmptiesEverything) {
    Decision d;
    ASSERT_TRUE(d.set_slot("a", "1"));
    d.set_directives_json("{}");
    ASSERT_TRUE(d.set_variable("x", "y"));
    ASSERT_TRUE(d.add_exposure("r", "e", "a"));
    d.clear();
    EXPECT_FALSE(d.changes_page());
    EXPECT_TRUE(d.variables().empty());
    EXPECT_TRUE(d.exposures().empty());
}

}  // namespace
}  // namespace tailor
