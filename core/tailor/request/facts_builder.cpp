// RequestFactsBuilder: RequestFacts from a plain view of the request.
#include "tailor/request/facts_builder.h"

#include <optional>

#include "tailor/request/cookie_header.h"
#include "tailor/request/device_class.h"

namespace tailor {

bool is_logged_in_value(std::string_view value) noexcept {
    return !value.empty() && value != "0";
}

std::string_view referrer_source(const Attribution& attribution) noexcept {
    return attribution.has_utm() ? attribution.utm_source()
                                 : referrer_class_name(attribution.referrer_class());
}

RequestFactsBuilder::RequestFactsBuilder(const RequestView& view) noexcept
    : attribution_(attribution_from_request(view.query, view.referer, view.host)) {
    facts_.visitor_id = view.visitor_id;
    facts_.now = view.now;
    facts_.path = view.path;
    facts_.query = view.query;
    facts_.referrer_source = referrer_source(attribution_);
    facts_.device_class = device_class_name(classify_device(view.user_agent));
    facts_.logged_in = is_logged_in_value(view.logged_in);
    facts_.consent_personalization = view.consent_personalization;
    facts_.popup_runtime_path = view.popup_runtime_path;
    facts_.popup_beacon_path = view.popup_beacon_path;
    collect_cookies(view);
}

// Each whitelisted name once, with its first well-formed value across the
// Cookie headers (cookie_header.h's "first wins").
void RequestFactsBuilder::collect_cookies(const RequestView& view) noexcept {
    size_t n = 0;
    for (size_t i = 0; i < view.rule_cookie_name_count && n < cookies_.size(); ++i) {
        const std::string_view name = view.rule_cookie_names[i];
        if (name.empty() || name == view.visitor_cookie_name) {
            continue;
        }
        bool seen = false;
        for (size_t k = 0; k < n; ++k) {
            seen = seen || cookies_[k].name == name;
        }
        if (seen) {
            continue;
        }
        for (size_t h = 0; h < view.cookie_header_count; ++h) {
            std::optional<std::string_view> value = find_cookie(view.cookie_headers[h], name);
            if (!value) {
                continue;
            }
            if (value->size() <= kMaxRuleCookieValueBytes) {
                cookies_[n++] = RequestCookie{name, *value};
            }
            break;
        }
    }
    facts_.cookies = n > 0 ? cookies_.data() : nullptr;
    facts_.cookie_count = n;
}

}  // namespace tailor
