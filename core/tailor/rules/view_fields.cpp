// The visitor view's fields built from the profile and request: scalars, lists, sets, sub-tables.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <lua.hpp>

#include "tailor/rules/view_fields.h"
#include "tailor/rules/visitor_view.h"

namespace tailor {

using namespace view_detail;

namespace {

const char* consent_name(ConsentFlag f) {
    switch (f) {
        case ConsentFlag::kGranted:
            return "granted";
        case ConsentFlag::kDenied:
            return "denied";
        case ConsentFlag::kUnknown:
            break;
    }
    return "unknown";
}

}  // namespace

std::vector<const Purchase*> latest_consumables(const Profile& p) {
    // The latest line per consumable sku: an earlier purchase that a newer
    // one replaced is not due any more.
    std::vector<const Purchase*> latest;
    latest.reserve(p.purchases.size());  // one allocation, not one per doubling
    for (const Purchase& line : p.purchases) {
        if (line.cycle_days <= 0 || line.at <= 0 || line.sku.empty()) {
            continue;
        }
        auto it = std::find_if(latest.begin(), latest.end(),
                               [&](const Purchase* q) { return q->sku == line.sku; });
        if (it == latest.end()) {
            latest.push_back(&line);
        } else if (line.at > (*it)->at) {
            *it = &line;
        }
    }
    std::sort(latest.begin(), latest.end(), [](const Purchase* x, const Purchase* y) {
        int64_t dx = x->at + x->cycle_days * kSecondsPerDay;
        int64_t dy = y->at + y->cycle_days * kSecondsPerDay;
        return dx != dy ? dx < dy : x->sku < y->sku;
    });
    return latest;
}

namespace {

// Floor division, so an overdue item is -1 day due, not 0.
int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        --q;
    }
    return q;
}

int64_t latest_purchase_at(const Profile& p) {
    int64_t at = p.last_order_at;
    for (const Purchase& line : p.purchases) {
        at = std::max(at, line.at);
    }
    return at;
}

void push_consumables(const Builder& b, const Profile& p, int64_t now) {
    lua_State* L = b.L;
    std::vector<const Purchase*> latest = latest_consumables(p);
    lua_createtable(L, static_cast<int>(latest.size()), 0);
    int i = 0;
    for (const Purchase* line : latest) {
        int64_t due_at = line->at + line->cycle_days * kSecondsPerDay;
        lua_createtable(L, 0, 9);
        b.set_sv(kSku, line->sku);
        b.set_sv(kCategory, line->category);
        b.set_int(kLastAt, line->at);
        b.set_int(kQty, line->qty);
        b.set_int(kCycleDays, line->cycle_days);
        b.set_int(kDueAt, due_at);
        b.set_int(kDueInDays, floor_div(due_at - now, kSecondsPerDay));
        b.set_int(kDaysSincePurchase, now > line->at ? (now - line->at) / kSecondsPerDay : 0);
        b.set_bool(kInCartKey, p.in_cart(line->sku));
        lua_rawseti(L, -2, ++i);
    }
}

}  // namespace

