// ProfileDecode's field readers: the shop's and the live blob's keys, read straight from the bytes.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <vector>

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

// Element readers: one key of an element and its value at `level`; keys
// are told apart by length first (a jump, not a chain of compares): most of
// a profile is these elements' keys.
[[gnu::always_inline]] inline bool purchase_key(Cursor& c, std::string_view k, size_t level,
                                                Purchase* p) {
    switch (k.size()) {
        case 2:
            return is(k, "at") ? c.time(level, &p->at) : c.unknown(level);
        case 3:
            return is(k, "sku")   ? c.text(level, &p->sku)
                   : is(k, "qty") ? c.integer(level, 1, kMaxQuantity, &p->qty)
                                  : c.unknown(level);
        case 5:
            return is(k, "price") ? c.money(level, &p->price) : c.unknown(level);
        case 8:
            return is(k, "category") ? c.text(level, &p->category) : c.unknown(level);
        case 10:
            return is(k, "cycle_days") ? c.integer(level, 0, kMaxCycleDays, &p->cycle_days)
                                       : c.unknown(level);
        default:
            return c.unknown(level);
    }
}

[[gnu::always_inline]] inline bool viewed_key(Cursor& c, std::string_view k, size_t level,
                                              ViewedItem* item) {
    switch (k.size()) {
        case 2:
            return is(k, "at") ? c.time(level, &item->at) : c.unknown(level);
        case 3:
            return is(k, "sku") ? c.text(level, &item->sku) : c.unknown(level);
        case 5:
            return is(k, "price") ? c.money(level, &item->price) : c.unknown(level);
        case 8:
            return is(k, "category") ? c.text(level, &item->category) : c.unknown(level);
        default:
            return c.unknown(level);
    }
}

[[gnu::always_inline]] inline bool cart_line_key(Cursor& c, std::string_view k, size_t level,
                                                 CartLine* line) {
    switch (k.size()) {
        case 3:
            return is(k, "sku")   ? c.text(level, &line->sku)
                   : is(k, "qty") ? c.integer(level, 1, kMaxQuantity, &line->qty)
                                  : c.unknown(level);
        case 5:
            return is(k, "price") ? c.money(level, &line->price) : c.unknown(level);
        case 8:
            return is(k, "added_at") ? c.time(level, &line->added_at) : c.unknown(level);
        default:
            return c.unknown(level);
    }
}

// read_list: a list value at kTop of elements read key by key by ReadKey
// (Cursor::list drops an element without a sku, and counts past `cap`).
template <typename T, bool (*ReadKey)(Cursor&, std::string_view, size_t, T*)>
bool read_list(Cursor& c, size_t cap, std::vector<T>* out, bool* is_array = nullptr) {
    return c.list(
        kTop, cap, out,
        [&c](uint64_t n, size_t level, T* item) {
            for (uint64_t i = 0; i < n; ++i) {
                std::string_view k;
                if (!c.key(level, &k) || !ReadKey(c, k, level, item)) {
                    return false;
                }
            }
            return true;
        },
        is_array);
}

bool read_purchases(Cursor& c, std::vector<Purchase>* out) {
    return read_list<Purchase, purchase_key>(c, kMaxPurchases, out);
}

