// LuaVisitorView: the shared __index closure that materialises visitor fields on first read.
#include "tailor/rules/visitor_view.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <lua.hpp>

namespace tailor {
namespace {

enum class Field : int {
    kFirstName = 1,
    kKnown,
    kLoggedIn,
    kCurrency,
    kNow,
    kVisits,
    kFirstSeen,
    kLastSeen,
    kOrdersCount,
    kLastOrderAt,
    kTotalSpent,
    kDaysSinceLastOrder,
    kDaysSinceFirstSeen,
    kHoursSinceLastPurchase,
    kCartCount,
    kCartValue,
    kTopCategory,
    kPoints,
    kTier,
    kLoyalty,
    kFlags,
    kConsent,
    kRequest,
    kAcquisition,
    kPurchases,
    kViewed,
    kCart,
    kAffinities,
    kAffinity,
    kAttributes,
    kConsumables,
    kPurchased,
    kInCart,
    kPurchaseSkus,
    kViewedSkus,
};

constexpr struct {
    const char* name;
    Field field;
} kFields[] = {
    {"first_name", Field::kFirstName},
    {"known", Field::kKnown},
    {"logged_in", Field::kLoggedIn},
    {"currency", Field::kCurrency},
    {"now", Field::kNow},
    {"visits", Field::kVisits},
    {"first_seen", Field::kFirstSeen},
    {"last_seen", Field::kLastSeen},
    {"orders_count", Field::kOrdersCount},
    {"last_order_at", Field::kLastOrderAt},
    {"total_spent", Field::kTotalSpent},
    {"days_since_last_order", Field::kDaysSinceLastOrder},
    {"days_since_first_seen", Field::kDaysSinceFirstSeen},
    {"hours_since_last_purchase", Field::kHoursSinceLastPurchase},
    {"cart_count", Field::kCartCount},
    {"cart_value", Field::kCartValue},
    {"top_category", Field::kTopCategory},
    {"points", Field::kPoints},
    {"tier", Field::kTier},
    {"loyalty", Field::kLoyalty},
    {"flags", Field::kFlags},
    {"consent", Field::kConsent},
    {"request", Field::kRequest},
    {"acquisition", Field::kAcquisition},
    {"purchases", Field::kPurchases},
    {"viewed", Field::kViewed},
    {"cart", Field::kCart},
    {"affinities", Field::kAffinities},
    {"affinity", Field::kAffinity},
    {"attributes", Field::kAttributes},
    {"consumables", Field::kConsumables},
    {"purchased", Field::kPurchased},
    {"in_cart", Field::kInCart},
    {"purchase_skus", Field::kPurchaseSkus},
    {"viewed_skus", Field::kViewedSkus},
};

void push_sv(lua_State* L, std::string_view s) {
    lua_pushlstring(L, s.data(), s.size());
}

// Empty strings read as nil, the Lua idiom for "not known", and what
// templates' {{name|default}} falls back on.
void push_sv_or_nil(lua_State* L, std::string_view s) {
    if (s.empty()) {
        lua_pushnil(L);
    } else {
        push_sv(L, s);
    }
}

void push_int(lua_State* L, int64_t n) {
    lua_pushnumber(L, static_cast<lua_Number>(n));
}

// Keys of list items and sub-tables, interned once per state: pushing one is
// an array read, where lua_setfield would hash and intern the name each time.
enum Key : int {
    kSku = 1,
    kCategory,
    kAt,
    kQty,
    kCycleDays,
    kPrice,
    kAddedAt,
    kScore,
    kLastAt,
    kDueAt,
    kDueInDays,
    kDaysSincePurchase,
    kInCartKey,
    kPointsKey,
    kTierKey,
    kPointsExpireAt,
    kDaysToPointsExpiry,
    kOpenReturn,
    kOpenComplaint,
    kUnsubscribed,
    kPersonalization,
    kEmail,
    kSms,
    kRequestKey,
    kPath,
    kQuery,
    kReferrer,
    kDevice,
    kCookies,
    kSource,
    kMedium,
    kCampaign,
    kKeyCount
};

constexpr const char* kKeyNames[] = {
    "",
    "sku",
    "category",
    "at",
    "qty",
    "cycle_days",
    "price",
    "added_at",
    "score",
    "last_at",
    "due_at",
    "due_in_days",
    "days_since_purchase",
    "in_cart",
    "points",
    "tier",
    "points_expire_at",
    "days_to_points_expiry",
    "open_return",
    "open_complaint",
    "unsubscribed",
    "personalization",
    "email",
    "sms",
    "request",
    "path",
    "query",
    "referrer",
    "device",
    "cookies",
    "source",
    "medium",
    "campaign",
};
static_assert(sizeof(kKeyNames) / sizeof(kKeyNames[0]) == kKeyCount, "one name per key");

// Where the interned keys table sits on the stack while a value is built.
struct Builder {
    lua_State* L;
    int keys;

