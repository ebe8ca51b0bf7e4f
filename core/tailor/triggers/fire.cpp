#include "tailor/triggers/fire.h"

#include <algorithm>
#include <cmath>

namespace tailor {

namespace {

RecordProperty text_prop(std::string name, std::string text) {
    RecordProperty p;
    p.name = std::move(name);
    p.text = std::move(text);
    return p;
}

RecordProperty number_prop(std::string name, double number) {
    RecordProperty p;
    p.kind = RecordProperty::Kind::kNumber;
    p.name = std::move(name);
    p.number = number;
    return p;
}

RecordProperty list_prop(std::string name, std::vector<std::string> list) {
    RecordProperty p;
    p.kind = RecordProperty::Kind::kList;
    p.name = std::move(name);
    p.list = std::move(list);
    return p;
}

// One trigger that is due, before the rules that may suppress it.
struct Candidate {
    TriggerKind kind;
    int64_t anchor;  // the activity time the trigger is about
    int64_t due;
    std::vector<std::string> products;
    std::string id_suffix;  // distinguishes per-product triggers
    std::vector<RecordProperty> properties;
    bool order_suppresses = false;
};

class Decider {
  public:
    Decider(std::vector<int64_t>* sent, const FireContext& ctx, const TriggerConfig& config,
            int64_t now)
        : sent_(sent), ctx_(ctx), config_(config), now_(now) {
        sent_->erase(std::remove_if(sent_->begin(), sent_->end(),
                                    [&](int64_t t) { return t <= now_ - 7 * kMsPerDay; }),
                     sent_->end());
    }

    // The reason the candidate may not fire, or "" when it fires.
    std::string rule(const Candidate& c, const TriggerState& st) const {
        if (now_ - c.due > config_.stale_after_ms) {
            return "stale";
        }
        if (st.bot || ctx_.linked_bot) {
            return "bot";
        }
        if (c.order_suppresses && std::max(ctx_.linked_order_at, st.order_at) >= c.anchor) {
            return "ordered";
        }
        if (c.kind == TriggerKind::kBrowseAbandonment && !st.cart.empty() &&
            st.cart_at >= c.anchor) {
            return "in_cart";  // the cart abandonment speaks for it
        }
        if (c.kind == TriggerKind::kPriceDrop &&
            std::find(ctx_.purchased.begin(), ctx_.purchased.end(), c.products[0]) !=
                ctx_.purchased.end()) {
            return "purchased";
        }
        if (ctx_.excluded) {
            return "excluded";
        }
        if (ctx_.email_consent == ConsentFlag::kDenied ||
            (config_.require_email_consent && ctx_.email_consent != ConsentFlag::kGranted)) {
            return "no_consent";
        }
        int day = 0;
        int week = 0;
        for (int64_t t : *sent_) {
            week++;
            if (t > now_ - kMsPerDay) {
                day++;
            }
        }
        if (day >= config_.cap_per_day || week >= config_.cap_per_week) {
            return "capped";
        }
        return {};
    }

    void decide(Candidate c, const TriggerState& st, FireDecision* out) {
        std::string reason = rule(c, st);
        if (!reason.empty()) {
            out->suppressed.push_back({c.kind, std::move(reason)});
            return;
        }
        sent_->push_back(now_);
        if (sent_->size() > kMaxSentTimes) {
            sent_->erase(sent_->begin());
        }
        TriggerRecord r;
        r.kind = c.kind;
        r.vid = ctx_.vid;
        r.customer_id = ctx_.customer_id;
        r.anchor_ms = c.anchor;
        r.ts_ms = now_;
        r.id = ctx_.vid + "/" + std::string(trigger_kind_name(c.kind)) + "/" +
               std::to_string(c.anchor) + c.id_suffix;
        r.products = c.products;
        r.properties.push_back(text_prop("trigger_id", r.id));
        if (!c.products.empty()) {
            r.properties.push_back(text_prop("ProductID", c.products[0]));
            r.properties.push_back(list_prop("products", c.products));
        }
        for (auto& p : c.properties) {
            r.properties.push_back(std::move(p));
        }
        out->records.push_back(std::move(r));
    }

