// ngx_http_tailor_pack_metrics: the series the rule packs name (rule errors by rule, slot
// decisions by slot, experiment exposures by variant, pop-up offers by pop-up), and the
// run-time rule errors in error.log.
//
// The names come from the packs, so the set of series is fixed when the configuration is
// read: cardinality is bounded by what the packs declare, and a name a rule makes up at run
// time is never a label. The counters live in their own shared zone, named after the set of
// series: a reload with the same packs finds the same zone and keeps counting, a reload with
// other packs starts a new one (Prometheus reads it as a counter reset).
#include "ngx_http_tailor_metrics.h"

#include <cinttypes>
#include <cstdarg>
#include <cstring>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "ngx_http_tailor_log_limit.h"
#include "tailor/engine/engine.h"
#include "tailor/popup/policy.h"
#include "tailor/rules/pack.h"
#include "tailor/rules/runtime.h"

namespace {

enum ngx_http_tailor_family_e : unsigned {
    NGX_HTTP_TAILOR_FAMILY_RULE_ERRORS = 0,
    NGX_HTTP_TAILOR_FAMILY_SLOT_DECISIONS,
    NGX_HTTP_TAILOR_FAMILY_EXPOSURES,
    NGX_HTTP_TAILOR_FAMILY_POPUP_OFFERS,
    NGX_HTTP_TAILOR_FAMILY_COUNT
};

struct ngx_http_tailor_family_desc_t {
    const char* name;
    const char* help;
    const char* label_a;
    const char* label_b;  // null: one label
};

constexpr ngx_http_tailor_family_desc_t ngx_http_tailor_families[NGX_HTTP_TAILOR_FAMILY_COUNT] = {
    {"tailor_rule_errors_total",
     "Rule failures at run time by rule and reason (error, budget, memory); the slot kept "
     "its default. error.log has the rule's file:line and the message.",
     "rule", "reason"},
    {"tailor_slot_decisions_total",
     "Decisions that gave a slot content, by the pack's slot names (whether or not the "
     "response carried the slot).",
     "slot", nullptr},
    {"tailor_experiment_exposures_total",
     "Visitors exposed to an experiment's variant (or held out) by a rule that ran, by "
     "experiment and variant.",
     "experiment", "variant"},
    {"tailor_popup_offers_total", "Decisions that offered a pop-up, by pop-up id.", "popup",
     nullptr},
};

// The reasons of tailor_rule_errors_total, in this order per rule.
constexpr const char* ngx_http_tailor_error_reasons[] = {"error", "budget", "memory"};
constexpr size_t ngx_http_tailor_error_reason_count = 3;

// The slot the kit files pop-ups under (lua/tailor/evaluate.lua); not a page's slot.
constexpr std::string_view kPopupsSlot = "(popups)";

// Prometheus label values: backslash, double quote and newline escaped.
std::string ngx_http_tailor_label_escape(std::string_view v) {
    std::string out;
    out.reserve(v.size());
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

}  // namespace

// Every series of the configuration, deduplicated by family and labels (two servers' packs
// that use one rule name share its series); a series' counter is its position.
struct ngx_http_tailor_series_registry_t {
    struct Row {
        unsigned family;
        std::string a;  // escaped label values
        std::string b;
    };
    std::vector<Row> rows;
    std::map<std::tuple<unsigned, std::string, std::string>, ngx_uint_t> index;
    ngx_atomic_t* counters = nullptr;  // in the shared zone, set by its init
    size_t text_bytes = 0;             // what rendering the rows may take

