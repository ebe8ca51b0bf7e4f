// TriggerConfig: the email trigger evaluator's timings, caps and switches, and its config file.
//
// The file is `name = value` lines (`#` starts a comment); durations take a
// unit suffix `s`, `m`, `h` or `d` (a bare number is seconds). docs/triggers.md
// lists every name with its default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tailor {

inline constexpr int64_t kMsPerSecond = 1000;
inline constexpr int64_t kMsPerHour = 3600 * kMsPerSecond;
inline constexpr int64_t kMsPerDay = 24 * kMsPerHour;

// TriggerConfig
//
// Every field has the documented default. Times are milliseconds.
struct TriggerConfig {
    int64_t cart_delay_ms = kMsPerHour;         // cart abandonment: after the last cart activity
    int64_t browse_delay_ms = 2 * kMsPerHour;   // browse abandonment: after the last product view
    double price_drop_min = 0.05;               // a drop of at least 5 % of the viewed price
    int64_t price_watch_ms = 30 * kMsPerDay;    // how long a viewed price is watched
    int64_t price_check_ms = kMsPerHour;        // how often watched prices are compared
    int64_t replenish_lead_ms = 0;              // fire this long before the due date
    int64_t winback_after_ms = 90 * kMsPerDay;  // no order for this long after the last one
    int64_t stale_after_ms = 14 * kMsPerDay;    // a trigger missed for longer is dropped, not sent
    int cap_per_day = 1;                        // triggers per visitor (linked ids together)
    int cap_per_week = 3;
    bool require_email_consent = false;  // true: only profiles with consent.email granted
    bool cart = true;
    bool browse = true;
    bool price_drop = true;
    bool replenishment = true;
    bool winback = true;
    int64_t dedup_ttl_ms = 7 * kMsPerDay;    // how long processed event ids are remembered
    int64_t state_ttl_ms = 400 * kMsPerDay;  // trigger state of a visitor not seen again
};

// parse_duration_ms
//
//   parse_duration_ms("90m") == 5400000, parse_duration_ms("2d") == 172800000,
//   parse_duration_ms("45") == 45000, parse_duration_ms("1x") == nullopt
[[nodiscard]] std::optional<int64_t> parse_duration_ms(std::string_view text) noexcept;

// parse_trigger_config
//
// Applies the file's lines over `config`. On a bad line returns false and
// sets `error` to "line N: reason".
//
// Example:
//   TriggerConfig c;
//   parse_trigger_config("cart_delay = 30m\ncap_per_day = 2\n", &c, &err) == true
[[nodiscard]] bool parse_trigger_config(std::string_view text, TriggerConfig* config,
                                        std::string* error);

}  // namespace tailor
