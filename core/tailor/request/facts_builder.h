// RequestFactsBuilder: RequestFacts from a plain view of the request, so the glue only
// translates and every rule about what a fact means (UTM over Referer, device class, who
// counts as logged in, which cookies a pack may read) is decided, and tested, here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tailor/request/facts.h"
#include "tailor/request/referrer.h"

namespace tailor {

// At most this many cookie names in `tailor_rule_cookies`: rules read a few
// A/B or shop flags, not the jar.
inline constexpr size_t kMaxRuleCookies = 16;
// A whitelisted cookie longer than this is not shown to rules (browsers cap
// one cookie at 4096 bytes, name included).
inline constexpr size_t kMaxRuleCookieValueBytes = 4096;

// RequestView
//
// What the glue reads off the request, as it came: raw header values (empty
// when absent), nothing interpreted. Every view must outlive the builder.
struct RequestView {
    std::string_view visitor_id;
    int64_t now = 0;              // unix seconds
    std::string_view path;        // nginx's $uri
    std::string_view query;       // nginx's $args
    std::string_view referer;     // the Referer header
    std::string_view host;        // nginx's $host, to tell internal referrers
    std::string_view user_agent;  // the User-Agent header
    // Every Cookie header value, in the order received (HTTP/2 splits them).
    const std::string_view* cookie_headers = nullptr;
    size_t cookie_header_count = 0;
    // The cookies the operator lets rules read (tailor_rule_cookies), and the
    // visitor-id cookie, which is never among them.
    const std::string_view* rule_cookie_names = nullptr;
    size_t rule_cookie_name_count = 0;
    std::string_view visitor_cookie_name;
    // The value of tailor_logged_in for this request; see is_logged_in_value.
    std::string_view logged_in;
    bool consent_personalization = true;
    std::string_view popup_runtime_path;
    std::string_view popup_beacon_path;
};

// is_logged_in_value
//
// The `tailor_logged_in` test, nginx's `proxy_no_cache` convention: a value
// that is neither empty nor "0" means logged in.
//
// Example:
//   is_logged_in_value("sess-8f2c") == true
//   is_logged_in_value("0") == false
//   is_logged_in_value("") == false
[[nodiscard]] bool is_logged_in_value(std::string_view value) noexcept;

// referrer_source
//
// The request's acquisition source as rules see it: utm_source when any utm
// tag is present (a tagged campaign link says more than the host it was
// clicked on), else the referrer class ("search", "direct", ...). Views
// `attribution`.
//
// Example:
//   referrer_source(attribution_from_request("utm_source=newsletter",
//                                            "https://www.google.com/", "shop.example"))
//       == "newsletter"
[[nodiscard]] std::string_view referrer_source(const Attribution& attribution) noexcept;

// RequestFactsBuilder
//
// Builds the facts once, in place; facts() views the builder (the
// attribution and the cookie table live in it) and `view`'s strings, so the
// builder stays where it was built (no copy, no move) while the facts are in
// use. Never allocates.
//
// Example:
//   RequestView v;
//   v.path = "/p/1";  v.query = "utm_source=mail";  v.logged_in = "1";
//   RequestFactsBuilder b(v);
//   b.facts().referrer_source == "mail";  b.facts().logged_in == true;
class RequestFactsBuilder {
  public:
    explicit RequestFactsBuilder(const RequestView& view) noexcept;
    RequestFactsBuilder(const RequestFactsBuilder&) = delete;
    RequestFactsBuilder& operator=(const RequestFactsBuilder&) = delete;

    [[nodiscard]] const RequestFacts& facts() const noexcept { return facts_; }

  private:
    void collect_cookies(const RequestView& view) noexcept;

    Attribution attribution_;
    std::array<RequestCookie, kMaxRuleCookies> cookies_{};
    RequestFacts facts_;
};

}  // namespace tailor
