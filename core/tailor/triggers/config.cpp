#include "tailor/triggers/config.h"

#include <charconv>
#include <cstdlib>

namespace tailor {

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::optional<int64_t> parse_count(std::string_view s) noexcept {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < 0 || v > 1000000) {
        return std::nullopt;
    }
    return v;
}

std::optional<bool> parse_bool(std::string_view s) noexcept {
    if (s == "true" || s == "on" || s == "yes" || s == "1") {
        return true;
    }
    if (s == "false" || s == "off" || s == "no" || s == "0") {
        return false;
    }
    return std::nullopt;
}

}  // namespace

std::optional<int64_t> parse_duration_ms(std::string_view text) noexcept {
    if (text.empty()) {
        return std::nullopt;
    }
    int64_t unit = kMsPerSecond;
    switch (text.back()) {
        case 's':
            text.remove_suffix(1);
            break;
        case 'm':
            unit = 60 * kMsPerSecond;
            text.remove_suffix(1);
            break;
        case 'h':
            unit = kMsPerHour;
            text.remove_suffix(1);
            break;
        case 'd':
            unit = kMsPerDay;
            text.remove_suffix(1);
            break;
        default:
            break;
    }
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    // 10 years at most: far beyond any trigger, and no overflow in ms
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0 ||
        v > 3650 * kMsPerDay / unit) {
        return std::nullopt;
    }
    return v * unit;
}

bool parse_trigger_config(std::string_view text, TriggerConfig* config, std::string* error) {
    int number = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        number++;
        if (size_t hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        line = trim(line);
        if (line.empty()) {
            continue;
        }
        size_t eq = line.find('=');
        if (eq == std::string_view::npos) {
            *error = "line " + std::to_string(number) + ": expected name = value";
            return false;
        }
        std::string_view name = trim(line.substr(0, eq));
        std::string_view value = trim(line.substr(eq + 1));
        bool ok = true;
        auto duration = [&](int64_t* field) {
            auto d = parse_duration_ms(value);
            ok = d.has_value();
            if (ok) {
                *field = *d;
            }
        };
        auto count = [&](int* field) {
            auto c = parse_count(value);
            ok = c.has_value();
            if (ok) {
                *field = static_cast<int>(*c);
            }
        };
        auto flag = [&](bool* field) {
            auto b = parse_bool(value);
            ok = b.has_value();
            if (ok) {
                *field = *b;
            }
        };
        if (name == "cart_delay") {
            duration(&config->cart_delay_ms);
        } else if (name == "browse_delay") {
            duration(&config->browse_delay_ms);
        } else if (name == "price_watch") {
            duration(&config->price_watch_ms);
        } else if (name == "price_check") {
            duration(&config->price_check_ms);
        } else if (name == "replenish_lead") {
            duration(&config->replenish_lead_ms);
        } else if (name == "winback_after") {
            duration(&config->winback_after_ms);
        } else if (name == "stale_after") {
            duration(&config->stale_after_ms);
        } else if (name == "dedup_ttl") {
            duration(&config->dedup_ttl_ms);
        } else if (name == "state_ttl") {
            duration(&config->state_ttl_ms);
        } else if (name == "cap_per_day") {
            count(&config->cap_per_day);
        } else if (name == "cap_per_week") {
            count(&config->cap_per_week);
        } else if (name == "price_drop_min") {
            char* end = nullptr;
            std::string v(value);
            double d = std::strtod(v.c_str(), &end);
            ok = !v.empty() && end == v.c_str() + v.size() && d > 0 && d < 1;
            if (ok) {
                config->price_drop_min = d;
            }
        } else if (name == "require_email_consent") {
            flag(&config->require_email_consent);
        } else if (name == "cart_abandonment") {
            flag(&config->cart);
        } else if (name == "browse_abandonment") {
            flag(&config->browse);
        } else if (name == "price_drop") {
            flag(&config->price_drop);
        } else if (name == "replenishment") {
            flag(&config->replenishment);
        } else if (name == "win_back") {
            flag(&config->winback);
        } else {
            *error = "line " + std::to_string(number) + ": unknown setting \"" + std::string(name) +
                     "\"";
            return false;
        }
        if (!ok) {
            *error = "line " + std::to_string(number) + ": bad value for " + std::string(name);
            return false;
        }
    }
    return true;
}

}  // namespace tailor
