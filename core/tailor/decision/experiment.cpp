// Experiment: SHA-256 bucketing through OpenSSL, validation, and the weighted split.

// SHA256_Init/Update/Final hash straight into OpenSSL's block function; the
// EVP path costs about three times the hash itself in provider dispatch for
// the ~30 bytes an assignment hashes (bench/rules_bench.cpp, callgrind), and
// rules assign per request. OpenSSL 3 deprecates them but keeps them; a
// release without them takes the EVP path below.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "tailor/decision/experiment.h"

#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/sha.h>

#include <algorithm>
#include <memory>
#include <utility>

namespace tailor {
namespace {

#if OPENSSL_VERSION_MAJOR >= 4
struct MdCtxFree {
    void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// Fetched once for the process: EVP_sha256() makes every init look the
// provider's implementation up again, which costs more than hashing 50 bytes.
const EVP_MD* sha256() noexcept {
    static const EVP_MD* const md = [] {
        const EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        return fetched != nullptr ? fetched : EVP_sha256();
    }();
    return md;
}
#endif

bool valid_name(std::string_view name) {
    if (name.empty() || name.size() > Experiment::kMaxNameBytes) {
        return false;
    }
    return std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
}

bool fail(ExperimentError* error, ExperimentErrorCode code, std::string message) {
    if (error != nullptr) {
        error->code = code;
        error->message = std::move(message);
    }
    return false;
}

bool validate(const ExperimentSpec& spec, ExperimentError* error) {
    const std::string who = "experiment \"" + spec.name + "\": ";
    if (!valid_name(spec.name)) {
        return fail(error, ExperimentErrorCode::kBadName,
                    who + "name must be 1..64 bytes of [a-z0-9_-]");
    }
    if (spec.salt.find('\0') != std::string::npos) {
        return fail(error, ExperimentErrorCode::kBadSalt, who + "salt must not contain NUL");
    }
    if (spec.holdout_percent > 100) {
        return fail(error, ExperimentErrorCode::kBadHoldout,
                    who + "holdout " + std::to_string(spec.holdout_percent) +
                        " is not a percentage (0..100)");
    }
    if (spec.variants.empty()) {
        return fail(error, ExperimentErrorCode::kNoVariants, who + "has no variants");
    }
    if (spec.variants.size() > Experiment::kMaxVariants) {
        return fail(error, ExperimentErrorCode::kTooManyVariants,
                    who + std::to_string(spec.variants.size()) + " variants, over the limit of " +
                        std::to_string(Experiment::kMaxVariants));
    }
    for (size_t i = 0; i < spec.variants.size(); ++i) {
        const ExperimentVariant& v = spec.variants[i];
        if (!valid_name(v.name) || v.name == kHoldoutVariant) {
            return fail(error, ExperimentErrorCode::kBadVariantName,
                        who + "variant \"" + v.name +
                            "\" must be 1..64 bytes of [a-z0-9_-] and not \"holdout\"");
        }
        for (size_t j = 0; j < i; ++j) {
            if (spec.variants[j].name == v.name) {
                return fail(error, ExperimentErrorCode::kDuplicateVariant,
                            who + "variant \"" + v.name + "\" appears twice");
            }
        }
        if (v.weight == 0 || v.weight > Experiment::kMaxWeight) {
            return fail(error, ExperimentErrorCode::kBadWeight,
                        who + "variant \"" + v.name + "\" weight " + std::to_string(v.weight) +
                            " must be 1.." + std::to_string(Experiment::kMaxWeight));
        }
    }
    return true;
}

}  // namespace

uint64_t experiment_hash(std::string_view salt, std::string_view vid) noexcept {
    static constexpr unsigned char kSeparator = 0;
#if OPENSSL_VERSION_MAJOR < 4
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256_CTX sha;
    if (SHA256_Init(&sha) != 1 || SHA256_Update(&sha, salt.data(), salt.size()) != 1 ||
        SHA256_Update(&sha, &kSeparator, 1) != 1 ||
        SHA256_Update(&sha, vid.data(), vid.size()) != 1 || SHA256_Final(digest, &sha) != 1) {
        return 0;  // cannot happen: bucket 0, consistently
    }
#else
    // One context per thread: nginx workers are single-threaded, and reusing
    // it saves an allocation per call.
    thread_local std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    const EVP_MD* const md = sha256();
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!ctx || EVP_DigestInit_ex2(ctx.get(), md, nullptr) != 1 ||
        EVP_DigestUpdate(ctx.get(), salt.data(), salt.size()) != 1 ||
        EVP_DigestUpdate(ctx.get(), &kSeparator, 1) != 1 ||
        EVP_DigestUpdate(ctx.get(), vid.data(), vid.size()) != 1 ||
        EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1 || len < 8) {
        return 0;  // cannot happen short of OpenSSL out of memory: bucket 0, consistently
    }
#endif
    uint64_t h = 0;
    for (int i = 0; i < 8; ++i) {
        h = (h << 8) | digest[i];
    }
    return h;
}

uint32_t experiment_bucket(std::string_view salt, std::string_view vid) noexcept {
    return static_cast<uint32_t>(experiment_hash(salt, vid) % kBucketCount);
}

Experiment::Experiment(ExperimentSpec spec) : spec_(std::move(spec)) {
    if (spec_.salt.empty()) {
        spec_.salt = spec_.name;
    }
    holdout_buckets_ = spec_.holdout_percent * (kBucketCount / 100);
    uint64_t sum = 0;
    cumulative_.reserve(spec_.variants.size());
    for (const ExperimentVariant& v : spec_.variants) {
        sum += v.weight;
        cumulative_.push_back(sum);
    }
}

std::optional<Experiment> Experiment::create(ExperimentSpec spec, ExperimentError* error) {
    if (error != nullptr) {
        *error = ExperimentError{};
    }
    if (!validate(spec, error)) {
        return std::nullopt;
    }
    return Experiment(std::move(spec));
}

Assignment Experiment::assign(std::string_view vid) const noexcept {
    return assign_bucket(experiment_bucket(spec_.salt, vid));
}

Assignment Experiment::assign_bucket(uint32_t bucket) const noexcept {
    Assignment a;
    a.bucket = bucket % kBucketCount;
    if (a.bucket < holdout_buckets_) {
        a.holdout = true;
        a.variant = kHoldoutVariant;
        return a;
    }
    // holdout < 100% here, so the divisor is positive; W <= 32 * 1e6 keeps
    // the product far below 2^64.
    const uint64_t total = cumulative_.back();
    const uint64_t p = static_cast<uint64_t>(a.bucket - holdout_buckets_) * total /
                       (kBucketCount - holdout_buckets_);
    size_t i = 0;
    while (i + 1 < cumulative_.size() && p >= cumulative_[i]) {
        ++i;
    }
    a.variant_index = static_cast<uint32_t>(i);
    a.variant = spec_.variants[i].name;
    return a;
}

}  // namespace tailor
