// Profile fuzz: decode arbitrary bytes as profile, as live map, and split between the two.
//
// A ProfileDecoder that lives across all inputs decodes each too, and must give what
// decode_profile gives: nothing of one input's lists may show in the next's.
//
// The split point comes from the first byte, and a tightened ProfileLimits
// from the last two, so every run replays from its input. Differential:
// every decode is repeated by the msgpack-c decoder it replaced
// (reference_decode.h), and both must agree on the status, the counters and
// every field of the Profile, string views pointing at the same bytes.
// Invariants checked on every accepted profile: strings view the input,
// lists respect their caps, `viewed` is one entry per sku and most recent
// first, and every accessor answers without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "../unit/profile/profile_compare.h"
#include "tailor/profile/decode.h"
#include "tailor/profile/reference_decode.h"

namespace {

void require(bool ok) {
    if (!ok) {
        std::abort();
    }
}

bool inside(std::string_view v, std::string_view input) {
    return v.empty() ||
           (v.data() >= input.data() && v.data() + v.size() <= input.data() + input.size());
}

void check(const tailor::ProfileDecodeResult& r, std::string_view input) {
    require(r.profile.has_value() == (r.error == tailor::ProfileError::kNone));
    if (!r.profile) {
        require(!tailor::profile_error_name(r.error).empty());
        return;
    }
    const tailor::Profile& p = *r.profile;
    require(p.purchases.size() <= tailor::kMaxPurchases);
    require(p.viewed.size() <= tailor::kMaxViewed);
    require(p.cart.size() <= tailor::kMaxCartLines);
    require(p.affinities.size() <= tailor::kMaxAffinities);
    require(p.attributes.size() <= tailor::kMaxAttributes);
    require(inside(p.first_name, input) && inside(p.currency, input) &&
            inside(p.loyalty.tier, input) && inside(p.acquisition.source, input));
    for (size_t i = 0; i < p.viewed.size(); ++i) {
        require(inside(p.viewed[i].sku, input) && !p.viewed[i].sku.empty());
        require(i == 0 || p.viewed[i - 1].at >= p.viewed[i].at);
        for (size_t j = 0; j < i; ++j) {
            require(p.viewed[j].sku != p.viewed[i].sku);
        }
    }
    constexpr int64_t kNow = 1750000000;
    for (const auto& x : p.purchases) {
        require(inside(x.sku, input) && x.qty >= 1 && x.at >= 0 && x.at <= tailor::kMaxTime);
        require(p.has_purchased(x.sku));
        const auto due = p.replenish_due_at(x.sku);
        require(!due || *due > 0);
    }
    for (const auto& c : p.cart) {
        require(p.in_cart(c.sku) && c.qty >= 1);
    }
    for (const auto& a : p.attributes) {
        require(p.attribute(a.name) != nullptr);
    }
    require(p.cart_value() >= 0 && p.cart_quantity() >= 0);
    require(p.top_affinity() != nullptr || p.affinities.empty());
    const auto days = p.days_since_last_order(kNow);
    require(!days || *days >= 0);
    (void)p.days_since_first_seen(kNow);
}

// decode_profile, held to the reference's result, and a ProfileDecoder kept across every
// input (its lists' room reused) held to decode_profile's.
tailor::ProfileDecodeResult decode(std::string_view profile, std::string_view live,
                                   const tailor::ProfileLimits& limits = {}) {
    static tailor::ProfileDecoder reused;
    tailor::ProfileDecodeResult r = tailor::decode_profile(profile, live, limits);
    const tailor::ProfileDecodeResult want =
        tailor::decode_profile_reference(profile, live, limits);
    std::string diff = tailor::profile_testing::decode_difference(r, want);
    if (!diff.empty()) {
        std::fprintf(stderr, "profile_fuzz: the decoders differ on %s\n", diff.c_str());
        std::abort();
    }
    diff = tailor::profile_testing::decode_difference(
        tailor::profile_testing::as_result(reused.decode(profile, live, limits)), r);
    if (!diff.empty()) {
        std::fprintf(stderr, "profile_fuzz: the reused decoder differs on %s\n", diff.c_str());
        std::abort();
    }
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    const auto whole = decode(input, {});
    check(whole, input);
    const tailor::ProfileError structural = tailor::check_profile_blob(input);
    require(structural == whole.error || whole.error == tailor::ProfileError::kNoMemory);
    require(structural == tailor::check_profile_blob_reference(input));

    const auto live = decode({}, input);
    require(live.profile.has_value());
    require(live.live_error == (input.empty() ? tailor::ProfileError::kNone : structural));
    check(live, input);

    if (size > 1) {
        const size_t split = 1 + (static_cast<size_t>(data[0]) * (size - 1)) / 256;
        const auto both = decode(input.substr(1, split - 1), input.substr(split));
        check(both, input);

        tailor::ProfileLimits tight;
        tight.max_depth = data[size - 1] % (tailor::kMaxProfileDepth + 2);
        tight.max_bytes = size - data[size - 2] % 3;
        check(decode(input, {}, tight), input);
        check(decode(input.substr(1, split - 1), input.substr(split), tight), input);
        require(tailor::check_profile_blob(input, tight) ==
                tailor::check_profile_blob_reference(input, tight));
    }
    return 0;
}
