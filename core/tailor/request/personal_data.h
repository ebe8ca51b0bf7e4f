// PersonalData: what in a request's text identifies a person, by shape and by name.
//
// Events and the live map must carry no personal data by construction. Names
// alone cannot promise that (an email address hides in `utm_term`, `q` or
// `utm_source` as easily as in `email`), so every value that leaves in an
// event is also checked for the shapes personal data takes: an email address,
// a phone number, a payment card number, and a token (a long run of
// random-looking characters: reset links, magic links, session ids, an email
// platform's identity token). The checks see through percent-encoding (also
// doubled), `+` for a space and the HTML escapes of `@`.
//
// The shapes err on the side of dropping: a 20-character run of letters and
// digits is a token even when it is a product code. docs/privacy.md lists
// each rule.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

// PersonalShape
//
// What a value looks like; kNone when none of the shapes matched.
enum class PersonalShape : unsigned char {
    kNone = 0,
    kEmail,
    kPhone,
    kCard,
    kToken,
    kUnreadable,  // too long to check, or not decodable: treated as personal
};

// Values longer than this (decoded) are not checked but refused: nothing an
// event keeps is that long (kMaxEventPathBytes is 1024).
inline constexpr size_t kMaxCheckedValueBytes = 1024;

// A run of at least this many letters and digits that has both is a token.
inline constexpr size_t kMinTokenRunBytes = 20;

// personal_shape
//
// Classifies `value` as it appears in a query string (percent-encoded, `+`
// for a space; decoded up to twice) or already decoded (decoding a decoded
// value is harmless for these checks).
//
// Example:
//   personal_shape("ann%40example.com") == PersonalShape::kEmail
//   personal_shape("ann&#64;example.com") == PersonalShape::kEmail
//   personal_shape("%2B49+30+1234567") == PersonalShape::kPhone
//   personal_shape("4111111111111111") == PersonalShape::kCard
//   personal_shape("eyJhbGciOiJIUzI1NiJ9") == PersonalShape::kToken
//   personal_shape("red shoes") == PersonalShape::kNone
[[nodiscard]] PersonalShape personal_shape(std::string_view value) noexcept;

// personal_shape_name
//
// "email", "phone", "card", "token", "unreadable", or "" for kNone.
[[nodiscard]] std::string_view personal_shape_name(PersonalShape s) noexcept;

// is_personal_property_value
//
// The run-time check on a declared event property's value (config time
// already refused variables that name a person): an email address or a
// card number. Phone and token shapes are left alone here, since order ids
// and product codes take them.
//
// Example:
//   is_personal_property_value("ann%40example.com") == true
//   is_personal_property_value("3f2c9a1e-4b7d-4e8a-9c6f-1a2b3c4d5e6f") == false
[[nodiscard]] bool is_personal_property_value(std::string_view value) noexcept;

// contains_email
//
// True if decoded `s` holds `local@domain` (also `&#64;`, `&#x40;`,
// `&commat;` and the fullwidth `＠` for the `@`).
//
// Example:
//   contains_email("write to ann@example.com") == true
//   contains_email("@shop") == false
[[nodiscard]] bool contains_email(std::string_view s) noexcept;

// is_personal_query_name
//
// True if a decoded, lower-case query parameter name says it carries
// personal data or a secret: any of its parts (split at everything but
// letters and digits) is a name such as `email`, `phone`, `token`, `otp`,
// `password`, `customer`, `user`, or it contains `mail`, `token`, `phone`
// or `passw`. Used to count what the allow-list dropped as sensitive.
//
// Example:
//   is_personal_query_name("user[email]") == true
//   is_personal_query_name("reset_token") == true
//   is_personal_query_name("page") == false
[[nodiscard]] bool is_personal_query_name(std::string_view lower_name) noexcept;

// personal_variable
//
// The first nginx variable in `complex_value` (an nginx complex value such
// as "$remote_addr" or "ip=${remote_addr}!") that carries data identifying a
// person or a secret: the client address in any of its forms, the
// User-Agent, cookies, credentials, the raw request line, URI, query or
// body, the Referer, client certificates, and `$arg_NAME` /
// `$cookie_NAME` / `$http_NAME` whose NAME is a personal query name.
// Empty when there is none.
//
// Example:
//   personal_variable("$remote_addr") == "remote_addr"
//   personal_variable("${http_user_agent}") == "http_user_agent"
//   personal_variable("$arg_email") == "arg_email"
//   personal_variable("$arg_sku") == ""
[[nodiscard]] std::string_view personal_variable(std::string_view complex_value) noexcept;

}  // namespace tailor
