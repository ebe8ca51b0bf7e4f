#include "tailor/triggers/apply.h"

#include <algorithm>

namespace tailor {

namespace {

void push_front_unique(std::vector<std::string>* list, const std::string& item, size_t cap) {
    list->erase(std::remove(list->begin(), list->end(), item), list->end());
    list->insert(list->begin(), item);
    if (list->size() > cap) {
        list->resize(cap);
    }
}

void watch_price(TriggerState* st, const std::string& sku, double price, int64_t at) {
    auto it = st->watches.find(sku);
    if (it != st->watches.end()) {
        if (at < it->second.viewed_at) {
            return;  // an older view arriving late
        }
        if (it->second.viewed_price != price) {
            it->second.fired_price = 0;  // a new price to watch from
        }
        it->second.viewed_price = price;
        it->second.viewed_at = at;
        return;
    }
    if (st->watches.size() >= kMaxPriceWatches) {
        auto oldest = std::min_element(
            st->watches.begin(), st->watches.end(),
            [](const auto& a, const auto& b) { return a.second.viewed_at < b.second.viewed_at; });
        st->watches.erase(oldest);
    }
    st->watches.emplace(sku, PriceWatch{price, at, 0});
}

}  // namespace

std::string trigger_product_id(const DecodedEvent& event) {
    for (const char* name : {"product_id", "ProductID", "sku"}) {
        const DecodedProperty* p = event.property(name);
        if (p != nullptr && !p->is_number && !p->text.empty()) {
            return p->text;
        }
    }
    return {};
}

ApplyOutcome apply_trigger_event(const DecodedEvent& event, TriggerState* st) {
    ApplyOutcome out;
    if (event.device == "bot") {
        st->bot = true;
        return out;
    }
    const int64_t ts = event.ts_ms;
    const std::string sku = trigger_product_id(event);
    switch (event.type) {
        case EventType::kIdentify:
            if (!event.previous_vid.empty() && event.previous_vid != event.vid) {
                if (std::find(st->from.begin(), st->from.end(), event.previous_vid) ==
                        st->from.end() &&
                    st->from.size() < kMaxLinkedIds) {
                    st->from.push_back(event.previous_vid);
                }
                out.link_prev = event.previous_vid;
            }
            break;
        case EventType::kProductViewed:
            if (sku.empty()) {
                break;
            }
            if (ts >= st->browse_at) {
                st->browse_at = ts;
                push_front_unique(&st->browse, sku, kMaxTriggerBrowseSkus);
            }
            if (const DecodedProperty* p = event.property("price"); p != nullptr && p->is_number) {
                double price = p->is_integer ? static_cast<double>(p->integer) : p->number;
                if (price > 0) {
                    watch_price(st, sku, price, ts);
                }
            }
            break;
        case EventType::kProductAdded:
            if (!sku.empty() && ts >= st->order_at) {
                push_front_unique(&st->cart, sku, kMaxTriggerCartSkus);
                st->cart_at = std::max(st->cart_at, ts);
            }
            break;
        case EventType::kProductRemoved:
            if (!sku.empty()) {
                st->cart.erase(std::remove(st->cart.begin(), st->cart.end(), sku), st->cart.end());
                st->cart_at = std::max(st->cart_at, ts);
            }
            break;
        case EventType::kCartViewed:
        case EventType::kCheckoutStarted:
            if (!st->cart.empty()) {
                st->cart_at = std::max(st->cart_at, ts);
            }
            break;
        case EventType::kOrderCompleted:
            st->order_at = std::max(st->order_at, ts);
            if (ts >= st->cart_at) {
                st->cart.clear();  // what was in the cart is what was bought
            }
            if (!sku.empty()) {
                st->watches.erase(sku);
            }
            // an order's products[] lines (the upstream's event header): no price drop for them
            for (const std::vector<DecodedProperty>& line : event.products) {
                for (const DecodedProperty& p : line) {
                    if ((p.name == "product_id" || p.name == "ProductID" || p.name == "sku") &&
                        !p.is_number) {
                        st->watches.erase(p.text);
                    }
                }
            }
            break;
        default:
            break;
    }
    return out;
}

std::optional<int64_t> next_trigger_check_ms(const TriggerState& st, const TriggerConfig& config,
                                             int64_t now, int64_t linked_order_at) {
    std::optional<int64_t> next;
    auto consider = [&](int64_t t) {
        if (!next || t < *next) {
            next = t;
        }
    };
    if (st.bot) {
        return std::nullopt;
    }
    if (config.cart && !st.cart.empty() && st.cart_at > st.cart_fired) {
        consider(st.cart_at + config.cart_delay_ms);
    }
    if (config.browse && !st.browse.empty() && st.browse_at > st.browse_fired) {
        consider(st.browse_at + config.browse_delay_ms);
    }
    if (config.price_drop && !st.watches.empty()) {
        consider(now + config.price_check_ms);
    }
    const int64_t last_order = std::max(st.order_at, linked_order_at);
    if (config.winback && last_order > st.winback_fired) {
        consider(last_order + config.winback_after_ms);
    }
    if (config.replenishment && st.order_at > 0 && now < st.order_at + kMsPerHour) {
        // the shop writes the order's purchases (with cycle_days) to the
        // profile after the order: look once it has had time to
        consider(st.order_at + kMsPerHour);
    }
    if (config.replenishment && st.replenish_next > 0) {
        consider(st.replenish_next);
    }
    return next;
}

}  // namespace tailor
