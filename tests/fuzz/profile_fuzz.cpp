// Profile fuzz: decode arbitrary bytes as profile, as live map, and split between the two.
//
// The split point comes from the first byte, so every run replays from its
// input. Invariants checked on every accepted profile: strings view the
// input, lists respect their caps, `viewed` is one entry per sku and most
// recent first, and every accessor answers without crashing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tailor/profile/decode.h"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);

    const auto whole = tailor::decode_profile(input);
    check(whole, input);
    const tailor::ProfileError structural = tailor::check_profile_blob(input);
    require(structural == whole.error || whole.error == tailor::ProfileError::kNoMemory);

    const auto live = tailor::decode_profile({}, input);
    require(live.profile.has_value());
    require(live.live_error == (input.empty() ? tailor::ProfileError::kNone : structural));
    check(live, input);

    if (size > 1) {
        const size_t split = 1 + (static_cast<size_t>(data[0]) * (size - 1)) / 256;
        const auto both = tailor::decode_profile(input.substr(1, split - 1), input.substr(split));
        check(both, input);
    }
    return 0;
}
