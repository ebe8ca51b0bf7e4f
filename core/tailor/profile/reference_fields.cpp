// ProfileReference, step 3: both blobs' fields over msgpack-c's tree (reference_decode.h).
#include <msgpack.h>

#include <string_view>

#include "tailor/profile/reference_reader.h"

namespace tailor {
namespace msgpackc_reference {
namespace {

// Element parsers: false (element skipped) when the element has no sku.
bool parse_purchase(Reader& rd, const msgpack_object_map& m, Purchase* p) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "sku") {
            rd.text(v, &p->sku);
        } else if (k == "category") {
            rd.text(v, &p->category);
        } else if (k == "at") {
            rd.time(v, &p->at);
        } else if (k == "qty") {
            rd.integer(v, 1, kMaxQuantity, &p->qty);
        } else if (k == "cycle_days") {
            rd.integer(v, 0, kMaxCycleDays, &p->cycle_days);
        } else if (k == "price") {
            rd.money(v, &p->price);
        } else {
            rd.count_unknown();
        }
    }
    return !p->sku.empty();
}

bool parse_viewed(Reader& rd, const msgpack_object_map& m, ViewedItem* item) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "sku") {
            rd.text(v, &item->sku);
        } else if (k == "category") {
            rd.text(v, &item->category);
        } else if (k == "at") {
            rd.time(v, &item->at);
        } else if (k == "price") {
            rd.money(v, &item->price);
        } else {
            rd.count_unknown();
        }
    }
    return !item->sku.empty();
}

bool parse_cart_line(Reader& rd, const msgpack_object_map& m, CartLine* line) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "sku") {
            rd.text(v, &line->sku);
        } else if (k == "qty") {
            rd.integer(v, 1, kMaxQuantity, &line->qty);
        } else if (k == "added_at") {
            rd.time(v, &line->added_at);
        } else if (k == "price") {
            rd.money(v, &line->price);
        } else {
            rd.count_unknown();
        }
    }
    return !line->sku.empty();
}

// Reads a key both blobs share; false if `k` is not one of them.
bool read_shared(Reader& rd, std::string_view k, const msgpack_object& v, SharedParts* s) {
    if (k == "viewed") {
        rd.list(v, kMaxViewed, &s->viewed, [&rd](const msgpack_object_map& m, ViewedItem* item) {
            return parse_viewed(rd, m, item);
        });
    } else if (k == "cart") {
        if (v.type == MSGPACK_OBJECT_ARRAY) {
            s->has_cart = true;
        }
        rd.list(v, kMaxCartLines, &s->cart, [&rd](const msgpack_object_map& m, CartLine* line) {
            return parse_cart_line(rd, m, line);
        });
    } else if (k == "cart_at") {
        rd.time(v, &s->cart_at);
    } else if (k == "first_seen") {
        rd.time(v, &s->first_seen);
    } else {
        return false;
    }
    return true;
}

void read_affinities(Reader& rd, const msgpack_object& v, std::vector<Affinity>* out) {
    if (v.type == MSGPACK_OBJECT_MAP) {
        out->clear();
        out->reserve(std::min<size_t>(v.via.map.size, kMaxAffinities));
    }
    rd.each_pair(v, [&](std::string_view category, const msgpack_object& score) {
        double s = 0;
        if (category.empty() || !rd.number(score, &s)) {
            rd.count_wrong_type();
            return;
        }
        for (Affinity& a : *out) {
            if (a.category == category) {
                a.score = s;  // a key given twice: the last one counts
                return;
            }
        }
        if (out->size() == kMaxAffinities) {
            rd.count_over_limit();
            return;
        }
        out->push_back(Affinity{category, s});
    });
}

void read_attributes(Reader& rd, const msgpack_object& v, std::vector<Attribute>* out) {
    if (v.type == MSGPACK_OBJECT_MAP) {
        out->clear();
        out->reserve(std::min<size_t>(v.via.map.size, kMaxAttributes));
    }
    rd.each_pair(v, [&](std::string_view name, const msgpack_object& value) {
        Attribute a;
        a.name = name;
        if (value.type == MSGPACK_OBJECT_STR) {
            a.type = AttributeType::kString;
            a.text = as_view(value.via.str);
        } else if (value.type == MSGPACK_OBJECT_BOOLEAN) {
            a.type = AttributeType::kBool;
            a.boolean = value.via.boolean;
        } else if (rd.number(value, &a.number)) {
            a.type = AttributeType::kNumber;
        } else {
            rd.count_wrong_type();
            return;
        }
        if (name.empty()) {
            rd.count_wrong_type();
            return;
        }
        for (Attribute& existing : *out) {
            if (existing.name == name) {
                existing = a;
                return;
            }
        }
        if (out->size() == kMaxAttributes) {
            rd.count_over_limit();
            return;
        }
        out->push_back(a);
    });
}

}  // namespace

