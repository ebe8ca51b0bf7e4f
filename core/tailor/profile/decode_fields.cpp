// ProfileDecode's field readers: the shop's and the live blob's keys, read straight from the bytes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

#include "tailor/profile/decode_cursor.h"

namespace tailor {
namespace profile_detail {
namespace {

// Whether key `k` is `name`: a compare of a known length, which compilers
// inline (string_view's == calls memcmp).
template <size_t N>
[[gnu::always_inline]] inline bool is(std::string_view k, const char (&name)[N]) noexcept {
    return k.size() == N - 1 && std::memcmp(k.data(), name, N - 1) == 0;
}

// Top-level values sit at level 2 (the top map is 1).
constexpr size_t kTop = 2;

// Element readers: `n` pairs at `level`; the list drops an element without
// a sku. Keys are told apart by length first (a jump, not a chain of
// compares): most of a profile is these elements' keys.
bool parse_purchase(Cursor& c, uint64_t n, size_t level, Purchase* p) {
    for (uint64_t i = 0; i < n; ++i) {
        std::string_view k;
        if (!c.key(level, &k)) {
            return false;
        }
        bool ok = false;
        switch (k.size()) {
            case 2:
                ok = is(k, "at") ? c.time(level, &p->at) : c.unknown(level);
                break;
            case 3:
                ok = is(k, "sku")   ? c.text(level, &p->sku)
                     : is(k, "qty") ? c.integer(level, 1, kMaxQuantity, &p->qty)
                                    : c.unknown(level);
                break;
            case 5:
                ok = is(k, "price") ? c.money(level, &p->price) : c.unknown(level);
                break;
            case 8:
                ok = is(k, "category") ? c.text(level, &p->category) : c.unknown(level);
                break;
            case 10:
                ok = is(k, "cycle_days") ? c.integer(level, 0, kMaxCycleDays, &p->cycle_days)
                                         : c.unknown(level);
                break;
            default:
                ok = c.unknown(level);
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool parse_viewed(Cursor& c, uint64_t n, size_t level, ViewedItem* item) {
    for (uint64_t i = 0; i < n; ++i) {
        std::string_view k;
        if (!c.key(level, &k)) {
            return false;
        }
        bool ok = false;
        switch (k.size()) {
            case 2:
                ok = is(k, "at") ? c.time(level, &item->at) : c.unknown(level);
                break;
            case 3:
                ok = is(k, "sku") ? c.text(level, &item->sku) : c.unknown(level);
                break;
            case 5:
                ok = is(k, "price") ? c.money(level, &item->price) : c.unknown(level);
                break;
            case 8:
                ok = is(k, "category") ? c.text(level, &item->category) : c.unknown(level);
                break;
            default:
                ok = c.unknown(level);
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool parse_cart_line(Cursor& c, uint64_t n, size_t level, CartLine* line) {
    for (uint64_t i = 0; i < n; ++i) {
        std::string_view k;
        if (!c.key(level, &k)) {
            return false;
        }
        bool ok = false;
        switch (k.size()) {
            case 3:
                ok = is(k, "sku")   ? c.text(level, &line->sku)
                     : is(k, "qty") ? c.integer(level, 1, kMaxQuantity, &line->qty)
                                    : c.unknown(level);
                break;
            case 5:
                ok = is(k, "price") ? c.money(level, &line->price) : c.unknown(level);
                break;
            case 8:
                ok = is(k, "added_at") ? c.time(level, &line->added_at) : c.unknown(level);
                break;
            default:
                ok = c.unknown(level);
        }
        if (!ok) {
            return false;
        }
    }
    return true;
}

bool read_purchases(Cursor& c, std::vector<Purchase>* out) {
    return c.list(kTop, kMaxPurchases, out, [&c](uint64_t n, size_t level, Purchase* item) {
        return parse_purchase(c, n, level, item);
    });
}

// Reads a key both blobs share; *known is false (nothing read) if `k` is
// not one of them.
bool read_shared(Cursor& c, std::string_view k, SharedParts* s, bool* known) {
    *known = true;
    if (is(k, "viewed")) {
        return c.list(kTop, kMaxViewed, &s->viewed,
                      [&c](uint64_t n, size_t level, ViewedItem* item) {
                          return parse_viewed(c, n, level, item);
                      });
    }
    if (is(k, "cart")) {
        return c.list(
            kTop, kMaxCartLines, &s->cart,
            [&c](uint64_t n, size_t level, CartLine* line) {
                return parse_cart_line(c, n, level, line);
            },
            &s->has_cart);
    }
    if (is(k, "cart_at")) {
        return c.time(kTop, &s->cart_at);
    }
    if (is(k, "first_seen")) {
        return c.time(kTop, &s->first_seen);
    }
    *known = false;
    return true;
}

bool read_affinities(Cursor& c, std::vector<Affinity>* out) {
    MsgpackHead h;
    if (!c.head(&h)) {
        return false;
    }
    if (h.type != MsgpackType::kMap) {
        return c.wrong(h, kTop);
    }
    out->clear();
    out->reserve(std::min<size_t>(static_cast<size_t>(h.u), kMaxAffinities));
    return c.pairs(h, kTop, [&c, out](std::string_view category) {
        MsgpackHead v;
        if (!c.head(&v)) {
            return false;
        }
        double s = 0;
        if (category.empty() || !Cursor::number(v, &s)) {
            c.count_wrong_type();
            return c.skip(v, kTop + 1);
        }
        for (Affinity& a : *out) {
            if (same_text(a.category, category)) {
                a.score = s;  // a key given twice: the last one counts
                return true;
            }
        }
        if (out->size() == kMaxAffinities) {
            c.count_over_limit();
            return true;
        }
        out->push_back(Affinity{category, s});
        return true;
    });
}

bool read_attributes(Cursor& c, std::vector<Attribute>* out) {
    MsgpackHead h;
    if (!c.head(&h)) {
        return false;
    }
    if (h.type != MsgpackType::kMap) {
        return c.wrong(h, kTop);
    }
    out->clear();
    out->reserve(std::min<size_t>(static_cast<size_t>(h.u), kMaxAttributes));
    return c.pairs(h, kTop, [&c, out](std::string_view name) {
        MsgpackHead v;
        if (!c.head(&v)) {
            return false;
        }
        Attribute a;
        a.name = name;
        if (v.type == MsgpackType::kStr) {
            a.type = AttributeType::kString;
            if (!c.payload(v, &a.text)) {
                return false;
            }
        } else if (v.type == MsgpackType::kBool) {
            a.type = AttributeType::kBool;
            a.boolean = v.u != 0;
        } else if (Cursor::number(v, &a.number)) {
            a.type = AttributeType::kNumber;
        } else {
            c.count_wrong_type();
            return c.skip(v, kTop + 1);
        }
        if (name.empty()) {
            c.count_wrong_type();
            return true;
        }
        for (Attribute& existing : *out) {
            if (same_text(existing.name, name)) {
                existing = a;
                return true;
            }
        }
        if (out->size() == kMaxAttributes) {
            c.count_over_limit();
            return true;
        }
        out->push_back(a);
        return true;
    });
}

bool read_loyalty(Cursor& c, Loyalty* l) {
    return c.each_pair(kTop, [&c, l](std::string_view k) {
        if (is(k, "points")) {
            return c.integer(kTop + 1, std::numeric_limits<int64_t>::min(), kMaxCount, &l->points);
        }
        if (is(k, "tier")) {
            return c.text(kTop + 1, &l->tier);
        }
        if (is(k, "points_expire_at")) {
            return c.time(kTop + 1, &l->points_expire_at);
        }
        return c.unknown(kTop + 1);
    });
}

bool read_flags(Cursor& c, Suppression* f) {
    return c.each_pair(kTop, [&c, f](std::string_view k) {
        if (is(k, "open_return")) {
            return c.flag(kTop + 1, &f->open_return);
        }
        if (is(k, "open_complaint")) {
            return c.flag(kTop + 1, &f->open_complaint);
        }
        if (is(k, "unsubscribed")) {
            return c.flag(kTop + 1, &f->unsubscribed);
        }
        return c.unknown(kTop + 1);
    });
}

bool read_consent(Cursor& c, ProfileConsent* consent) {
    return c.each_pair(kTop, [&c, consent](std::string_view k) {
        if (is(k, "personalization")) {
            return c.consent(kTop + 1, &consent->personalization);
        }
        if (is(k, "email")) {
            return c.consent(kTop + 1, &consent->email);
        }
        if (is(k, "sms")) {
            return c.consent(kTop + 1, &consent->sms);
        }
        return c.unknown(kTop + 1);
    });
}

bool read_acquisition(Cursor& c, Acquisition* a) {
    return c.each_pair(kTop, [&c, a](std::string_view k) {
        if (is(k, "source")) {
            return c.text(kTop + 1, &a->source);
        }
        if (is(k, "medium")) {
            return c.text(kTop + 1, &a->medium);
        }
        if (is(k, "campaign")) {
            return c.text(kTop + 1, &a->campaign);
        }
        if (is(k, "referrer")) {
            return c.text(kTop + 1, &a->referrer);
        }
        if (is(k, "at")) {
            return c.time(kTop + 1, &a->at);
        }
        return c.unknown(kTop + 1);
    });
}

}  // namespace

bool read_shop_pair(Cursor& c, std::string_view k, Profile* p, SharedParts* s) {
    if (k.empty()) {  // garbage, mostly: no chain of compares for it
        return c.unknown(kTop);
    }
    if (is(k, "v")) {
        return c.version(kTop);
    }
    bool known = false;
    const bool ok = read_shared(c, k, s, &known);
    if (!ok || known) {
        return ok;
    }
    if (is(k, "first_name")) {
        return c.text(kTop, &p->first_name);
    }
    if (is(k, "currency")) {
        return c.text(kTop, &p->currency);
    }
    if (is(k, "orders_count")) {
        return c.count(kTop, &p->orders_count);
    }
    if (is(k, "last_order_at")) {
        return c.time(kTop, &p->last_order_at);
    }
    if (is(k, "total_spent")) {
        return c.money(kTop, &p->total_spent);
    }
    if (is(k, "affinity")) {
        return read_affinities(c, &p->affinities);
    }
    if (is(k, "purchases")) {
        return read_purchases(c, &p->purchases);
    }
    if (is(k, "loyalty")) {
        return read_loyalty(c, &p->loyalty);
    }
    if (is(k, "flags")) {
        return read_flags(c, &p->flags);
    }
    if (is(k, "consent")) {
        return read_consent(c, &p->consent);
    }
    if (is(k, "attrs")) {
        return read_attributes(c, &p->attributes);
    }
    return c.unknown(kTop);
}

bool read_live_pair(Cursor& c, std::string_view k, LiveParts* live) {
    if (k.empty()) {
        return c.unknown(kTop);
    }
    if (is(k, "v")) {
        return c.version(kTop);
    }
    bool known = false;
    const bool ok = read_shared(c, k, &live->shared, &known);
    if (!ok || known) {
        return ok;
    }
    if (is(k, "visits")) {
        return c.count(kTop, &live->visits);
    }
    if (is(k, "last_seen")) {
        return c.time(kTop, &live->last_seen);
    }
    if (is(k, "last_order_at")) {
        return c.time(kTop, &live->last_order_at);
    }
    if (is(k, "purchased")) {
        return read_purchases(c, &live->purchased);
    }
    if (is(k, "acquisition")) {
        return read_acquisition(c, &live->acquisition);
    }
    return c.unknown(kTop);
}

}  // namespace profile_detail
}  // namespace tailor
