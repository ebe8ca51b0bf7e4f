// CookieHeader: finding one cookie in a `Cookie:` request header value, without allocating.
//
// Grammar accepted (RFC 6265 section 5.4 as browsers send it, read leniently):
//   header  = segment *( ";" segment )
//   segment = OWS name OWS "=" OWS value OWS
// OWS is spaces and tabs. The name is an RFC 7230 token (no separators, no
// controls, no spaces) and is compared case-sensitively, byte for byte. A
// value wrapped in double quotes (`name="v"`) is handed back without them.
// Segments that do not fit (no `=`, an empty or non-token name, a value that
// opens a quote it does not close, a quote inside a value) are skipped, so
// one broken cookie set by some other script never hides the ones after it.
// The old `,` separator of RFC 2965 is not supported: browsers never send it.
//
// nginx may hand over several Cookie headers (HTTP/2 splits them). Search
// them in the order received and stop at the first hit; within one header
// the first occurrence wins too, so "first wins" holds across all of them.
// That matches what browsers do: the cookie with the longest path comes first.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace tailor {

// Cookie
//
// One name/value pair; both view the header value passed in.
struct Cookie {
    std::string_view name;
    std::string_view value;  // without surrounding quotes
};

// CookieCursor
//
// Walks the well-formed cookies of one header value in order.
//
// Example:
//   CookieCursor cursor("a=1; junk; b=\"2\"");
//   Cookie c;
//   cursor.next(&c);  // true, c == {"a", "1"}
//   cursor.next(&c);  // true, c == {"b", "2"}
//   cursor.next(&c);  // false
class CookieCursor {
  public:
    explicit CookieCursor(std::string_view header) noexcept : rest_(header) {}

    // next
    //
    // Stores the next well-formed cookie in `*out` and returns true, or
    // returns false when the header has no more. Skips garbage segments.
    [[nodiscard]] bool next(Cookie* out) noexcept;

  private:
    std::string_view rest_;
};

// find_cookie
//
// The value of the first well-formed cookie named `name` in one Cookie header
// value, or nullopt. The value may be empty (`name=`). An empty `name` never
// matches.
//
// Example:
//   find_cookie("a=1; tailor_vid=\"x.y.z\"; a=2", "a")           == "1"
//   find_cookie("a=1; tailor_vid=\"x.y.z\"; a=2", "tailor_vid")  == "x.y.z"
//   find_cookie("A=1", "a")                                      == std::nullopt
//
//   // Several headers: search in order, first hit wins.
//   for (std::string_view h : cookie_headers) {
//       if (auto v = find_cookie(h, "tailor_vid")) return v;
//   }
[[nodiscard]] std::optional<std::string_view> find_cookie(std::string_view header,
                                                          std::string_view name) noexcept;

// is_cookie_name
//
// True if `name` is a cookie name find_cookie can match: a non-empty RFC 7230
// token. Configuration checks operator-given names with it.
//
// Example:
//   is_cookie_name("ab_test") == true
//   is_cookie_name("a b") == false
[[nodiscard]] bool is_cookie_name(std::string_view name) noexcept;

}  // namespace tailor