    // table at -2 after the value is pushed: t[key] = value
    void set(Key key) const {
        lua_rawgeti(L, keys, key);
        lua_insert(L, -2);
        lua_rawset(L, -3);
    }
    void set_sv(Key key, std::string_view s) const {
        if (!s.empty()) {
            push_sv(L, s);
            set(key);
        }
    }
    void set_int(Key key, int64_t n) const {
        push_int(L, n);
        set(key);
    }
    void set_bool(Key key, bool b) const {
        lua_pushboolean(L, b ? 1 : 0);
        set(key);
    }
};

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

// Field names sit in the keys table after the item keys.
constexpr int kFieldKeyBase = 100;
static_assert(kKeyCount < kFieldKeyBase, "field keys must not overlap item keys");

// Scalars are cheap to copy and nearly every pack reads them: set them up
// front, so reading one is a plain table hit instead of a metamethod call.
constexpr Field kEagerFields[] = {
    Field::kFirstName,
    Field::kKnown,
    Field::kLoggedIn,
    Field::kCurrency,
    Field::kNow,
    Field::kVisits,
    Field::kFirstSeen,
    Field::kLastSeen,
    Field::kOrdersCount,
    Field::kLastOrderAt,
    Field::kTotalSpent,
    Field::kDaysSinceLastOrder,
    Field::kDaysSinceFirstSeen,
    Field::kHoursSinceLastPurchase,
    Field::kCartCount,
    Field::kCartValue,
    Field::kTopCategory,
    Field::kPoints,
    Field::kTier,
};

constexpr size_t kEagerCount = sizeof(kEagerFields) / sizeof(kEagerFields[0]);

const char* field_name(Field field) {
    for (const auto& f : kFields) {
        if (f.field == field) {
            return f.name;
        }
    }
    return "";
}

// __index(view, key): upvalue 1 is the Context, 2 the field map, 3 the keys.
int view_index(lua_State* L) {
    auto* ctx = static_cast<LuaVisitorView::Context*>(lua_touserdata(L, lua_upvalueindex(1)));
    if (ctx->table == nullptr || lua_topointer(L, 1) != ctx->table) {
        return luaL_error(L, "visitor view used outside its evaluation");
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(2));
    if (!lua_isnumber(L, -1)) {
        const char* key = lua_isstring(L, 2) ? lua_tostring(L, 2) : luaL_typename(L, 2);
        return luaL_error(L, "unknown visitor field '%s'", key);
    }
    auto field = static_cast<Field>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    push_field(Builder{L, lua_upvalueindex(3)}, field, *ctx->profile, *ctx->facts);
    // Cache it: the next read is a plain table hit.
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);
    return 1;
}

int view_newindex(lua_State* L) {
    return luaL_error(L, "the visitor view is read-only");
}

}  // namespace

