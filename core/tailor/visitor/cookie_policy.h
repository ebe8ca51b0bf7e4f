// CookiePolicy: when a response may carry the visitor cookie the access phase prepared.
//
// The access phase signs an id before the response exists; whether the
// cookie may leave depends on what the response turned out to be. A new
// id is worth issuing only on a page a person looks at: an error page (a
// scanner walking 404s, a 405 to a POST), a redirect, an image or a JSON
// answer would hand out ids nobody returns, and every issued id is an
// invitation to create state. A cookie that carries an identity link is
// different: logins answer with a redirect, so it may leave on any
// non-error response.
#pragma once

namespace tailor {

// VisitorCookieReason
//
// Why the cookie is being issued.
enum class VisitorCookieReason : unsigned char {
    kNewId = 0,   // no valid cookie came: a fresh anonymous id
    kIdentified,  // the upstream's identify header linked a customer id
};

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

}  // namespace tailor
