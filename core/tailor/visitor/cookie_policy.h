// CookiePolicy: which visitor cookie a request carries, and when a response may carry one.
//
// Reading: a request may carry several `tailor_vid` cookies (a subdomain or
// another path set one, or an attacker tossed one in to fix the victim onto
// the attacker's id). Taking the first or the last would let whoever wrote
// one choose; two different valid ids are therefore no id at all (a new
// visitor), and the same id twice is that id. A valid cookie older than the
// maximum age is no id either; one signed by an older key or in the previous
// release's form is accepted and re-signed at once, so operators can retire
// keys without losing returning visitors.
//
// Issuing: the access phase signs an id before the response exists; whether
// the cookie may leave depends on what the response turned out to be. A new
// id is worth issuing only on a page a person looks at: an error page (a
// scanner walking 404s, a 405 to a POST), a redirect, an image or a JSON
// answer would hand out ids nobody returns, and every issued id is an
// invitation to create state. A cookie that carries an identity link, a
// logout or a re-signature may leave on any non-error response (logins and
// logouts answer with redirects).
//
// Keeping private: a response that carries the visitor cookie, or that was
// personalized, gets Cache-Control: private in place of whatever it had. What
// it had may have asked for more than that: a shop's account page with
// no-store must stay out of the browser's disk too, and no-cache must still
// make the browser ask before it shows a stored copy. Those two only ever
// restrict, so they stay.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tailor/visitor/keyring.h"
#include "tailor/visitor/visitor_id.h"

namespace tailor {

// At most this many cookies of the visitor cookie's name are verified; more
// than this many read as a conflict (no visitor), so a pile of planted
// cookies cannot push the visitor's own out of sight.
inline constexpr size_t kMaxVisitorCookies = 8;

// At most this many Cookie headers are read (HTTP/2 sends one per cookie);
// a request with more reads as a conflict too (`more_headers`).
inline constexpr size_t kMaxCookieHeaders = 64;

// A stamp this far ahead of the server's clock still counts (clock skew
// between the servers of one site).
inline constexpr int64_t kVisitorCookieClockSkew = 300;

// VisitorCookieRead
//
// `vid` is the request's visitor, if any. `status` says why there is none
// (of the last cookie refused; kValid with `conflict` for two ids).
// `resign`: the id is good but its cookie should be replaced by one under
// the current key and form. `found`: how many cookies had the name.
struct VisitorCookieRead {
    std::optional<VisitorId> vid;
    VisitorCookieStatus status = VisitorCookieStatus::kMalformed;
    bool conflict = false;
    bool resign = false;
    size_t found = 0;
};

// read_visitor_cookies
//
// Reads every cookie named `name` in `headers` (each Cookie header value,
// in order), verifies each against `keyring`, refuses those issued more than
// `max_age` seconds before `now` (or further ahead of it than the clock
// skew), and decides as above. `more_headers`: the request had Cookie
// headers beyond these (more than kMaxCookieHeaders), which reads as a
// conflict when any cookie of the name was seen.
//
// Example:
//   std::string_view h[] = {"tailor_vid=" + a_valid_cookie + "; tailor_vid=" + another_ids};
//   read_visitor_cookies(h, 1, "tailor_vid", ring, now, 365 * 86400).conflict == true
[[nodiscard]] VisitorCookieRead read_visitor_cookies(const std::string_view* headers,
                                                     size_t header_count, std::string_view name,
                                                     const Keyring& keyring, int64_t now,
                                                     int64_t max_age,
                                                     bool more_headers = false) noexcept;

// VisitorCookieReason
//
// Why the cookie is being issued.
enum class VisitorCookieReason : unsigned char {
    kNewId = 0,   // no valid cookie came: a fresh anonymous id
    kIdentified,  // the upstream's identify header linked a customer id
    kResigned,    // a good id under an older key or form, re-signed
    kForgotten,   // the upstream said "logout": a fresh id, no link to the old one
};

// visitor_cookie_reason
//
// The reason of the cookie a request prepared: `linked` when the identify
// header linked a customer id, else `minted` when the request came without
// a valid cookie, else a re-signature (or a logout's fresh id).
//
// Example:
//   visitor_cookie_reason(false, true) == VisitorCookieReason::kNewId
[[nodiscard]] constexpr VisitorCookieReason visitor_cookie_reason(bool linked,
                                                                  bool minted) noexcept {
    return linked   ? VisitorCookieReason::kIdentified
           : minted ? VisitorCookieReason::kNewId
                    : VisitorCookieReason::kResigned;
}

// may_send_visitor_cookie
//
// True if a response with HTTP `status`, whose type is (`page_type`) or is
// not one of tailor_types, may carry a cookie issued for `reason`.
//
// Example:
//   may_send_visitor_cookie(VisitorCookieReason::kNewId, 200, true) == true
//   may_send_visitor_cookie(VisitorCookieReason::kNewId, 404, true) == false
//   may_send_visitor_cookie(VisitorCookieReason::kNewId, 200, false) == false
//   may_send_visitor_cookie(VisitorCookieReason::kIdentified, 302, false) == true
[[nodiscard]] constexpr bool may_send_visitor_cookie(VisitorCookieReason reason, unsigned status,
                                                     bool page_type) noexcept {
    if (reason == VisitorCookieReason::kNewId) {
        return status == 200 && page_type;
    }
    return status >= 200 && status < 400;
}

// CookieSecure
//
// The `tailor_cookie` setting: `secure`, `no_secure`, or neither (kAuto).
enum class CookieSecure : unsigned char { kAuto = 0, kAlways, kNever };

// visitor_cookie_secure
//
// Whether the Set-Cookie carries `Secure`: as configured, and by default
// whenever the request came over https (a cookie set over https that may
// travel over plain http can be read or overwritten by anyone on the path).
//
// Example:
//   visitor_cookie_secure(CookieSecure::kAuto, true) == true
//   visitor_cookie_secure(CookieSecure::kAuto, false) == false
//   visitor_cookie_secure(CookieSecure::kNever, true) == false
[[nodiscard]] constexpr bool visitor_cookie_secure(CookieSecure setting, bool https) noexcept {
    return setting == CookieSecure::kAlways || (setting == CookieSecure::kAuto && https);
}

// PrivateCacheControl
//
// The Cache-Control value for a response made private: add() each of the
// response's own Cache-Control fields (zero or more), then value() is
// "private", with "no-cache" and "no-store" kept when any field has that
// directive (in any case; a no-cache that names fields counts). A comma
// inside a quoted string separates no directives.
//
// Example:
//   PrivateCacheControl cc;
//   cc.add("public, max-age=600");
//   cc.add("No-Store");
//   cc.value() == "private, no-store"
//   PrivateCacheControl().value() == "private"
class PrivateCacheControl {
  public:
    void add(std::string_view cache_control) noexcept;
    [[nodiscard]] std::string_view value() const noexcept;

  private:
    bool no_cache_ = false;
    bool no_store_ = false;
};

}  // namespace tailor
