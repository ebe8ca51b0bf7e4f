// EventPath: the page path an event records, with sensitive query parameters removed.
//
// A request URI's query can carry secrets and personal data: password-reset
// tokens, magic-link codes, an email address pre-filled from a newsletter
// link, or an email platform's identity token (Klaviyo's `_kx`, Mailchimp's
// `mc_eid`). Events keep the path and the harmless parameters (a search
// query, a page number, a variant) and drop the rest, by name.
//
// Names are matched after percent-decoding and ASCII lower-casing, so
// `Email=`, `EMAIL=` and `%65mail=` are all the same parameter. The defaults
// below are always stripped; operators add their own (tailor_event_strip).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

// Events never record more of a path than this; longer ones are cut at a
// parameter boundary (or, for the path itself, at a UTF-8 boundary).
inline constexpr size_t kMaxEventPathBytes = 1024;
inline constexpr size_t kMaxQueryNameBytes = 64;

// kAlwaysStrippedQueryNames
//
// Parameters no event ever records, whatever the configuration.
inline constexpr std::string_view kAlwaysStrippedQueryNames[] = {
    "email",     "e",          "mail",     "phone",        "tel",      "name",
    "firstname", "first_name", "lastname", "last_name",    "address",  "password",
    "pass",      "pwd",        "token",    "access_token", "id_token", "refresh_token",
    "auth",      "code",       "key",      "api_key",      "apikey",   "secret",
    "session",   "sessionid",  "sid",      "signature",    "sig",      "_kx",
    "mc_eid",    "_hsenc",     "_hsmi",    "ssn",          "dob",      "card",
};

// SensitiveQuery
//
// The set of parameter names to strip: the defaults plus the operator's.
// Built at configuration time; read-only (and so shareable) afterwards.
//
// Example:
//   SensitiveQuery q;
//   (void)q.add("coupon");
//   q.is_sensitive("COUPON") == true, q.is_sensitive("page") == false
class SensitiveQuery {
  public:
    SensitiveQuery() = default;

    // add
    //
    // Adds one name (matched case-insensitively). False, and nothing added,
    // for an empty name or one longer than kMaxQueryNameBytes.
    //
    // Example:
    //   q.add("ref_code") == true, q.add("") == false
    [[nodiscard]] bool add(std::string_view name);

    // is_sensitive
    //
    // True if `decoded_name` (already percent-decoded) is stripped.
    //
    // Example:
    //   SensitiveQuery().is_sensitive("Token") == true
    [[nodiscard]] bool is_sensitive(std::string_view decoded_name) const noexcept;

  private:
    std::vector<std::string> extra_;  // lower-case
};

// append_event_path
//
// Appends `request_uri` (nginx's $request_uri: path, then optionally `?`
// and the query) to `out` with every sensitive parameter removed. The
// fragment, if any, is dropped; parameters keep their order and spelling;
// a query left empty loses its `?`. At most kMaxEventPathBytes are
// appended. Returns the number of parameters removed (for a counter), and
// never throws (out of memory appends nothing more).
//
// Example:
//   std::string p;
//   append_event_path(&p, "/reset?token=abc&lang=de&Email=a%40b.c", SensitiveQuery());
//   // == 2, p == "/reset?lang=de"
size_t append_event_path(std::string* out, std::string_view request_uri,
                         const SensitiveQuery& sensitive) noexcept;

}  // namespace tailor
