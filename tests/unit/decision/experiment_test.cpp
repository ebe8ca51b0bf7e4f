// Experiment: pinned bucketing, distribution, holdout, salt reshuffle, and spec validation.
#include "tailor/decision/experiment.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tailor {
namespace {

Experiment make(uint32_t holdout, std::vector<ExperimentVariant> variants, std::string salt = "") {
    ExperimentError err;
    auto e = Experiment::create({"hero_copy", std::move(salt), holdout, std::move(variants)}, &err);
    EXPECT_TRUE(e.has_value()) << err.message;
    return *e;
}

ExperimentErrorCode error_of(ExperimentSpec spec) {
    ExperimentError err;
    EXPECT_FALSE(Experiment::create(std::move(spec), &err).has_value());
    return err.code;
}

std::string vid(int i) {
    return "vid-" + std::to_string(i);
}

// Recomputed independently with Python's hashlib (docs/templates.md):
//   int.from_bytes(sha256(salt + b"\0" + vid).digest()[:8], "big")
TEST(Experiment, HashMatchesPinnedGoldenValues) {
    EXPECT_EQ(experiment_hash("hero_copy", "v1"), 0xb70534b6f18f6974ULL);
    EXPECT_EQ(experiment_hash("hero_copy", "v2"), 0x8462d3044398942aULL);
    EXPECT_EQ(experiment_hash("hero_copy", "6f1c2a9e0b7d4c3f"), 0x5987abe5d4bc7cf0ULL);
    EXPECT_EQ(experiment_hash("checkout_cta", "6f1c2a9e0b7d4c3f"), 0xadedda1cf59224eeULL);
    EXPECT_EQ(experiment_hash("", ""), 0x6e340b9cffb37a98ULL);
}

TEST(Experiment, BucketsMatchPinnedGoldenValues) {
    EXPECT_EQ(experiment_bucket("hero_copy", "v1"), 5492u);
    EXPECT_EQ(experiment_bucket("hero_copy", "v2"), 4634u);
    EXPECT_EQ(experiment_bucket("hero_copy", "6f1c2a9e0b7d4c3f"), 7888u);
    EXPECT_EQ(experiment_bucket("checkout_cta", "6f1c2a9e0b7d4c3f"), 3486u);
}

TEST(Experiment, AssignmentsMatchPinnedGoldenValues) {
    const Experiment e = make(10, {{"a", 1}, {"b", 1}});
    // bucket 5492: p = (5492 - 1000) * 2 / 9000 = 0
    EXPECT_EQ(e.assign("v1").variant, "a");
    // bucket 7888: p = 6888 * 2 / 9000 = 1
    EXPECT_EQ(e.assign("6f1c2a9e0b7d4c3f").variant, "b");
    EXPECT_EQ(e.assign("6f1c2a9e0b7d4c3f").bucket, 7888u);
}

TEST(Experiment, SaltDefaultsToTheName) {
    const Experiment e = make(0, {{"a", 1}});
    EXPECT_EQ(e.salt(), "hero_copy");
}

TEST(Experiment, SameVisitorGetsTheSameVariant) {
    const Experiment e = make(5, {{"a", 1}, {"b", 2}, {"c", 3}});
    const Experiment again = make(5, {{"a", 1}, {"b", 2}, {"c", 3}});
    for (int i = 0; i < 1000; ++i) {
        EXPECT_EQ(e.assign(vid(i)).variant, again.assign(vid(i)).variant);
    }
}

TEST(Experiment, WeightsSplitTrafficWithinTolerance) {
    const Experiment e = make(0, {{"a", 1}, {"b", 2}, {"c", 7}});
    std::vector<int> counts(3, 0);
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        ++counts[e.assign(vid(i)).variant_index];
    }
    // 1% absolute is > 9 standard deviations for n = 100k.
    EXPECT_NEAR(counts[0] / double(n), 0.1, 0.01);
    EXPECT_NEAR(counts[1] / double(n), 0.2, 0.01);
    EXPECT_NEAR(counts[2] / double(n), 0.7, 0.01);
}

TEST(Experiment, HoldoutTakesItsShareFirst) {
    const Experiment e = make(20, {{"a", 1}, {"b", 1}});
    int holdout = 0;
    int a = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        const Assignment got = e.assign(vid(i));
        holdout += got.holdout ? 1 : 0;
        a += (!got.holdout && got.variant == "a") ? 1 : 0;
        if (got.holdout) {
            EXPECT_EQ(got.variant, kHoldoutVariant);
            EXPECT_LT(got.bucket, 2000u);
        }
    }
    EXPECT_NEAR(holdout / double(n), 0.2, 0.01);
    EXPECT_NEAR(a / double(n), 0.4, 0.01);
}

