// tailorctl experiments report: per experiment and variant, exposures and conversions.
//
//   tailorctl experiments report --redis HOST:PORT [--stream KEY] [--shards N] [--conversion
//   EVENT]...
//                                [--control NAME] [--holdout NAME] [--format table|json]
//
// Reads the whole event stream (XRANGE in pages; a sharded one shard by shard, stream_keys.h),
// feeds exposures (`exp`), conversions (Order Completed unless --conversion names other events;
// it may be given more than once, and an event with a `promotion_id`, a pop-up's Promotion
// Clicked, converts only for that pop-up's experiments) and Identify links to an
// ExperimentTally (tailor/triggers/experiment_report.h), and prints its rows: a table, or one
// JSON object per row.
#include <algorithm>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "redis_client.h"
#include "stream_keys.h"
#include "stream_options.h"
#include "tailor/events/event.h"
#include "tailor/triggers/experiment_report.h"

namespace tailorctl {

namespace {

int usage_experiments() {
    std::fprintf(stderr,
                 "usage: tailorctl experiments report %s [--stream KEY] [--shards N]\n"
                 "                                    [--conversion EVENT]... [--control NAME] "
                 "[--holdout NAME] [--format table|json]\n",
                 kRedisUsage);
    return kExitUsage;
}

nlohmann::ordered_json lift_json(const std::optional<tailor::Lift>& l) {
    if (!l) {
        return nullptr;
    }
    return {{"lift", l->lift}, {"low", l->interval.low}, {"high", l->interval.high}};
}

std::string lift_text(const std::optional<tailor::Lift>& l) {
    if (!l) {
        return "-";
    }
    char buf[96];
    std::snprintf(buf, sizeof buf, "%+.1f%% [%+.1f%%, %+.1f%%]", 100 * l->lift,
                  100 * l->interval.low, 100 * l->interval.high);
    return buf;
}

}  // namespace

int run_experiments(const Args& args) {
    if (args.empty() || args[0] != "report") {
        return usage_experiments();
    }
    RedisOptions redis = redis_options_from_env();
    std::string stream = "tailor:events";
    std::vector<std::string> conversions;  // empty: Order Completed
    std::string control = "control";
    std::string holdout = "holdout";
    std::string format = "table";
    long long shards = 0;  // 0: as <stream>:shards says
    auto take_value = [&](std::string_view a, const std::string& v) {
        if (a == "--stream") {
            stream = v;
        } else if (a == "--conversion") {
            conversions.push_back(v);
        } else if (a == "--control") {
            control = v;
        } else if (a == "--holdout") {
            holdout = v;
        } else if (a == "--format" && (v == "table" || v == "json")) {
            format = v;
        } else {
            return false;
        }
        return true;
    };
    if (!parse_stream_options(args, &redis, &shards, take_value) || redis.address.empty()) {
        return usage_experiments();
    }
    if (conversions.empty()) {
        conversions.push_back("Order Completed");
    }
    RedisClient conn;
    if (!conn.connect(redis)) {
        return kExitFailure;
    }

    std::optional<std::vector<std::string>> keys = stream_keys(conn, stream, shards);
    if (!keys) {
        return kExitFailure;
    }
    tailor::ExperimentTally tally;
    // every shard of a sharded stream, one after the other (the tally goes by event time)
    for (const std::string& key : *keys) {
        std::string start = "-";
        for (;;) {
            std::optional<Reply> r = conn.command({"XRANGE", key, start, "+", "COUNT", "1000"});
            if (!r) {
                return kExitFailure;
            }
            if (r->type == Reply::Type::kError) {
                std::fprintf(stderr, "tailorctl: redis: %s\n", r->str.c_str());
                return kExitFailure;
            }
            if (r->elements.empty()) {
                break;
            }
            for (const Reply& entry : r->elements) {
                if (entry.elements.size() != 2) {
                    continue;
                }
                const Reply& kv = entry.elements[1];
                for (size_t i = 0; i + 1 < kv.elements.size(); i += 2) {
                    if (kv.elements[i].str != "e") {
                        continue;
                    }
                    std::optional<tailor::DecodedEvent> e =
                        tailor::decode_event(kv.elements[i + 1].str);
                    if (!e) {
                        break;
                    }
                    for (const auto& x : e->exposures) {
                        tally.exposure(e->vid, x.experiment, x.variant, e->ts_ms, x.rule);
                    }
                    if (std::find(conversions.begin(), conversions.end(), e->name) !=
                        conversions.end()) {
                        const tailor::DecodedProperty* promo = e->property("promotion_id");
                        tally.conversion(
                            e->vid, e->ts_ms,
                            promo != nullptr ? std::string_view(promo->text) : std::string_view());
                    }
                    if (e->type == tailor::EventType::kIdentify && !e->previous_vid.empty()) {
                        tally.link(e->previous_vid, e->vid);
                    }
                }
            }
            // the next page starts after the last id read ("(" is exclusive)
            start = "(" + r->elements.back().elements[0].str;
        }
    }

    for (const tailor::VariantReport& row : tally.report(control, holdout)) {
        if (format == "json") {
            nlohmann::ordered_json j;
            j["experiment"] = row.experiment;
            j["variant"] = row.variant;
            j["exposed"] = row.exposed;
            j["converted"] = row.converted;
            j["rate"] = row.rate;
            j["rate_low"] = row.rate_interval.low;
            j["rate_high"] = row.rate_interval.high;
            j["lift_vs_control"] = lift_json(row.lift_vs_control);
            j["lift_vs_holdout"] = lift_json(row.lift_vs_holdout);
            std::printf("%s\n", j.dump().c_str());
        } else {
            std::printf(
                "%-20s %-12s exposed %6lld converted %6lld rate %5.2f%% [%5.2f%%, %5.2f%%]"
                " vs %s %s vs %s %s\n",
                row.experiment.c_str(), row.variant.c_str(), static_cast<long long>(row.exposed),
                static_cast<long long>(row.converted), 100 * row.rate, 100 * row.rate_interval.low,
                100 * row.rate_interval.high, control.c_str(),
                lift_text(row.lift_vs_control).c_str(), holdout.c_str(),
                lift_text(row.lift_vs_holdout).c_str());
        }
    }
    return kExitOk;
}

}  // namespace tailorctl