    ngx_uint_t add(unsigned family, std::string_view a, std::string_view b) {
        auto key = std::make_tuple(family, ngx_http_tailor_label_escape(a),
                                   ngx_http_tailor_label_escape(b));
        auto it = index.find(key);
        if (it != index.end()) {
            return it->second;
        }
        ngx_uint_t i = rows.size();
        const auto& d = ngx_http_tailor_families[family];
        text_bytes += std::strlen(d.name) + std::get<1>(key).size() + std::get<2>(key).size() + 64;
        rows.push_back({family, std::get<1>(key), std::get<2>(key)});
        index.emplace(std::move(key), i);
        return i;
    }
};

// One engine's view of the registry: its pack's rules, slots and experiments mapped to
// counters, and what this worker already added from the runtime's per-rule counters.
struct ngx_http_tailor_pack_series_t {
    struct Rule {
        ngx_uint_t counter[ngx_http_tailor_error_reason_count];
        uint64_t seen[ngx_http_tailor_error_reason_count];  // this worker's, already added
        ngx_http_tailor_log_limit_t log_limit;              // one line a second per rule
    };
    struct Named {
        std::string a;
        std::string b;
        ngx_uint_t counter;
    };
    ngx_http_tailor_series_registry_t* registry;
    std::vector<Rule> rules;  // the pack's RuleInfo order
    std::vector<Named> slots;
    std::vector<Named> exposures;
    std::vector<Named> popups;
    ngx_http_tailor_log_limit_t dropped_limit;
};

namespace {

// The errors taken from a runtime, reused by every request of this worker.
std::vector<tailor::RuleErrorEvent>* ngx_http_tailor_error_events;

ngx_int_t ngx_http_tailor_series_zone_init(ngx_shm_zone_t* zone, void* data) noexcept {
    auto* registry = static_cast<ngx_http_tailor_series_registry_t*>(zone->data);
    size_t size = registry->rows.size() * sizeof(ngx_atomic_t);
    registry->counters = static_cast<ngx_atomic_t*>(ngx_http_tailor_shm_data(zone, data, size));
    return registry->counters != nullptr ? NGX_OK : NGX_ERROR;
}

// FNV-1a over the rows: the zone's name, so one set of series finds its counters again.
uint64_t ngx_http_tailor_series_hash(const ngx_http_tailor_series_registry_t* registry) {
    uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](std::string_view s) {
        for (unsigned char c : s) {
            h = (h ^ c) * 1099511628211ULL;
        }
        h = (h ^ 0xff) * 1099511628211ULL;  // a separator no label holds
    };
    for (const auto& row : registry->rows) {
        mix(ngx_http_tailor_families[row.family].name);
        mix(row.a);
        mix(row.b);
    }
    return h;
}

void ngx_http_tailor_series_add(ngx_http_tailor_series_registry_t* registry, ngx_uint_t counter,
                                uint64_t n) noexcept {
    if (registry == nullptr || registry->counters == nullptr || n == 0) {
        return;
    }
    (void)ngx_atomic_fetch_add(&registry->counters[counter], static_cast<ngx_atomic_int_t>(n));
}

const ngx_http_tailor_pack_series_t::Named* ngx_http_tailor_series_find(
    const std::vector<ngx_http_tailor_pack_series_t::Named>& named, std::string_view a,
    std::string_view b) noexcept {
    for (const auto& n : named) {
        if (n.a == a && n.b == b) {
            return &n;
        }
    }
    return nullptr;
}

void ngx_http_tailor_rule_log(ngx_http_tailor_log_limit_t* limit, ngx_log_t* log, const char* fmt,
                              ...) noexcept {
    va_list args;
    va_start(args, fmt);
    ngx_http_tailor_log_limited_v(limit, NGX_LOG_ERR, log, "tailor: ", fmt, args);
    va_end(args);
}

const char* ngx_http_tailor_rule_failure(tailor::RuleOutcome outcome) noexcept {
    switch (outcome) {
        case tailor::RuleOutcome::kBudget:
            return "was cut off";
        case tailor::RuleOutcome::kMemory:
            return "ran out of memory";
        default:
            return "failed";
    }
}

// Logs the rules that failed since the last call, each at most once a second.
void ngx_http_tailor_log_rule_errors(ngx_http_request_t* r, tailor::RuleRuntime* runtime,
                                     ngx_http_tailor_pack_series_t* series) noexcept {
    try {
        if (ngx_http_tailor_error_events == nullptr) {
            ngx_http_tailor_error_events = new std::vector<tailor::RuleErrorEvent>();
        }
        std::vector<tailor::RuleErrorEvent>& events = *ngx_http_tailor_error_events;
        events.clear();
        size_t dropped = runtime->take_errors(&events);
        for (const tailor::RuleErrorEvent& e : events) {
            if (e.index >= series->rules.size()) {
                continue;  // cannot happen: one pack, one runtime
            }
            ngx_http_tailor_rule_log(&series->rules[e.index].log_limit, r->connection->log,
                                     "rule \"%s\" (%s:%d) %s, its slot keeps the default: %s",
                                     e.rule.c_str(), e.file.c_str(), e.line,
                                     ngx_http_tailor_rule_failure(e.outcome), e.message.c_str());
        }
        if (dropped > 0) {
            ngx_http_tailor_rule_log(&series->dropped_limit, r->connection->log,
                                     "%uz more rule errors were not kept for the log", dropped);
        }
        events.clear();
    } catch (const std::exception& e) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0, "tailor: rule errors: %s", e.what());
    }
}