bool LuaVisitorView::install(lua_State* L) noexcept {
    struct Install {
        static int run(lua_State* S) {
            auto* self = static_cast<LuaVisitorView*>(lua_touserdata(S, 1));
            lua_createtable(S, kFieldKeyBase + 40, 0);  // the keys
            for (int k = 1; k < kKeyCount; ++k) {
                lua_pushstring(S, kKeyNames[k]);
                lua_rawseti(S, -2, k);
            }
            for (const auto& f : kFields) {
                lua_pushstring(S, f.name);
                lua_rawseti(S, -2, kFieldKeyBase + static_cast<int>(f.field));
            }
            lua_pushvalue(S, -1);
            self->keys_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            int keys = lua_gettop(S);
            lua_createtable(S, 0, 3);  // the metatable
            lua_pushlightuserdata(S, &self->context_);
            lua_createtable(S, 0, static_cast<int>(sizeof(kFields) / sizeof(kFields[0])));
            for (const auto& f : kFields) {
                lua_pushinteger(S, static_cast<lua_Integer>(f.field));
                lua_setfield(S, -2, f.name);
            }
            lua_pushvalue(S, keys);
            lua_pushcclosure(S, view_index, 3);
            lua_setfield(S, -2, "__index");
            lua_pushcfunction(S, view_newindex);
            lua_setfield(S, -2, "__newindex");
            lua_pushliteral(S, "tailor.view");
            lua_setfield(S, -2, "__metatable");
            self->metatable_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            const auto* chunk = static_cast<const std::string*>(lua_touserdata(S, 2));
            if (luaL_loadbuffer(S, chunk->data(), chunk->size(), "=tailor.view") != 0) {
                return lua_error(S);
            }
            lua_getglobal(S, "setmetatable");
            lua_rawgeti(S, LUA_REGISTRYINDEX, self->metatable_ref_);
            lua_call(S, 2, 1);
            self->make_ref_ = luaL_ref(S, LUA_REGISTRYINDEX);
            return 0;
        }
    };
    // The constructor: a table constructor with every eager key present (one
    // table copy, then stores into existing slots, where a lua_rawset per
    // field from C hashed a new key each time; a nil value still reads
    // through __index), then the metatable.
    std::string chunk;
    try {
        chunk = "local setmetatable, mt = ...\nreturn function(";
        std::string body = "  local v = {";
        std::string stores;
        for (size_t i = 0; i < kEagerCount; ++i) {
            std::string arg = "a" + std::to_string(i);
            std::string name = field_name(kEagerFields[i]);
            chunk += (i == 0 ? "" : ", ") + arg;
            body += " " + name + " = false,";
            stores += "  v." + name + " = " + arg + "\n";
        }
        chunk += ")\n" + body + " }\n" + stores + "  return setmetatable(v, mt)\nend\n";
    } catch (const std::exception&) {
        return false;
    }
    lua_pushcfunction(L, &Install::run);
    lua_pushlightuserdata(L, this);
    lua_pushlightuserdata(L, &chunk);
    if (lua_pcall(L, 2, 0, 0) != 0) {
        lua_pop(L, 1);
        return false;
    }
    return true;
}

bool LuaVisitorView::is_field(std::string_view name) noexcept {
    for (const auto& f : kFields) {
        if (name == f.name) {
            return true;
        }
    }
    return false;
}

void LuaVisitorView::push(lua_State* L, const Profile& profile, const RequestFacts& facts) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, make_ref_);
    // Scalars only: push_field never reads the keys table for them.
    Builder b{L, 0};
    for (Field field : kEagerFields) {
        push_field(b, field, profile, facts);
    }
    lua_call(L, static_cast<int>(kEagerCount), 1);
    context_.profile = &profile;
    context_.facts = &facts;
    context_.table = lua_topointer(L, -1);
    // What rules get is an empty proxy reading through to the fields table:
    // the eager fields are plain keys there, which __newindex would not
    // guard, so `v.first_name = ...` reaches the proxy's __newindex instead.
    // Its metatable is per view, so a stashed old view never reads through
    // to a later visitor's fields.
    int fields = lua_gettop(L);
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, fields);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, view_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "tailor.view");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_remove(L, fields);
    context_.proxy = lua_topointer(L, -1);
}

const Profile* LuaVisitorView::profile_of(lua_State* L, int idx) const noexcept {
    if (context_.proxy == nullptr || lua_topointer(L, idx) != context_.proxy) {
        return nullptr;
    }
    return context_.profile;
}

void LuaVisitorView::invalidate() noexcept {
    context_.profile = nullptr;
    context_.facts = nullptr;
    context_.table = nullptr;
    context_.proxy = nullptr;
}

}  // namespace tailor
