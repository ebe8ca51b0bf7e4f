// SameOrigin: whether a request comes from the shop's own pages, by what the browser says.
//
// The pop-up beacon writes a visitor's caps, so only the shop's own pages may
// call it. Browsers say where a request comes from in Sec-Fetch-Site; older
// ones only in Origin, which must then name this very origin: the same host
// (and port) *and* the same scheme, since a page served over plain http on
// the same host name (a captive portal, a downgrade) is another origin.
#pragma once

#include <optional>
#include <string_view>

namespace tailor {

// is_same_origin_request
//
// `sec_fetch_site` and `origin` are the headers' values, nullopt when
// absent; `host` the Host header; `https` whether the request came over TLS.
// Sec-Fetch-Site, when present, decides alone ("same-origin"). Otherwise
// Origin must be `<scheme>://<host>` with the request's scheme and host
// (ASCII case-insensitive). Neither header: false.
//
// Example:
//   is_same_origin_request(std::nullopt, "https://shop.example", "shop.example", true) == true
//   is_same_origin_request(std::nullopt, "http://shop.example", "shop.example", true) == false
//   is_same_origin_request("cross-site", "https://shop.example", "shop.example", true) == false
[[nodiscard]] bool is_same_origin_request(std::optional<std::string_view> sec_fetch_site,
                                          std::optional<std::string_view> origin,
                                          std::string_view host, bool https) noexcept;

}  // namespace tailor
