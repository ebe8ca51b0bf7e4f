// SameOrigin: Sec-Fetch-Site, else Origin with scheme and host.
#include "tailor/request/same_origin.h"

#include "tailor/base/ascii.h"

namespace tailor {

bool is_same_origin_request(std::optional<std::string_view> sec_fetch_site,
                            std::optional<std::string_view> origin, std::string_view host,
                            bool https) noexcept {
    if (sec_fetch_site) {
        return *sec_fetch_site == "same-origin";
    }
    if (!origin || host.empty()) {
        return false;
    }
    const std::string_view scheme = https ? "https://" : "http://";
    if (origin->size() != scheme.size() + host.size() ||
        !ascii_iequals(origin->substr(0, scheme.size()), scheme)) {
        return false;
    }
    return ascii_iequals(origin->substr(scheme.size()), host);
}

}  // namespace tailor
