// Field-by-field comparison of two profile decodes, for the differential checks of
// decode_profile against the msgpack-c reference (reference_decode.h): the unit
// tests and tests/fuzz/profile_fuzz.cpp share it, so it needs no gtest.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/profile/decode.h"

namespace tailor::profile_testing {

namespace compare_detail {

// Views compare by position, not only by content: both decoders must hand
// out the same bytes of the same input.
inline bool same(std::string_view a, std::string_view b) {
    return a.size() == b.size() && (a.empty() || a.data() == b.data());
}

inline bool same_bits(double a, double b) {
    return a == b || (a != a && b != b);
}

inline bool same(const Purchase& a, const Purchase& b) {
    return same(a.sku, b.sku) && same(a.category, b.category) && a.at == b.at && a.qty == b.qty &&
           a.cycle_days == b.cycle_days && a.price == b.price;
}
inline bool same(const ViewedItem& a, const ViewedItem& b) {
    return same(a.sku, b.sku) && same(a.category, b.category) && a.at == b.at && a.price == b.price;
}
inline bool same(const CartLine& a, const CartLine& b) {
    return same(a.sku, b.sku) && a.qty == b.qty && a.added_at == b.added_at && a.price == b.price;
}
inline bool same(const Affinity& a, const Affinity& b) {
    return same(a.category, b.category) && same_bits(a.score, b.score);
}
inline bool same(const Attribute& a, const Attribute& b) {
    return same(a.name, b.name) && a.type == b.type && same(a.text, b.text) &&
           same_bits(a.number, b.number) && a.boolean == b.boolean;
}

template <typename T>
bool same_list(const std::vector<T>& a, const std::vector<T>& b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (!same(a[i], b[i])) {
            return false;
        }
    }
    return true;
}

}  // namespace compare_detail

// profile_difference
//
// The first field where two profiles differ, or "" when they are the same.
inline std::string profile_difference(const Profile& a, const Profile& b) {
    using compare_detail::same;
    using compare_detail::same_list;
    const struct {
        const char* name;
        bool equal;
    } fields[] = {
        {"version", a.version == b.version},
        {"has_shop_profile", a.has_shop_profile == b.has_shop_profile},
        {"has_live", a.has_live == b.has_live},
        {"first_name", same(a.first_name, b.first_name)},
        {"currency", same(a.currency, b.currency)},
        {"first_seen", a.first_seen == b.first_seen},
        {"orders_count", a.orders_count == b.orders_count},
        {"last_order_at", a.last_order_at == b.last_order_at},
        {"total_spent", a.total_spent == b.total_spent},
        {"affinities", same_list(a.affinities, b.affinities)},
        {"purchases", same_list(a.purchases, b.purchases)},
        {"loyalty.points", a.loyalty.points == b.loyalty.points},
        {"loyalty.tier", same(a.loyalty.tier, b.loyalty.tier)},
        {"loyalty.points_expire_at", a.loyalty.points_expire_at == b.loyalty.points_expire_at},
        {"flags.open_return", a.flags.open_return == b.flags.open_return},
        {"flags.open_complaint", a.flags.open_complaint == b.flags.open_complaint},
        {"flags.unsubscribed", a.flags.unsubscribed == b.flags.unsubscribed},
        {"consent.personalization", a.consent.personalization == b.consent.personalization},
        {"consent.email", a.consent.email == b.consent.email},
        {"consent.sms", a.consent.sms == b.consent.sms},
        {"attributes", same_list(a.attributes, b.attributes)},
        {"viewed", same_list(a.viewed, b.viewed)},
        {"cart", same_list(a.cart, b.cart)},
        {"cart_at", a.cart_at == b.cart_at},
        {"visits", a.visits == b.visits},
        {"last_seen", a.last_seen == b.last_seen},
        {"acquisition.source", same(a.acquisition.source, b.acquisition.source)},
        {"acquisition.medium", same(a.acquisition.medium, b.acquisition.medium)},
        {"acquisition.campaign", same(a.acquisition.campaign, b.acquisition.campaign)},
        {"acquisition.referrer", same(a.acquisition.referrer, b.acquisition.referrer)},
        {"acquisition.at", a.acquisition.at == b.acquisition.at},
    };
    for (const auto& f : fields) {
        if (!f.equal) {
            return f.name;
        }
    }
    return {};
}

// decode_difference
//
// The first difference between two decode results (status, counters, then
// the profile field by field), or "" when they are the same.
inline std::string decode_difference(const ProfileDecodeResult& a, const ProfileDecodeResult& b) {
    if (a.error != b.error) {
        return "error: " + std::string(profile_error_name(a.error)) + " vs " +
               std::string(profile_error_name(b.error));
    }
    if (a.live_error != b.live_error) {
        return "live_error: " + std::string(profile_error_name(a.live_error)) + " vs " +
               std::string(profile_error_name(b.live_error));
    }
    if (a.stats.unknown != b.stats.unknown) {
        return "stats.unknown: " + std::to_string(a.stats.unknown) + " vs " +
               std::to_string(b.stats.unknown);
    }
    if (a.stats.wrong_type != b.stats.wrong_type) {
        return "stats.wrong_type: " + std::to_string(a.stats.wrong_type) + " vs " +
               std::to_string(b.stats.wrong_type);
    }
    if (a.stats.over_limit != b.stats.over_limit) {
        return "stats.over_limit: " + std::to_string(a.stats.over_limit) + " vs " +
               std::to_string(b.stats.over_limit);
    }
    if (a.profile.has_value() != b.profile.has_value()) {
        return "profile presence";
    }
    return a.profile ? profile_difference(*a.profile, *b.profile) : std::string();
}

// as_result
//
// A ProfileDecoder's result as decode_profile's, the Profile copied, for decode_difference.
inline ProfileDecodeResult as_result(const ProfileDecoder::Result& r) {
    ProfileDecodeResult out;
    if (r.profile != nullptr) {
        out.profile = *r.profile;
    }
    out.error = r.error;
    out.live_error = r.live_error;
    out.stats = r.stats;
    return out;
}

}  // namespace tailor::profile_testing
