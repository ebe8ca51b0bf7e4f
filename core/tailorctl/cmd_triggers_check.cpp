// TriggerEvaluator: checking the visitors whose time has come, and appending their records.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "cmd_triggers.h"
#include "tailor/profile/decode.h"
#include "tailor/store/keys.h"
#include "tailor/triggers/apply.h"

namespace tailorctl {

using nlohmann::ordered_json;

// Checks every visitor whose check time has come.
bool TriggerEvaluator::fire_due(int64_t now) {
    for (int round = 0; round < 100000; round++) {
        auto r = conn_->command({"ZRANGEBYSCORE", std::string(tailor::kTriggerScheduleKey), "-inf",
                                 std::to_string(now), "LIMIT", "0", "200"});
        if (!ok(r, Reply::Type::kArray)) {
            return false;
        }
        if (r->elements.empty()) {
            return true;
        }
        for (const Reply& member : r->elements) {
            if (!check_visitor(member.str, now)) {
                return false;
            }
        }
    }
    return true;
}

bool TriggerEvaluator::add_profile(const std::string& vid, tailor::FireContext* ctx) {
    auto r = conn_->command({"GET", tailor::visitor_key(vid, tailor::VisitorKeyKind::kProfile)});
    if (!r) {
        return false;
    }
    if (r->type != Reply::Type::kBulk || r->str.empty()) {
        return true;
    }
    tailor::ProfileDecodeResult p = tailor::decode_profile(r->str);
    if (p.profile) {
        tailor::add_profile_facts(*p.profile, ctx);
    }
    return true;
}

bool TriggerEvaluator::check_visitor(const std::string& vid, int64_t now) {
    auto erased =
        conn_->command({"EXISTS", tailor::visitor_key(vid, tailor::VisitorKeyKind::kErased)});
    if (!ok(erased, Reply::Type::kInteger)) {
        return false;
    }
    if (erased->integer == 1) {
        return schedule(vid, std::nullopt);
    }
    std::optional<tailor::TriggerState> loaded = load_state(vid);
    if (!loaded) {
        return false;
    }
    tailor::TriggerState st = std::move(*loaded);
    const std::string root = st.into.empty() ? vid : st.into;

    tailor::FireContext ctx;
    ctx.vid = vid;
    ctx.customer_id = !st.into.empty() ? st.into : (!st.from.empty() ? vid : std::string());
    ctx.linked_order_at = st.order_at;
    tailor::TriggerState root_state;
    if (root != vid) {
        auto rf = read_state(root);
        if (!rf) {
            return false;
        }
        root_state = tailor::trigger_state_from_fields(*rf);
    }
    const tailor::TriggerState& person = root != vid ? root_state : st;
    std::vector<std::string> linked = person.from;
    if (root != vid) {
        linked.push_back(root);
    }
    for (const std::string& id : linked) {
        if (id == vid) {
            continue;
        }
        tailor::TriggerState other;
        if (id == root) {
            other = root_state;
        } else {
            auto of = read_state(id);
            if (!of) {
                return false;
            }
            other = tailor::trigger_state_from_fields(*of);
        }
        ctx.linked_order_at = std::max(ctx.linked_order_at, other.order_at);
        ctx.linked_bot = ctx.linked_bot || other.bot;
    }
    if (!add_profile(vid, &ctx) || (root != vid && !add_profile(root, &ctx))) {
        return false;
    }
    if (!st.watches.empty()) {
        std::vector<std::string> argv = {"HMGET", std::string(tailor::kCatalogPricesKey)};
        for (const auto& w : st.watches) {
            argv.push_back(w.first);
        }
        auto r = conn_->command(argv);
        if (!ok(r, Reply::Type::kArray)) {
            return false;
        }
        size_t i = 0;
        for (const auto& w : st.watches) {
            if (i < r->elements.size() && r->elements[i].type == Reply::Type::kBulk) {
                char* end = nullptr;
                double price = std::strtod(r->elements[i].str.c_str(), &end);
                if (end != r->elements[i].str.c_str()) {
                    ctx.catalog_prices[w.first] = price;
                }
            }
            i++;
        }
    }

    std::vector<int64_t> root_sent = person.sent;
    std::vector<int64_t>* sent = root != vid ? &root_sent : &st.sent;
    tailor::FireDecision d = tailor::decide_triggers(&st, sent, ctx, config_, now);

    for (const tailor::TriggerRecord& rec : d.records) {
        if (!append_record(rec)) {
            return false;
        }
        counts_.fired[std::string(tailor::trigger_kind_name(rec.kind))]++;
    }
    for (const auto& s : d.suppressed) {
        counts_.suppressed[s.reason]++;
        std::fprintf(stderr, "tailorctl: %s for %s suppressed: %s\n",
                     std::string(tailor::trigger_kind_name(s.kind)).c_str(), vid.c_str(),
                     s.reason.c_str());
    }
    if (root != vid && !d.records.empty()) {
        cache_.erase(root);
        tailor::TriggerState caps;
        caps.sent = root_sent;
        for (auto& [name, value] : caps.to_fields()) {
            auto r = conn_->command({"HSET",
                                     tailor::visitor_key(root, tailor::VisitorKeyKind::kTriggers),
                                     name, value});
            if (!ok(r, Reply::Type::kInteger)) {
                return false;
            }
        }
    }
    int w = write_state(vid, st, "",
                        tailor::next_trigger_check_ms(st, config_, now, ctx.linked_order_at));
    if (w == 2) {
        return schedule(vid, std::nullopt);  // erased meanwhile
    }
    return w >= 0;
}

bool TriggerEvaluator::append_record(const tailor::TriggerRecord& rec) {
    ordered_json props = ordered_json::object();
    for (const tailor::RecordProperty& p : rec.properties) {
        switch (p.kind) {
            case tailor::RecordProperty::Kind::kText:
                props[p.name] = p.text;
                break;
            case tailor::RecordProperty::Kind::kNumber:
                props[p.name] = p.number;
                break;
            case tailor::RecordProperty::Kind::kList:
                props[p.name] = p.list;
                break;
        }
    }
    ordered_json products = rec.products;
    auto r = conn_->command({"XADD",        std::string(tailor::kTriggerStreamKey),
                             "MAXLEN",      "~",
                             "1000000",     "*",
                             "id",          rec.id,
                             "trigger",     std::string(tailor::trigger_kind_name(rec.kind)),
                             "vid",         rec.vid,
                             "customer_id", rec.customer_id,
                             "metric",      std::string(tailor::trigger_klaviyo_metric(rec.kind)),
                             "products",    products.dump(),
                             "properties",  props.dump(),
                             "anchor_ms",   std::to_string(rec.anchor_ms),
                             "ts",          std::to_string(rec.ts_ms)});
    return ok(r, Reply::Type::kBulk);
}

}  // namespace tailorctl
