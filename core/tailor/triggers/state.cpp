#include "tailor/triggers/state.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace tailor {

namespace {

// Lists are joined with a byte no sku or id carries (0x1f, unit separator).
constexpr char kSep = '\x1f';

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& s : items) {
        if (!out.empty()) {
            out += kSep;
        }
        out += s;
    }
    return out;
}

std::vector<std::string> split(std::string_view s, size_t cap) {
    std::vector<std::string> out;
    while (!s.empty() && out.size() < cap) {
        size_t p = s.find(kSep);
        if (p != 0) {
            out.emplace_back(s.substr(0, p));
        }
        if (p == std::string_view::npos) {
            break;
        }
        s.remove_prefix(p + 1);
    }
    return out;
}

int64_t to_int(std::string_view s) noexcept {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() ? v : 0;
}

std::string number_text(double d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", d);
    return buf;
}

double to_double(std::string_view s) {
    std::string copy(s);
    char* end = nullptr;
    double d = std::strtod(copy.c_str(), &end);
    return end == copy.c_str() ? 0 : d;
}

void put(std::vector<std::pair<std::string, std::string>>* out, const char* name, int64_t v) {
    if (v != 0) {
        out->emplace_back(name, std::to_string(v));
    }
}

}  // namespace

std::vector<std::pair<std::string, std::string>> TriggerState::to_fields() const {
    std::vector<std::pair<std::string, std::string>> out;
    if (!into.empty()) {
        out.emplace_back("into", into);
    }
    if (!from.empty()) {
        out.emplace_back("from", join(from));
    }
    if (bot) {
        out.emplace_back("bot", "1");
    }
    put(&out, "cart_at", cart_at);
    if (!cart.empty()) {
        out.emplace_back("cart", join(cart));
    }
    put(&out, "cart_fired", cart_fired);
    put(&out, "browse_at", browse_at);
    if (!browse.empty()) {
        out.emplace_back("browse", join(browse));
    }
    put(&out, "browse_fired", browse_fired);
    put(&out, "order_at", order_at);
    put(&out, "winback_fired", winback_fired);
    for (const auto& [sku, w] : watches) {
        out.emplace_back("pw:" + sku, number_text(w.viewed_price) + " " +
                                          std::to_string(w.viewed_at) + " " +
                                          number_text(w.fired_price));
    }
    for (const auto& [sku, due] : replenish_fired) {
        out.emplace_back("rp:" + sku, std::to_string(due));
    }
    put(&out, "rp_next", replenish_next);
    if (!sent.empty()) {
        std::string s;
        for (int64_t t : sent) {
            if (!s.empty()) {
                s += ',';
            }
            s += std::to_string(t);
        }
        out.emplace_back("sent", s);
    }
    return out;
}

TriggerState trigger_state_from_fields(
    const std::vector<std::pair<std::string, std::string>>& fields) {
    TriggerState st;
    for (const auto& [name, value] : fields) {
        std::string_view n = name;
        if (n == "into") {
            st.into = value;
        } else if (n == "from") {
            st.from = split(value, kMaxLinkedIds);
        } else if (n == "bot") {
            st.bot = value == "1";
        } else if (n == "cart_at") {
            st.cart_at = to_int(value);
        } else if (n == "cart") {
            st.cart = split(value, kMaxTriggerCartSkus);
        } else if (n == "cart_fired") {
            st.cart_fired = to_int(value);
        } else if (n == "browse_at") {
            st.browse_at = to_int(value);
        } else if (n == "browse") {
            st.browse = split(value, kMaxTriggerBrowseSkus);
        } else if (n == "browse_fired") {
            st.browse_fired = to_int(value);
        } else if (n == "order_at") {
            st.order_at = to_int(value);
        } else if (n == "winback_fired") {
            st.winback_fired = to_int(value);
        } else if (n.substr(0, 3) == "pw:" && n.size() > 3) {
            if (st.watches.size() >= kMaxPriceWatches) {
                continue;
            }
            std::string_view v = value;
            size_t a = v.find(' ');
            size_t b = a == std::string_view::npos ? a : v.find(' ', a + 1);
            if (b == std::string_view::npos) {
                continue;
            }
            PriceWatch w;
            w.viewed_price = to_double(v.substr(0, a));
            w.viewed_at = to_int(v.substr(a + 1, b - a - 1));
            w.fired_price = to_double(v.substr(b + 1));
            st.watches.emplace(std::string(n.substr(3)), w);
        } else if (n.substr(0, 3) == "rp:" && n.size() > 3) {
            st.replenish_fired.emplace(std::string(n.substr(3)), to_int(value));
        } else if (n == "rp_next") {
            st.replenish_next = to_int(value);
        } else if (n == "sent") {
            std::string_view v = value;
            while (!v.empty() && st.sent.size() < kMaxSentTimes) {
                size_t c = v.find(',');
                st.sent.push_back(to_int(v.substr(0, c)));
                if (c == std::string_view::npos) {
                    break;
                }
                v.remove_prefix(c + 1);
            }
        }
    }
    return st;
}

}  // namespace tailor