// Adds what the runtime's per-rule counters gained since this worker last looked.
void ngx_http_tailor_count_rule_errors(const tailor::RuleRuntime* runtime,
                                       ngx_http_tailor_pack_series_t* series) noexcept {
    const std::vector<tailor::RuleStats>& stats = runtime->rule_stats();
    size_t n = ngx_min(stats.size(), series->rules.size());
    for (size_t i = 0; i < n; i++) {
        const uint64_t now[ngx_http_tailor_error_reason_count] = {
            stats[i].errors, stats[i].budget_cuts, stats[i].memory_errors};
        ngx_http_tailor_pack_series_t::Rule& rule = series->rules[i];
        for (size_t k = 0; k < ngx_http_tailor_error_reason_count; k++) {
            if (now[k] > rule.seen[k]) {
                ngx_http_tailor_series_add(series->registry, rule.counter[k],
                                           now[k] - rule.seen[k]);
                rule.seen[k] = now[k];
            }
        }
    }
}

}  // namespace

ngx_http_tailor_pack_series_t* ngx_http_tailor_series_add_pack(
    ngx_conf_t* cf, ngx_http_tailor_main_conf_t* mcf, const tailor::RulePack* pack) noexcept {
    try {
        if (mcf->series == nullptr) {
            mcf->series = ngx_http_tailor_pool_own<ngx_http_tailor_series_registry_t>(cf->pool);
            if (mcf->series == nullptr) {
                return nullptr;
            }
        }
        ngx_http_tailor_series_registry_t* registry = mcf->series;
        auto* series = ngx_http_tailor_pool_own<ngx_http_tailor_pack_series_t>(cf->pool);
        if (series == nullptr) {
            return nullptr;
        }
        series->registry = registry;
        if (pack == nullptr) {
            return series;  // the built-in decision: its slot names are the profiles', unbounded
        }

        for (const tailor::RuleInfo& info : pack->rules) {
            ngx_http_tailor_pack_series_t::Rule rule = {};
            for (size_t k = 0; k < ngx_http_tailor_error_reason_count; k++) {
                rule.counter[k] = registry->add(NGX_HTTP_TAILOR_FAMILY_RULE_ERRORS, info.id,
                                                ngx_http_tailor_error_reasons[k]);
            }
            series->rules.push_back(rule);

            if (info.kind == "popup") {
                series->popups.push_back(
                    {info.id, "", registry->add(NGX_HTTP_TAILOR_FAMILY_POPUP_OFFERS, info.id, "")});
            }
            if (!info.experiment.empty() &&
                ngx_http_tailor_series_find(series->exposures, info.experiment, info.variant) ==
                    nullptr) {
                series->exposures.push_back({info.experiment, info.variant,
                                             registry->add(NGX_HTTP_TAILOR_FAMILY_EXPOSURES,
                                                           info.experiment, info.variant)});
            }
        }
        for (const std::string& experiment : pack->experiments) {
            std::string_view holdout = "holdout";
            if (ngx_http_tailor_series_find(series->exposures, experiment, holdout) == nullptr) {
                series->exposures.push_back(
                    {experiment, std::string(holdout),
                     registry->add(NGX_HTTP_TAILOR_FAMILY_EXPOSURES, experiment, holdout)});
            }
        }
        // every declared variant too: a variant no rule names (a pop-up experiment's "no
        // pop-up" control) and experiments only t.variant reads are exposed all the same
        for (const tailor::ExperimentSpec& e : pack->declared_experiments) {
            for (size_t k = 0; k <= e.variants.size(); k++) {
                std::string_view v = k < e.variants.size() ? std::string_view(e.variants[k].name)
                                                           : tailor::kHoldoutVariant;
                if (ngx_http_tailor_series_find(series->exposures, e.name, v) == nullptr) {
                    series->exposures.push_back(
                        {e.name, std::string(v),
                         registry->add(NGX_HTTP_TAILOR_FAMILY_EXPOSURES, e.name, v)});
                }
            }
        }
        for (const std::string& slot : pack->slots) {
            if (slot == kPopupsSlot) {
                continue;  // the pop-ups' rules: offers are counted by pop-up
            }
            series->slots.push_back(
                {slot, "", registry->add(NGX_HTTP_TAILOR_FAMILY_SLOT_DECISIONS, slot, "")});
        }
        return series;
    } catch (const std::exception& e) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "tailor: %s", e.what());
        return nullptr;
    }
}

