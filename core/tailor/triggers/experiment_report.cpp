#include "tailor/triggers/experiment_report.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace tailor {

Interval wilson_interval(int64_t x, int64_t n, double z) noexcept {
    if (n <= 0) {
        return {};
    }
    const double nn = static_cast<double>(n);
    const double p = static_cast<double>(x) / nn;
    const double z2 = z * z;
    const double denom = 1 + z2 / nn;
    const double center = (p + z2 / (2 * nn)) / denom;
    const double half = z * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
    return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

std::optional<Lift> relative_lift(int64_t x, int64_t n, int64_t x_base, int64_t n_base,
                                  double z) noexcept {
    if (x <= 0 || n <= 0 || x_base <= 0 || n_base <= 0) {
        return std::nullopt;
    }
    const double ratio = (static_cast<double>(x) / static_cast<double>(n)) /
                         (static_cast<double>(x_base) / static_cast<double>(n_base));
    const double se =
        std::sqrt(1.0 / static_cast<double>(x) - 1.0 / static_cast<double>(n) +
                  1.0 / static_cast<double>(x_base) - 1.0 / static_cast<double>(n_base));
    const double log_ratio = std::log(ratio);
    return Lift{ratio - 1, {std::exp(log_ratio - z * se) - 1, std::exp(log_ratio + z * se) - 1}};
}

std::string ExperimentTally::person_of(std::string_view vid) const {
    std::string id(vid);
    for (int hops = 0; hops < 8; hops++) {  // links are one hop; a cycle stops here
        auto it = into_.find(id);
        if (it == into_.end()) {
            break;
        }
        id = it->second;
    }
    return id;
}

void ExperimentTally::exposure(std::string_view vid, std::string_view experiment,
                               std::string_view variant, int64_t ts_ms, std::string_view rule) {
    if (!rule.empty()) {
        auto r = rules_.find(experiment);
        if (r == rules_.end()) {
            r = rules_.emplace(std::string(experiment), std::set<std::string, std::less<>>()).first;
        }
        if (r->second.find(rule) == r->second.end()) {
            r->second.emplace(rule);
        }
    }
    Person& p = ids_[std::string(vid)];
    auto it = p.experiments.find(experiment);
    if (it == p.experiments.end()) {
        p.experiments.emplace(std::string(experiment), Seen{std::string(variant), ts_ms});
    } else if (ts_ms < it->second.at) {
        it->second = Seen{std::string(variant), ts_ms};
    }
}

void ExperimentTally::conversion(std::string_view vid, int64_t ts_ms, std::string_view popup) {
    ids_[std::string(vid)].conversions.push_back(Conversion{ts_ms, std::string(popup)});
}

bool ExperimentTally::counts_for(const Conversion& c, const std::string& experiment) const {
    if (c.popup.empty()) {
        return true;
    }
    auto r = rules_.find(experiment);
    return r != rules_.end() && r->second.find(c.popup) != r->second.end();
}

void ExperimentTally::link(std::string_view prev, std::string_view into) {
    if (prev != into) {
        into_[std::string(prev)] = std::string(into);
    }
}

std::vector<VariantReport> ExperimentTally::report(std::string_view control,
                                                   std::string_view holdout) const {
    // merge linked ids into one person: earliest exposure per experiment wins
    std::map<std::string, Person> people;
    for (const auto& [id, p] : ids_) {
        Person& person = people[person_of(id)];
        for (const auto& [exp, seen] : p.experiments) {
            auto it = person.experiments.find(exp);
            if (it == person.experiments.end() || seen.at < it->second.at) {
                person.experiments[exp] = seen;
            }
        }
        person.conversions.insert(person.conversions.end(), p.conversions.begin(),
                                  p.conversions.end());
    }
    std::map<std::pair<std::string, std::string>, VariantReport> rows;
    for (const auto& [id, person] : people) {
        for (const auto& [exp, seen] : person.experiments) {
            VariantReport& r = rows[{exp, seen.variant}];
            r.experiment = exp;
            r.variant = seen.variant;
            r.exposed++;
            const int64_t at = seen.at;
            // a named reference: C++17 lambdas cannot capture structured bindings
            const std::string& name = exp;
            if (std::any_of(
                    person.conversions.begin(), person.conversions.end(),
                    [&](const Conversion& c) { return c.at >= at && counts_for(c, name); })) {
                r.converted++;
            }
        }
    }
    std::vector<VariantReport> out;
    for (auto& row : rows) {
        VariantReport& r = row.second;  // a named reference: C++17 lambdas cannot capture bindings
        r.rate = static_cast<double>(r.converted) / static_cast<double>(r.exposed);
        r.rate_interval = wilson_interval(r.converted, r.exposed);
        auto base = [&](std::string_view name) -> const VariantReport* {
            auto it = rows.find({r.experiment, std::string(name)});
            return it == rows.end() || r.variant == name ? nullptr : &it->second;
        };
        if (const VariantReport* c = base(control)) {
            r.lift_vs_control = relative_lift(r.converted, r.exposed, c->converted, c->exposed);
        }
        if (const VariantReport* h = base(holdout)) {
            r.lift_vs_holdout = relative_lift(r.converted, r.exposed, h->converted, h->exposed);
        }
        out.push_back(r);
    }
    return out;
}

}  // namespace tailor