TEST(Experiment, HoldoutBoundaryIsExact) {
    const Experiment e = make(10, {{"a", 1}, {"b", 1}});
    EXPECT_TRUE(e.assign_bucket(999).holdout);
    EXPECT_FALSE(e.assign_bucket(1000).holdout);
    EXPECT_EQ(e.assign_bucket(1000).variant, "a");
    EXPECT_EQ(e.assign_bucket(5499).variant, "a");
    EXPECT_EQ(e.assign_bucket(5500).variant, "b");
    EXPECT_EQ(e.assign_bucket(9999).variant, "b");
}

TEST(Experiment, ChangingTheSaltReshuffles) {
    const Experiment e1 = make(0, {{"a", 1}, {"b", 1}}, "salt-1");
    const Experiment e2 = make(0, {{"a", 1}, {"b", 1}}, "salt-2");
    int same = 0;
    const int n = 10000;
    for (int i = 0; i < n; ++i) {
        same += e1.assign(vid(i)).variant == e2.assign(vid(i)).variant ? 1 : 0;
    }
    // Independent assignments agree about half the time.
    EXPECT_NEAR(same / double(n), 0.5, 0.03);
}

TEST(Experiment, SingleVariantGetsEveryone) {
    const Experiment e = make(0, {{"only", 5}});
    for (uint32_t b = 0; b < kBucketCount; b += 37) {
        EXPECT_EQ(e.assign_bucket(b).variant, "only");
    }
    EXPECT_EQ(e.assign_bucket(9999).variant, "only");
}

TEST(Experiment, ZeroHoldoutHoldsNoOneOut) {
    const Experiment e = make(0, {{"a", 1}, {"b", 1}});
    EXPECT_FALSE(e.assign_bucket(0).holdout);
    EXPECT_EQ(e.assign_bucket(0).variant, "a");
}

TEST(Experiment, FullHoldoutHoldsEveryoneOut) {
    const Experiment e = make(100, {{"a", 1}, {"b", 1}});
    for (int i = 0; i < 1000; ++i) {
        EXPECT_TRUE(e.assign(vid(i)).holdout);
    }
    EXPECT_TRUE(e.assign_bucket(9999).holdout);
}

TEST(Experiment, LargeWeightsDoNotOverflow) {
    std::vector<ExperimentVariant> variants;
    for (size_t i = 0; i < Experiment::kMaxVariants; ++i) {
        variants.push_back({"v" + std::to_string(i), Experiment::kMaxWeight});
    }
    const Experiment e = make(0, variants);
    EXPECT_EQ(e.assign_bucket(0).variant_index, 0u);
    EXPECT_EQ(e.assign_bucket(9999).variant_index, Experiment::kMaxVariants - 1);
}

TEST(Experiment, InvalidSpecsAreRefusedWithReasons) {
    EXPECT_EQ(error_of({"", "", 0, {{"a", 1}}}), ExperimentErrorCode::kBadName);
    EXPECT_EQ(error_of({"Hero Copy", "", 0, {{"a", 1}}}), ExperimentErrorCode::kBadName);
    EXPECT_EQ(error_of({"x", std::string("a\0b", 3), 0, {{"a", 1}}}),
              ExperimentErrorCode::kBadSalt);
    EXPECT_EQ(error_of({"x", "", 101, {{"a", 1}}}), ExperimentErrorCode::kBadHoldout);
    EXPECT_EQ(error_of({"x", "", 0, {}}), ExperimentErrorCode::kNoVariants);
    EXPECT_EQ(error_of({"x", "", 0, {{"a", 0}}}), ExperimentErrorCode::kBadWeight);
    EXPECT_EQ(error_of({"x", "", 0, {{"a", Experiment::kMaxWeight + 1}}}),
              ExperimentErrorCode::kBadWeight);
    EXPECT_EQ(error_of({"x", "", 0, {{"holdout", 1}}}), ExperimentErrorCode::kBadVariantName);
    EXPECT_EQ(error_of({"x", "", 0, {{"", 1}}}), ExperimentErrorCode::kBadVariantName);
    EXPECT_EQ(error_of({"x", "", 0, {{"a", 1}, {"a", 2}}}), ExperimentErrorCode::kDuplicateVariant);
}

TEST(Experiment, VariantCountLimitIsEnforced) {
    std::vector<ExperimentVariant> variants;
    for (size_t i = 0; i < Experiment::kMaxVariants; ++i) {
        variants.push_back({"v" + std::to_string(i), 1});
    }
    EXPECT_TRUE(Experiment::create({"x", "", 0, variants}, nullptr).has_value());
    variants.push_back({"late", 1});
    EXPECT_EQ(error_of({"x", "", 0, variants}), ExperimentErrorCode::kTooManyVariants);
}

TEST(Experiment, ErrorMessageNamesTheVariant) {
    ExperimentError err;
    EXPECT_FALSE(Experiment::create({"hero", "", 0, {{"a", 1}, {"b", 0}}}, &err));
    EXPECT_NE(err.message.find("\"b\""), std::string::npos) << err.message;
    EXPECT_NE(err.message.find("\"hero\""), std::string::npos) << err.message;
}

}  // namespace
}  // namespace tailor
