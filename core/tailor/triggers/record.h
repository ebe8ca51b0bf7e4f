// TriggerRecord: one trigger decided to fire, as the evaluator writes it to `tailor:triggers`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

// TriggerKind
enum class TriggerKind : unsigned char {
    kCartAbandonment = 0,
    kBrowseAbandonment,
    kPriceDrop,
    kReplenishmentDue,
    kWinBack,
};

// trigger_kind_name
//
//   trigger_kind_name(TriggerKind::kCartAbandonment) == "cart_abandonment"
[[nodiscard]] std::string_view trigger_kind_name(TriggerKind kind) noexcept;

// trigger_klaviyo_metric
//
// The Klaviyo metric a connector reports (a custom metric, prefixed so it never
// merges with a metric Klaviyo's own integrations record):
//   trigger_klaviyo_metric(TriggerKind::kCartAbandonment) == "Tailor Abandoned Cart"
[[nodiscard]] std::string_view trigger_klaviyo_metric(TriggerKind kind) noexcept;

// RecordProperty
//
// One Klaviyo metric property: a string, a number, or a list of strings.
struct RecordProperty {
    enum class Kind : unsigned char { kText, kNumber, kList } kind = Kind::kText;
    std::string name;
    std::string text;
    double number = 0;
    std::vector<std::string> list;
};

// TriggerRecord
//
// `id` is deterministic (vid, trigger, anchor time and product): a record
// sent twice after a crash carries the same id, which the connector passes
// as Klaviyo's `unique_id` so the platform keeps one.
struct TriggerRecord {
    std::string id;
    TriggerKind kind = TriggerKind::kCartAbandonment;
    std::string vid;
    std::string customer_id;  // the known id this visitor is linked to; "" if none
    std::vector<std::string> products;
    int64_t anchor_ms = 0;  // the activity the trigger is about
    int64_t ts_ms = 0;      // when it fired (the evaluator's clock)
    std::vector<RecordProperty> properties;
};

}  // namespace tailor