namespace view_detail {

void push_field(const Builder& b, Field field, const Profile& p, const RequestFacts& f) {
    lua_State* L = b.L;
    switch (field) {
        case Field::kFirstName:
            return push_sv_or_nil(L, p.first_name);
        case Field::kKnown:
            return lua_pushboolean(L, p.has_shop_profile ? 1 : 0);
        case Field::kLoggedIn:
            return lua_pushboolean(L, f.logged_in ? 1 : 0);
        case Field::kCurrency:
            return push_sv_or_nil(L, p.currency);
        case Field::kNow:
            return push_int(L, f.now);
        case Field::kVisits:
            return push_int(L, p.visits);
        case Field::kFirstSeen:
            return push_int(L, p.first_seen);
        case Field::kLastSeen:
            return push_int(L, p.last_seen);
        case Field::kOrdersCount:
            return push_int(L, p.orders_count);
        case Field::kLastOrderAt:
            return push_int(L, p.last_order_at);
        case Field::kTotalSpent:
            return push_int(L, p.total_spent);
        case Field::kDaysSinceLastOrder: {
            auto d = p.days_since_last_order(f.now);
            return d ? push_int(L, *d) : lua_pushnil(L);
        }
        case Field::kDaysSinceFirstSeen: {
            auto d = p.days_since_first_seen(f.now);
            return d ? push_int(L, *d) : lua_pushnil(L);
        }
        case Field::kHoursSinceLastPurchase: {
            int64_t at = latest_purchase_at(p);
            if (at <= 0) {
                return lua_pushnil(L);
            }
            return push_int(L, f.now > at ? (f.now - at) / 3600 : 0);
        }
        case Field::kCartCount:
            return push_int(L, p.cart_quantity());
        case Field::kCartValue:
            return push_int(L, p.cart_value());
        case Field::kTopCategory: {
            const Affinity* top = p.top_affinity();
            return top ? push_sv(L, top->category) : lua_pushnil(L);
        }
        case Field::kPoints:
            return push_int(L, p.loyalty.points);
        case Field::kTier:
            return push_sv_or_nil(L, p.loyalty.tier);
        case Field::kLoyalty: {
            lua_createtable(L, 0, 4);
            b.set_int(kPointsKey, p.loyalty.points);
            b.set_sv(kTierKey, p.loyalty.tier);
            b.set_int(kPointsExpireAt, p.loyalty.points_expire_at);
            if (p.loyalty.points_expire_at > 0) {
                b.set_int(kDaysToPointsExpiry,
                          floor_div(p.loyalty.points_expire_at - f.now, kSecondsPerDay));
            }
            return;
        }
        case Field::kFlags:
            lua_createtable(L, 0, 4);
            b.set_bool(kOpenReturn, p.flags.open_return);
            b.set_bool(kOpenComplaint, p.flags.open_complaint);
            b.set_bool(kUnsubscribed, p.flags.unsubscribed);
            return;
        case Field::kConsent:
            lua_createtable(L, 0, 4);
            lua_pushstring(L, consent_name(p.consent.personalization));
            b.set(kPersonalization);
            lua_pushstring(L, consent_name(p.consent.email));
            b.set(kEmail);
            lua_pushstring(L, consent_name(p.consent.sms));
            b.set(kSms);
            b.set_bool(kRequestKey, f.consent_personalization);
            return;
        case Field::kRequest:
            lua_createtable(L, 0, 5);
            b.set_sv(kPath, f.path);
            b.set_sv(kQuery, f.query);
            b.set_sv(kReferrer, f.referrer_source);
            b.set_sv(kDevice, f.device_class);
            lua_createtable(L, 0, static_cast<int>(f.cookie_count));
            for (size_t i = 0; i < f.cookie_count; ++i) {
                push_sv(L, f.cookies[i].name);
                push_sv(L, f.cookies[i].value);
                lua_rawset(L, -3);
            }
            b.set(kCookies);
            return;
        case Field::kAcquisition:
            lua_createtable(L, 0, 5);
            b.set_sv(kSource, p.acquisition.source);
            b.set_sv(kMedium, p.acquisition.medium);
            b.set_sv(kCampaign, p.acquisition.campaign);
            b.set_sv(kReferrer, p.acquisition.referrer);
            b.set_int(kAt, p.acquisition.at);
            return;
        case Field::kPurchases: {
            lua_createtable(L, static_cast<int>(p.purchases.size()), 0);
            int i = 0;
            for (const Purchase& line : p.purchases) {
                lua_createtable(L, 0, 6);
                b.set_sv(kSku, line.sku);
                b.set_sv(kCategory, line.category);
                b.set_int(kAt, line.at);
                b.set_int(kQty, line.qty);
                b.set_int(kCycleDays, line.cycle_days);
                b.set_int(kPrice, line.price);
                lua_rawseti(L, -2, ++i);
            }
            return;
        }
        case Field::kViewed: {
            lua_createtable(L, static_cast<int>(p.viewed.size()), 0);
            int i = 0;
            for (const ViewedItem& item : p.viewed) {
                lua_createtable(L, 0, 4);
                b.set_sv(kSku, item.sku);
                b.set_sv(kCategory, item.category);
                b.set_int(kAt, item.at);
                b.set_int(kPrice, item.price);
                lua_rawseti(L, -2, ++i);
            }
            return;
        }
        case Field::kCart: {
            lua_createtable(L, static_cast<int>(p.cart.size()), 0);
            int i = 0;
            for (const CartLine& line : p.cart) {
                lua_createtable(L, 0, 4);
                b.set_sv(kSku, line.sku);
                b.set_int(kQty, line.qty);
                b.set_int(kAddedAt, line.added_at);
                b.set_int(kPrice, line.price);
                lua_rawseti(L, -2, ++i);
            }
            return;
        }
        case Field::kAffinities: {
            lua_createtable(L, static_cast<int>(p.affinities.size()), 0);
            int i = 0;
            for (const Affinity& a : p.affinities) {
                lua_createtable(L, 0, 2);
                b.set_sv(kCategory, a.category);
                lua_pushnumber(L, a.score);
                b.set(kScore);
                lua_rawseti(L, -2, ++i);
            }
            return;
        }
        case Field::kAffinity:
            lua_createtable(L, 0, static_cast<int>(p.affinities.size()));
            for (const Affinity& a : p.affinities) {
                push_sv(L, a.category);
                lua_pushnumber(L, a.score);
                lua_rawset(L, -3);
            }
            return;
        case Field::kAttributes:
            lua_createtable(L, 0, static_cast<int>(p.attributes.size()));
            for (const Attribute& a : p.attributes) {
                push_sv(L, a.name);
                switch (a.type) {
                    case AttributeType::kString:
                        push_sv(L, a.text);
                        break;
                    case AttributeType::kNumber:
                        lua_pushnumber(L, a.number);
                        break;
                    case AttributeType::kBool:
                        lua_pushboolean(L, a.boolean ? 1 : 0);
                        break;
                }
                lua_rawset(L, -3);
            }
            return;
        case Field::kConsumables:
            return push_consumables(b, p, f.now);
        case Field::kPurchased:
            lua_createtable(L, 0, static_cast<int>(p.purchases.size()));
            for (const Purchase& line : p.purchases) {
                push_sv(L, line.sku);
                lua_pushboolean(L, 1);
                lua_rawset(L, -3);
            }
            return;
        case Field::kPurchaseSkus: {
            // just the skus, for candidate lists that need nothing else
            lua_createtable(L, static_cast<int>(p.purchases.size()), 0);
            int i = 0;
            for (const Purchase& line : p.purchases) {
                push_sv(L, line.sku);
                lua_rawseti(L, -2, ++i);
            }
            return;
        }
        case Field::kViewedSkus: {
            lua_createtable(L, static_cast<int>(p.viewed.size()), 0);
            int i = 0;
            for (const ViewedItem& item : p.viewed) {
                push_sv(L, item.sku);
                lua_rawseti(L, -2, ++i);
            }
            return;
        }
        case Field::kInCart:
            lua_createtable(L, 0, static_cast<int>(p.cart.size()));
            for (const CartLine& line : p.cart) {
                push_sv(L, line.sku);
                lua_pushboolean(L, 1);
                lua_rawset(L, -3);
            }
            return;
    }
    lua_pushnil(L);
}

}  // namespace view_detail
}  // namespace tailor
