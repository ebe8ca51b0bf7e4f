// ExperimentTally: per experiment and variant, visitors exposed and converted, with intervals.
//
// Fed from the event stream by `tailorctl experiments report`: an event's
// `exp` entries are exposures, a conversion event (Order Completed by
// default) by an exposed visitor at or after the first exposure converts
// them, and an Identify merges the anonymous id into the known one, so an
// order placed after login counts for the variant seen before it. A visitor
// counts once per experiment, in the first variant seen (the bucketing is
// sticky, a second variant only appears after a config change).
//
// A conversion that names a pop-up (a `Promotion Clicked` beacon's
// `promotion_id`) converts only for the experiments that pop-up belongs to:
// those whose exposures name it as their rule (a pop-up experiment's
// exposures name the experiment's pop-up, docs/rules.md). A click on another
// pop-up is not this experiment's conversion; an order converts for all.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

inline constexpr double kZ95 = 1.959963984540054;

struct Interval {
    double low = 0;
    double high = 0;
};

// wilson_interval
//
// The Wilson score interval of x successes in n trials (95 % by default);
// {0, 0} when n is 0.
//
// Example:
//   wilson_interval(10, 100) == {0.0552, 0.1744} (rounded)
[[nodiscard]] Interval wilson_interval(int64_t x, int64_t n, double z = kZ95) noexcept;

// Lift
//
// Relative lift of a variant's rate over a baseline's (0.25 = 25 % better),
// with the interval of the rate ratio on the log scale (Katz).
struct Lift {
    double lift = 0;
    Interval interval;
};

// relative_lift
//
// nullopt when either side has no exposures or no conversions (the ratio or
// its variance is undefined).
//
// Example:
//   relative_lift(20, 100, 10, 100)->lift == 1.0
[[nodiscard]] std::optional<Lift> relative_lift(int64_t x, int64_t n, int64_t x_base,
                                                int64_t n_base, double z = kZ95) noexcept;

struct VariantReport {
    std::string experiment;
    std::string variant;
    int64_t exposed = 0;
    int64_t converted = 0;
    double rate = 0;
    Interval rate_interval;
    std::optional<Lift> lift_vs_control;
    std::optional<Lift> lift_vs_holdout;
};

class ExperimentTally {
  public:
    // ExperimentTally::exposure / conversion
    //
    // `rule` is the exposure's rule (or pop-up) id; `popup` the id of the
    // pop-up a conversion is about, empty for one that is not (an order).
    //
    // Example:
    //   t.exposure("v1", "exit-offer", "discount", 1000, "exit-discount");
    //   t.conversion("v1", 2000, "exit-discount");  // converts v1 for exit-offer
    void exposure(std::string_view vid, std::string_view experiment, std::string_view variant,
                  int64_t ts_ms, std::string_view rule = {});
    void conversion(std::string_view vid, int64_t ts_ms, std::string_view popup = {});
    // ExperimentTally::link
    //
    // `prev` (an anonymous id) is the same person as `into`.
    void link(std::string_view prev, std::string_view into);

    // ExperimentTally::report
    //
    // One row per experiment and variant, sorted by both; lifts against the
    // variants named `control` and `holdout` of the same experiment (none for
    // those rows themselves).
    [[nodiscard]] std::vector<VariantReport> report(std::string_view control = "control",
                                                    std::string_view holdout = "holdout") const;

  private:
    struct Seen {
        std::string variant;
        int64_t at = 0;
    };
    struct Conversion {
        int64_t at = 0;
        std::string popup;  // empty: converts for every experiment
    };
    struct Person {
        std::map<std::string, Seen, std::less<>> experiments;
        std::vector<Conversion> conversions;
    };
    [[nodiscard]] std::string person_of(std::string_view vid) const;
    [[nodiscard]] bool counts_for(const Conversion& c, const std::string& experiment) const;
    std::map<std::string, Person, std::less<>> ids_;
    std::map<std::string, std::string, std::less<>> into_;
    // experiment -> the rule (pop-up) ids its exposures named
    std::map<std::string, std::set<std::string, std::less<>>, std::less<>> rules_;
};

}  // namespace tailor
