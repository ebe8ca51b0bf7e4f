// Experiment: deterministic, platform-independent assignment of visitors to variants.
//
// The algorithm, written so a data team can recompute any assignment offline
// (docs/templates.md has the same with a Python snippet):
//   1. h = the first 8 bytes, big-endian, of SHA-256(salt || 0x00 || vid)
//   2. bucket = h mod 10000 (basis points; the bias of 2^64 mod 10000 is 1e-16)
//   3. H = holdout_percent * 100; bucket < H -> the holdout group
//   4. else p = (bucket - H) * W / (10000 - H), integer division, W = sum of
//      weights; the variant is the first i with p < w_0 + ... + w_i.
// The salt defaults to the experiment name; change it to reshuffle everyone.
// Changing the holdout or the weights moves some visitors between groups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

inline constexpr uint32_t kBucketCount = 10000;  // basis points
inline constexpr std::string_view kHoldoutVariant = "holdout";

// ExperimentVariant
//
// One arm: a name ([a-z0-9_-], 1..64 bytes, not "holdout") and a weight > 0.
struct ExperimentVariant {
    std::string name;
    uint32_t weight = 1;
};

// ExperimentSpec
//
// An experiment as the rule pack defines it.
struct ExperimentSpec {
    std::string name;              // [a-z0-9_-], 1..64 bytes
    std::string salt;              // empty: the name; no NUL bytes
    uint32_t holdout_percent = 0;  // 0..100, taken before the split
    std::vector<ExperimentVariant> variants;
};

// ExperimentErrorCode
//
// Why a spec was refused.
enum class ExperimentErrorCode : unsigned char {
    kNone = 0,
    kBadName,          // experiment name empty, too long or outside [a-z0-9_-]
    kBadSalt,          // salt holds a NUL byte (it separates salt from vid)
    kBadHoldout,       // holdout_percent over 100
    kNoVariants,       // no variant at all
    kTooManyVariants,  // over kMaxVariants
    kBadVariantName,   // variant name empty, too long, bad byte, or "holdout"
    kDuplicateVariant,
    kBadWeight,  // 0, or over kMaxWeight
};

// ExperimentError
//
// The code and a message naming the experiment and variant at fault.
struct ExperimentError {
    ExperimentErrorCode code = ExperimentErrorCode::kNone;
    std::string message;
};

// Assignment
//
// Where one visitor landed. `variant` views the Experiment's storage.
struct Assignment {
    bool holdout = false;
    uint32_t variant_index = 0;  // meaningless when holdout
    std::string_view variant;    // kHoldoutVariant when holdout
    uint32_t bucket = 0;         // [0, kBucketCount)
};

// experiment_hash
//
// The first 8 bytes, read big-endian, of SHA-256(salt || 0x00 || vid).
//
// Example:
//   experiment_hash("hero_copy", "v1")  // the same on every node and build
[[nodiscard]] uint64_t experiment_hash(std::string_view salt, std::string_view vid) noexcept;

// experiment_bucket
//
// experiment_hash(salt, vid) mod kBucketCount.
//
// Example:
//   experiment_bucket("s", "v") < 10000
[[nodiscard]] uint32_t experiment_bucket(std::string_view salt, std::string_view vid) noexcept;

// Experiment
//
// A validated spec with precomputed cumulative weights; assign() is one hash
// and a scan of at most kMaxVariants integers.
class Experiment {
  public:
    static constexpr size_t kMaxVariants = 32;
    static constexpr size_t kMaxNameBytes = 64;
    static constexpr uint32_t kMaxWeight = 1000000;

    // create
    //
    // Validates `spec`; on failure returns nullopt and fills `*error` when
    // given.
    //
    // Example:
    //   ExperimentError err;
    //   auto e = Experiment::create({"hero_copy", "", 10, {{"a", 1}, {"b", 1}}}, &err);
    [[nodiscard]] static std::optional<Experiment> create(ExperimentSpec spec,
                                                          ExperimentError* error);

    // assign
    //
    // The visitor's group; the same for the same vid and spec, everywhere.
    //
    // Example:
    //   e->assign("vid-123").variant  // "a", "b" or "holdout"
    [[nodiscard]] Assignment assign(std::string_view vid) const noexcept;

    // assign_bucket
    //
    // The group for a bucket in [0, kBucketCount): assign() after hashing.
    //
    // Example:
    //   // holdout 10%: assign_bucket(999).holdout, !assign_bucket(1000).holdout
    [[nodiscard]] Assignment assign_bucket(uint32_t bucket) const noexcept;

    [[nodiscard]] const ExperimentSpec& spec() const noexcept { return spec_; }
    [[nodiscard]] std::string_view salt() const noexcept { return spec_.salt; }

  private:
    explicit Experiment(ExperimentSpec spec);

    ExperimentSpec spec_;
    std::vector<uint64_t> cumulative_;  // running sums of weights
    uint32_t holdout_buckets_ = 0;
};

}  // namespace tailor