void read_shop(Reader& rd, const msgpack_object_map& m, Profile* p, SharedParts* s) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "v") {
            int64_t ignored = 0;
            rd.integer(v, 1, kProfileSchemaVersion, &ignored);  // checked in open()
        } else if (read_shared(rd, k, v, s)) {
            // done
        } else if (k == "first_name") {
            rd.text(v, &p->first_name);
        } else if (k == "currency") {
            rd.text(v, &p->currency);
        } else if (k == "orders_count") {
            rd.count(v, &p->orders_count);
        } else if (k == "last_order_at") {
            rd.time(v, &p->last_order_at);
        } else if (k == "total_spent") {
            rd.money(v, &p->total_spent);
        } else if (k == "affinity") {
            read_affinities(rd, v, &p->affinities);
        } else if (k == "purchases") {
            rd.list(v, kMaxPurchases, &p->purchases,
                    [&rd](const msgpack_object_map& e, Purchase* item) {
                        return parse_purchase(rd, e, item);
                    });
        } else if (k == "loyalty") {
            rd.each_pair(v, [&](std::string_view lk, const msgpack_object& lv) {
                if (lk == "points") {
                    rd.integer(lv, std::numeric_limits<int64_t>::min(), kMaxCount,
                               &p->loyalty.points);
                } else if (lk == "tier") {
                    rd.text(lv, &p->loyalty.tier);
                } else if (lk == "points_expire_at") {
                    rd.time(lv, &p->loyalty.points_expire_at);
                } else {
                    rd.count_unknown();
                }
            });
        } else if (k == "flags") {
            rd.each_pair(v, [&](std::string_view fk, const msgpack_object& fv) {
                if (fk == "open_return") {
                    rd.flag(fv, &p->flags.open_return);
                } else if (fk == "open_complaint") {
                    rd.flag(fv, &p->flags.open_complaint);
                } else if (fk == "unsubscribed") {
                    rd.flag(fv, &p->flags.unsubscribed);
                } else {
                    rd.count_unknown();
                }
            });
        } else if (k == "consent") {
            rd.each_pair(v, [&](std::string_view ck, const msgpack_object& cv) {
                if (ck == "personalization") {
                    rd.consent(cv, &p->consent.personalization);
                } else if (ck == "email") {
                    rd.consent(cv, &p->consent.email);
                } else if (ck == "sms") {
                    rd.consent(cv, &p->consent.sms);
                } else {
                    rd.count_unknown();
                }
            });
        } else if (k == "attrs") {
            read_attributes(rd, v, &p->attributes);
        } else {
            rd.count_unknown();
        }
    }
}

void read_live(Reader& rd, const msgpack_object_map& m, Profile* p, SharedParts* s) {
    for (uint32_t i = 0; i < m.size; ++i) {
        const std::string_view k = key_of(m.ptr[i]);
        const msgpack_object& v = m.ptr[i].val;
        if (k == "v") {
            int64_t ignored = 0;
            rd.integer(v, 1, kProfileSchemaVersion, &ignored);
        } else if (k == "rev") {
            // the live script's revision, for its writers only
        } else if (read_shared(rd, k, v, s)) {
            // done
        } else if (k == "visits") {
            rd.count(v, &p->visits);
        } else if (k == "last_seen") {
            rd.time(v, &p->last_seen);
        } else if (k == "last_order_at") {
            rd.time(v, &s->last_order_at);
        } else if (k == "purchased") {
            rd.list(v, kMaxPurchases, &s->purchased,
                    [&rd](const msgpack_object_map& e, Purchase* item) {
                        return parse_purchase(rd, e, item);
                    });
        } else if (k == "acquisition") {
            Acquisition& a = p->acquisition;
            rd.each_pair(v, [&](std::string_view ak, const msgpack_object& av) {
                if (ak == "source") {
                    rd.text(av, &a.source);
                } else if (ak == "medium") {
                    rd.text(av, &a.medium);
                } else if (ak == "campaign") {
                    rd.text(av, &a.campaign);
                } else if (ak == "referrer") {
                    rd.text(av, &a.referrer);
                } else if (ak == "at") {
                    rd.time(av, &a.at);
                } else {
                    rd.count_unknown();
                }
            });
        } else {
            rd.count_unknown();
        }
    }
}

}  // namespace msgpackc_reference
}  // namespace tailor