// Reads a key both blobs share; *known is false (nothing read) if `k` is
// not one of them.
bool read_shared(Cursor& c, std::string_view k, SharedParts* s, bool* known) {
    *known = true;
    if (is(k, "viewed")) {
        return read_list<ViewedItem, viewed_key>(c, kMaxViewed, &s->viewed);
    }
    if (is(k, "cart")) {
        return read_list<CartLine, cart_line_key>(c, kMaxCartLines, &s->cart, &s->has_cart);
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

// A name given twice: the last value counts. An affinity keeps the first
// key's bytes, an attribute takes the last's (as the reference decoder, which
// profile_fuzz holds this one to, view for view).
void replace(Affinity& existing, const Affinity& a) {
    existing.score = a.score;
}
void replace(Attribute& existing, const Attribute& a) {
    existing = a;
}

// What reading one entry of a named map did with it.
enum class Entry { kKeep, kDrop, kRefused };

// read_named: a map at kTop of name -> value into *out, at most `cap`
// entries (the rest counted); a name given twice keeps its last value.
// read(name, value head, &entry) reads one value: kKeep, kDrop (passed and
// counted) or kRefused (the blob is).
template <typename T, typename Read>
bool read_named(Cursor& c, std::vector<T>* out, std::string_view T::*name_of, size_t cap,
                Read&& read) {
    MsgpackHead h;
    if (!c.head(&h)) {
        return false;
    }
    if (h.type != MsgpackType::kMap) {
        return c.wrong(h, kTop);
    }
    out->clear();
    out->reserve(std::min<size_t>(static_cast<size_t>(h.u), cap));
    return c.pairs(h, kTop, [&c, out, name_of, cap, &read](std::string_view name) {
        MsgpackHead v;
        if (!c.head(&v)) {
            return false;
        }
        T entry;
        const Entry e = read(name, v, &entry);
        if (e != Entry::kKeep) {
            return e == Entry::kDrop;
        }
        for (T& existing : *out) {
            if (same_text(existing.*name_of, name)) {
                replace(existing, entry);
                return true;
            }
        }
        if (out->size() == cap) {
            c.count_over_limit();
            return true;
        }
        out->push_back(entry);
        return true;
    });
}

// A value of the wrong type in a named map: counted and passed.
Entry wrong_entry(Cursor& c, const MsgpackHead& v) {
    c.count_wrong_type();
    return c.skip(v, kTop + 1) ? Entry::kDrop : Entry::kRefused;
}

// The two named maps stay out of line: inlined into read_shop_pair, they
// made every top-level key dearer (callgrind, a typical profile).
[[gnu::noinline]] bool read_affinities(Cursor& c, std::vector<Affinity>* out) {
    return read_named(c, out, &Affinity::category, kMaxAffinities,
                      [&c](std::string_view category, const MsgpackHead& v, Affinity* a) {
                          a->category = category;
                          if (category.empty() || !Cursor::number(v, &a->score)) {
                              return wrong_entry(c, v);
                          }
                          return Entry::kKeep;
                      });
}

[[gnu::noinline]] bool read_attributes(Cursor& c, std::vector<Attribute>* out) {
    return read_named(c, out, &Attribute::name, kMaxAttributes,
                      [&c](std::string_view name, const MsgpackHead& v, Attribute* a) {
                          a->name = name;
                          if (v.type == MsgpackType::kStr) {
                              a->type = AttributeType::kString;
                              if (!c.payload(v, &a->text)) {
                                  return Entry::kRefused;
                              }
                          } else if (v.type == MsgpackType::kBool) {
                              a->type = AttributeType::kBool;
                              a->boolean = v.u != 0;
                          } else if (Cursor::number(v, &a->number)) {
                              a->type = AttributeType::kNumber;
                          } else {
                              return wrong_entry(c, v);
                          }
                          if (name.empty()) {
                              c.count_wrong_type();
                              return Entry::kDrop;
                          }
                          return Entry::kKeep;
                      });
}

// A key of a nested map and where its value goes, read at kTop + 1 by Read
// (a Cursor member, or a function taking the cursor first).
template <auto Read, size_t N, typename T>
struct Field {
    const char (&name)[N];
    T* out;

    [[nodiscard, gnu::always_inline]] bool read(Cursor& c) const {
        if constexpr (std::is_member_function_pointer_v<decltype(Read)>) {
            return (c.*Read)(kTop + 1, out);
        } else {
            return Read(c, kTop + 1, out);
        }
    }
};

template <auto Read, size_t N, typename T>
Field<Read, N, T> field(const char (&name)[N], T* out) {
    return {name, out};
}

// read_field: reads the value of key `k` of a nested map at kTop into the
// target of the field of that name; any other key is unknown. Inlined
// where the fields are spelled, so that each name is a constant.
template <typename... Fields>
[[gnu::always_inline]] inline bool read_field(Cursor& c, std::string_view k,
                                              const Fields&... fields) {
    bool ok = true;
    const bool known = ((is(k, fields.name) && ((ok = fields.read(c)), true)) || ...);
    return known ? ok : c.unknown(kTop + 1);
}

// Loyalty points: any integer up to kMaxCount, below zero too.
bool points(Cursor& c, size_t level, int64_t* out) {
    return c.integer(level, std::numeric_limits<int64_t>::min(), kMaxCount, out);
}

bool read_loyalty(Cursor& c, Loyalty* l) {
    return c.each_pair(kTop, [&c, l](std::string_view k) {
        return read_field(c, k, field<points>("points", &l->points),
                          field<&Cursor::text>("tier", &l->tier),
                          field<&Cursor::time>("points_expire_at", &l->points_expire_at));
    });
}

bool read_flags(Cursor& c, Suppression* f) {
    return c.each_pair(kTop, [&c, f](std::string_view k) {
        return read_field(c, k, field<&Cursor::flag>("open_return", &f->open_return),
                          field<&Cursor::flag>("open_complaint", &f->open_complaint),
                          field<&Cursor::flag>("unsubscribed", &f->unsubscribed));
    });
}

bool read_consent(Cursor& c, ProfileConsent* consent) {
    return c.each_pair(kTop, [&c, consent](std::string_view k) {
        return read_field(c, k,
                          field<&Cursor::consent>("personalization", &consent->personalization),
                          field<&Cursor::consent>("email", &consent->email),
                          field<&Cursor::consent>("sms", &consent->sms));
    });
}

bool read_acquisition(Cursor& c, Acquisition* a) {
    return c.each_pair(kTop, [&c, a](std::string_view k) {
        return read_field(c, k, field<&Cursor::text>("source", &a->source),
                          field<&Cursor::text>("medium", &a->medium),
                          field<&Cursor::text>("campaign", &a->campaign),
                          field<&Cursor::text>("referrer", &a->referrer),
                          field<&Cursor::time>("at", &a->at));
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
    if (is(k, "rev")) {
        return c.skip_value(kTop);  // the live script's revision, for its writers only
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