ngx_int_t ngx_http_tailor_series_init_zone(ngx_conf_t* cf,
                                           ngx_http_tailor_main_conf_t* mcf) noexcept {
    ngx_http_tailor_series_registry_t* registry = mcf->series;
    if (registry == nullptr || registry->rows.empty()) {
        return NGX_OK;
    }

    u_char name_buf[64];
    u_char* last = ngx_snprintf(name_buf, sizeof(name_buf), "tailor_pack_metrics_%016xL",
                                ngx_http_tailor_series_hash(registry));
    ngx_str_t name;
    name.len = static_cast<size_t>(last - name_buf);
    name.data = static_cast<u_char*>(ngx_pnalloc(cf->pool, name.len));
    if (name.data == nullptr) {
        return NGX_ERROR;
    }
    ngx_memcpy(name.data, name_buf, name.len);

    // the slab pool's own pages first, then the counters rounded up to whole pages
    size_t counters = registry->rows.size() * sizeof(ngx_atomic_t);
    size_t size = 8 * ngx_pagesize + ngx_align(counters, ngx_pagesize);

    ngx_shm_zone_t* zone = ngx_shared_memory_add(cf, &name, size, &ngx_http_tailor_module);
    if (zone == nullptr) {
        return NGX_ERROR;
    }
    zone->init = ngx_http_tailor_series_zone_init;
    zone->data = registry;
    zone->noreuse = 0;
    return NGX_OK;
}

void ngx_http_tailor_series_exit_worker() noexcept {
    delete ngx_http_tailor_error_events;
    ngx_http_tailor_error_events = nullptr;
}

void ngx_http_tailor_metrics_decision(ngx_http_request_t* r, tailor::Engine* engine,
                                      ngx_http_tailor_pack_series_t* series,
                                      const tailor::Personalization* p) noexcept {
    if (p->failed_rules() > 0) {
        ngx_http_tailor_metrics_count(NGX_HTTP_TAILOR_DECISION_ERRORS,
                                      static_cast<ngx_atomic_int_t>(p->failed_rules()));
        tailor::RuleRuntime* runtime = engine != nullptr ? engine->runtime() : nullptr;
        if (runtime != nullptr && series != nullptr) {
            ngx_http_tailor_log_rule_errors(r, runtime, series);
            ngx_http_tailor_count_rule_errors(runtime, series);
        }
    }

    if (series == nullptr) {
        return;
    }
    const tailor::Decision& d = p->decision();
    for (const tailor::SlotFill& fill : d.fills()) {
        if (const auto* n = ngx_http_tailor_series_find(series->slots, fill.name, {})) {
            ngx_http_tailor_series_add(series->registry, n->counter, 1);
        }
    }
    for (const tailor::Exposure& x : d.exposures()) {
        const ngx_http_tailor_pack_series_t::Named* n =
            x.experiment == tailor::kPopupExperiment
                ? ngx_http_tailor_series_find(series->popups, x.rule_id, {})
                : ngx_http_tailor_series_find(series->exposures, x.experiment, x.variant);
        if (n != nullptr) {
            ngx_http_tailor_series_add(series->registry, n->counter, 1);
        }
    }
}

size_t ngx_http_tailor_series_render_size(
    const ngx_http_tailor_series_registry_t* registry) noexcept {
    size_t size = 0;
    for (const auto& d : ngx_http_tailor_families) {
        size += 2 * std::strlen(d.name) + std::strlen(d.help) + 32;
    }
    if (registry != nullptr) {
        size += registry->text_bytes;
    }
    return size;
}

void ngx_http_tailor_series_render(const ngx_http_tailor_series_registry_t* registry, u_char** pos,
                                   u_char* end) noexcept {
    for (unsigned f = 0; f < NGX_HTTP_TAILOR_FAMILY_COUNT; f++) {
        const auto& d = ngx_http_tailor_families[f];
        ngx_http_tailor_status_print(pos, end, "# HELP %s %s\n# TYPE %s counter\n", d.name, d.help,
                                     d.name);
        if (registry == nullptr || registry->counters == nullptr) {
            continue;
        }
        for (size_t i = 0; i < registry->rows.size(); i++) {
            const auto& row = registry->rows[i];
            if (row.family != f) {
                continue;
            }
            uint64_t value = registry->counters[i];
            if (d.label_b == nullptr) {
                ngx_http_tailor_status_print(pos, end, "%s{%s=\"%s\"} %" PRIu64 "\n", d.name,
                                             d.label_a, row.a.c_str(), value);
            } else {
                ngx_http_tailor_status_print(pos, end, "%s{%s=\"%s\",%s=\"%s\"} %" PRIu64 "\n",
                                             d.name, d.label_a, row.a.c_str(), d.label_b,
                                             row.b.c_str(), value);
            }
        }
    }
}