  private:
    std::vector<int64_t>* sent_;
    const FireContext& ctx_;
    const TriggerConfig& config_;
    int64_t now_;
};

}  // namespace

std::string_view trigger_kind_name(TriggerKind kind) noexcept {
    switch (kind) {
        case TriggerKind::kCartAbandonment:
            return "cart_abandonment";
        case TriggerKind::kBrowseAbandonment:
            return "browse_abandonment";
        case TriggerKind::kPriceDrop:
            return "price_drop";
        case TriggerKind::kReplenishmentDue:
            return "replenishment_due";
        case TriggerKind::kWinBack:
            return "win_back";
    }
    return "cart_abandonment";
}

std::string_view trigger_klaviyo_metric(TriggerKind kind) noexcept {
    switch (kind) {
        case TriggerKind::kCartAbandonment:
            return "Tailor Abandoned Cart";
        case TriggerKind::kBrowseAbandonment:
            return "Tailor Abandoned Browse";
        case TriggerKind::kPriceDrop:
            return "Tailor Price Drop";
        case TriggerKind::kReplenishmentDue:
            return "Tailor Replenishment Due";
        case TriggerKind::kWinBack:
            return "Tailor Win Back";
    }
    return "Tailor Abandoned Cart";
}

void add_profile_facts(const Profile& profile, FireContext* ctx) {
    if (profile.flags.any()) {
        ctx->excluded = true;
    }
    if (profile.consent.email == ConsentFlag::kDenied) {
        ctx->email_consent = ConsentFlag::kDenied;
    } else if (profile.consent.email == ConsentFlag::kGranted &&
               ctx->email_consent == ConsentFlag::kUnknown) {
        ctx->email_consent = ConsentFlag::kGranted;
    }
    ctx->linked_order_at = std::max(ctx->linked_order_at, profile.last_order_at * kMsPerSecond);
    for (const Purchase& p : profile.purchases) {
        std::string sku(p.sku);
        ctx->linked_order_at = std::max(ctx->linked_order_at, p.at * kMsPerSecond);
        if (std::find(ctx->purchased.begin(), ctx->purchased.end(), sku) == ctx->purchased.end()) {
            ctx->purchased.push_back(sku);
        }
        if (p.cycle_days <= 0) {
            continue;
        }
        std::optional<int64_t> due = profile.replenish_due_at(p.sku);
        if (!due) {
            continue;
        }
        auto it = std::find_if(ctx->replenish_due.begin(), ctx->replenish_due.end(),
                               [&](const auto& d) { return d.first == sku; });
        if (it == ctx->replenish_due.end()) {
            ctx->replenish_due.emplace_back(sku, *due * kMsPerSecond);
        } else {
            it->second = std::max(it->second, *due * kMsPerSecond);
        }
    }
}

FireDecision decide_triggers(TriggerState* st, std::vector<int64_t>* sent, const FireContext& ctx,
                             const TriggerConfig& config, int64_t now) {
    FireDecision out;
    Decider d(sent, ctx, config, now);

    if (config.cart && !st->cart.empty() && st->cart_at > st->cart_fired &&
        st->cart_at + config.cart_delay_ms <= now) {
        Candidate c{TriggerKind::kCartAbandonment,
                    st->cart_at,
                    st->cart_at + config.cart_delay_ms,
                    st->cart,
                    "",
                    {},
                    true};
        c.properties.push_back(number_prop("abandoned_at_ms", static_cast<double>(st->cart_at)));
        st->cart_fired = st->cart_at;
        d.decide(std::move(c), *st, &out);
    }
    if (config.browse && !st->browse.empty() && st->browse_at > st->browse_fired &&
        st->browse_at + config.browse_delay_ms <= now) {
        Candidate c{TriggerKind::kBrowseAbandonment,
                    st->browse_at,
                    st->browse_at + config.browse_delay_ms,
                    st->browse,
                    "",
                    {},
                    true};
        c.properties.push_back(number_prop("viewed_at_ms", static_cast<double>(st->browse_at)));
        st->browse_fired = st->browse_at;
        d.decide(std::move(c), *st, &out);
    }
    if (config.price_drop) {
        for (auto it = st->watches.begin(); it != st->watches.end();) {
            PriceWatch& w = it->second;
            if (w.viewed_at + config.price_watch_ms <= now) {
                it = st->watches.erase(it);  // watched long enough
                continue;
            }
            auto price = ctx.catalog_prices.find(it->first);
            double limit =
                (w.fired_price > 0 ? w.fired_price : w.viewed_price) * (1 - config.price_drop_min);
            if (price != ctx.catalog_prices.end() && price->second > 0 &&
                price->second <= limit + 1e-9) {
                Candidate c{
                    TriggerKind::kPriceDrop,
                    w.viewed_at,
                    now,
                    {it->first},
                    "/" + it->first + "/" + std::to_string(std::llround(price->second * 100)),
                    {},
                    false};
                c.properties.push_back(number_prop("viewed_price", w.viewed_price));
                c.properties.push_back(number_prop("price", price->second));
                c.properties.push_back(number_prop(
                    "drop_percent", std::round(1000 * (1 - price->second / w.viewed_price)) / 10));
                w.fired_price = price->second;
                d.decide(std::move(c), *st, &out);
            }
            ++it;
        }
    }
    if (config.replenishment) {
        st->replenish_next = 0;
        for (const auto& [sku, due] : ctx.replenish_due) {
            int64_t at = due - config.replenish_lead_ms;
            auto fired = st->replenish_fired.find(sku);
            if (fired != st->replenish_fired.end() && fired->second >= due) {
                continue;
            }
            if (at > now) {
                if (st->replenish_next == 0 || at < st->replenish_next) {
                    st->replenish_next = at;
                }
                continue;
            }
            Candidate c{TriggerKind::kReplenishmentDue, due, at, {sku}, "/" + sku, {}, false};
            c.properties.push_back(number_prop("due_at_ms", static_cast<double>(due)));
            st->replenish_fired[sku] = due;
            d.decide(std::move(c), *st, &out);
        }
    }
    int64_t last_order = std::max(ctx.linked_order_at, st->order_at);
    if (config.winback && last_order > 0 && last_order > st->winback_fired &&
        last_order + config.winback_after_ms <= now) {
        Candidate c{TriggerKind::kWinBack,
                    last_order,
                    last_order + config.winback_after_ms,
                    {},
                    "",
                    {},
                    false};
        c.properties.push_back(number_prop("last_order_at_ms", static_cast<double>(last_order)));
        c.properties.push_back(
            number_prop("days_since_order", static_cast<double>((now - last_order) / kMsPerDay)));
        st->winback_fired = last_order;
        d.decide(std::move(c), *st, &out);
    }
    return out;
}

}  // namespace tailor
