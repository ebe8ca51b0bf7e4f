// Profile: the accessors rules use (lifecycle days, purchases, cart, affinity, attributes).
#include "tailor/profile/profile.h"

#include <limits>

namespace tailor {

namespace {

std::optional<int64_t> days_since(int64_t at, int64_t now) noexcept {
    if (at <= 0) {
        return std::nullopt;
    }
    // Clock skew between the shop's servers and this one must not yield a
    // negative age, which rules would read as "in the future".
    if (now <= at) {
        return 0;
    }
    return (now - at) / kSecondsPerDay;
}

}  // namespace

std::optional<int64_t> Profile::days_since_last_order(int64_t now) const noexcept {
    return days_since(last_order_at, now);
}

std::optional<int64_t> Profile::days_since_first_seen(int64_t now) const noexcept {
    return days_since(first_seen, now);
}

bool Profile::has_purchased(std::string_view sku) const noexcept {
    return last_purchase_of(sku) != nullptr;
}

const Purchase* Profile::last_purchase_of(std::string_view sku) const noexcept {
    const Purchase* best = nullptr;
    for (const Purchase& p : purchases) {
        if (p.sku == sku && (best == nullptr || p.at > best->at)) {
            best = &p;
        }
    }
    return best;
}

std::optional<int64_t> Profile::replenish_due_at(std::string_view sku) const noexcept {
    const Purchase* p = last_purchase_of(sku);
    if (p == nullptr || p->cycle_days <= 0 || p->at <= 0) {
        return std::nullopt;
    }
    // Both are range-checked at decode (kMaxTime, kMaxCycleDays): no overflow.
    return p->at + p->cycle_days * kSecondsPerDay;
}

bool Profile::in_cart(std::string_view sku) const noexcept {
    return cart_line(sku) != nullptr;
}

const CartLine* Profile::cart_line(std::string_view sku) const noexcept {
    for (const CartLine& line : cart) {
        if (line.sku == sku) {
            return &line;
        }
    }
    return nullptr;
}

int64_t Profile::cart_quantity() const noexcept {
    int64_t n = 0;
    for (const CartLine& line : cart) {
        n += line.qty;  // <= kMaxCartLines * kMaxQuantity
    }
    return n;
}

int64_t Profile::cart_value() const noexcept {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t total = 0;
    for (const CartLine& line : cart) {
        const int64_t value = line.qty * line.price;  // <= 10^6 * 10^12
        total = value > kMax - total ? kMax : total + value;
    }
    return total;
}

bool Profile::has_viewed(std::string_view sku) const noexcept {
    for (const ViewedItem& v : viewed) {
        if (v.sku == sku) {
            return true;
        }
    }
    return false;
}

double Profile::affinity(std::string_view category) const noexcept {
    for (const Affinity& a : affinities) {
        if (a.category == category) {
            return a.score;
        }
    }
    return 0;
}

const Affinity* Profile::top_affinity() const noexcept {
    const Affinity* best = nullptr;
    for (const Affinity& a : affinities) {
        if (best == nullptr || a.score > best->score) {
            best = &a;
        }
    }
    return best;
}

const Attribute* Profile::attribute(std::string_view name) const noexcept {
    for (const Attribute& a : attributes) {
        if (a.name == name) {
            return &a;
        }
    }
    return nullptr;
}

std::string_view profile_error_name(ProfileError error) noexcept {
    switch (error) {
        case ProfileError::kNone:
            return "none";
        case ProfileError::kTooLarge:
            return "too-large";
        case ProfileError::kTruncated:
            return "truncated";
        case ProfileError::kMalformed:
            return "malformed";
        case ProfileError::kTooDeep:
            return "too-deep";
        case ProfileError::kTooComplex:
            return "too-complex";
        case ProfileError::kNotAMap:
            return "not-a-map";
        case ProfileError::kUnsupportedVersion:
            return "unsupported-version";
        case ProfileError::kNoMemory:
            return "no-memory";
        case ProfileError::kCount:
            break;
    }
    return "none";
}

}  // namespace tailor
