// EventPath: the page path an event records, reduced to parameters that name no person.
//
// A request URI's query can carry secrets and personal data: password-reset
// tokens, magic-link codes, an email address pre-filled from a newsletter
// link, an email platform's identity token (Klaviyo's `_kx`, Mailchimp's
// `mc_eid`), or an address typed into a search box. Events keep the path
// and only the parameters on an allow-list (shop URL parameters such as
// `product`, `variant`, `category`, `page`, `sort` and `utm_*` by default;
// operators add theirs with tailor_event_params), and even those only when
// their value has none of the shapes of personal data (request/
// personal_data.h). Path segments that look like an email address, a card
// number or a token are replaced by `redacted`.
//
// Names are matched after percent-decoding (twice), ASCII lower-casing and
// dropping the `amp;` an HTML-escaped link leaves (`&amp;page=2`), so
// `Page=`, `%70age=` and `amp;page=` are all `page`; `category[]=` is
// `category`. A name on the strip list (built-in plus tailor_event_strip)
// or one that says it is personal (`email`, `user[email]`, `reset_token`)
// is dropped even when allowed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

// Events never record more of a path than this; longer ones are cut at a
// parameter boundary (or, for the path itself, at a UTF-8 boundary).
inline constexpr size_t kMaxEventPathBytes = 1024;
inline constexpr size_t kMaxQueryNameBytes = 64;

// What replaces a path segment that looks like personal data.
inline constexpr std::string_view kRedactedPathSegment = "redacted";

// kDefaultEventParams
//
// Parameters events keep unless configured otherwise; a trailing `*`
// matches every name with that prefix.
inline constexpr std::string_view kDefaultEventParams[] = {
    "product", "product_id", "variant",  "variant_id", "sku",  "category", "cat",      "collection",
    "brand",   "color",      "colour",   "size",       "page", "sort",     "sort_by",  "order_by",
    "dir",     "limit",      "per_page", "view",       "lang", "locale",   "currency", "utm_*",
};

// kAlwaysStrippedQueryNames
//
// Parameters no event ever records, whatever the configuration (on top of
// every name is_personal_query_name() recognizes).
inline constexpr std::string_view kAlwaysStrippedQueryNames[] = {
    "email",        "mail",      "phone",         "tel",       "name",   "firstname", "first_name",
    "lastname",     "last_name", "address",       "password",  "pass",   "pwd",       "token",
    "access_token", "id_token",  "refresh_token", "auth",      "code",   "key",       "api_key",
    "apikey",       "secret",    "session",       "sessionid", "sid",    "signature", "sig",
    "_kx",          "mc_eid",    "_hsenc",        "_hsmi",     "ssn",    "dob",       "card",
    "otp",          "gclid",     "fbclid",        "msclkid",   "ttclid", "dclid",     "wbraid",
    "gbraid",       "_ke",
};

// SensitiveQuery
//
// The query policy of events: the names kept (defaults plus the
// operator's) and the names stripped (defaults plus the operator's). Built
// at configuration time; read-only (and so shareable) afterwards.
//
// Example:
//   SensitiveQuery q;
//   (void)q.add("coupon");
//   q.is_sensitive("COUPON") == true, q.is_sensitive("page") == false
//   q.is_allowed("utm_term") == true, q.is_allowed("coupon") == false
class SensitiveQuery {
  public:
    SensitiveQuery() noexcept;
    // Copies and moves give both sides a new serial (see serial()).
    SensitiveQuery(const SensitiveQuery& other);
    SensitiveQuery(SensitiveQuery&& other) noexcept;
    SensitiveQuery& operator=(const SensitiveQuery& other);
    SensitiveQuery& operator=(SensitiveQuery&& other) noexcept;
    ~SensitiveQuery() = default;

    // add
    //
    // Strips one more name (matched case-insensitively), even if allowed.
    // False, and nothing added, for an empty name or one longer than
    // kMaxQueryNameBytes.
    //
    // Example:
    //   q.add("ref_code") == true, q.add("") == false
    [[nodiscard]] bool add(std::string_view name);

    // allow
    //
    // Keeps one more name (lower-cased; a trailing `*` is a prefix). Returns
    // why not, empty on success: an empty, overlong or oddly spelled name
    // (1-64 of [a-z0-9_.-], then an optional `*`), or one that names
    // personal data (`email`, `customer_id`), which no configuration keeps.
    //
    // Example:
    //   q.allow("q").empty() == true
    //   q.allow("email") == "names personal data"
    [[nodiscard]] std::string_view allow(std::string_view name);

    // is_sensitive
    //
    // True if `decoded_name` (already percent-decoded) is stripped and
    // counted: on a strip list, or a personal name.
    //
    // Example:
    //   SensitiveQuery().is_sensitive("Token") == true
    //   SensitiveQuery().is_sensitive("customer_id") == true
    [[nodiscard]] bool is_sensitive(std::string_view decoded_name) const noexcept;

    // is_allowed
    //
    // True if `lower_name` (decoded, lower-case, without `[...]`) is kept.
    [[nodiscard]] bool is_allowed(std::string_view lower_name) const noexcept;

    // SensitiveQuery::serial
    //
    // Unique to this policy's content in this process: a new one for each
    // object built and each add() or allow(), so verdicts remembered per name
    // (append_event_path's cache) never outlive the policy they were made by.
    [[nodiscard]] uint64_t serial() const noexcept { return serial_; }

  private:
    std::vector<std::string> extra_;    // stripped, lower-case
    std::vector<std::string> allowed_;  // kept, lower-case, `*` suffix a prefix
    uint64_t serial_ = 0;
};

// append_event_path
//
// Appends `request_uri` (nginx's $request_uri: path, then optionally `?`
// and the query) to `out` with only the allowed parameters whose values
// look like no personal data, and path segments that do replaced by
// kRedactedPathSegment. The fragment, if any, is dropped; parameters keep
// their order and spelling; a query left empty loses its `?`. At most
// kMaxEventPathBytes are appended. Returns the number of sensitive things
// removed (a sensitive name, a personal-looking value or path segment; a
// harmless name that is merely not allowed, such as the beacon's own `e`,
// is dropped without being counted), and never throws (out of memory
// appends nothing more).
//
// Example:
//   std::string p;
//   append_event_path(&p, "/reset?token=abc&page=2&Email=a%40b.c&x=1", SensitiveQuery());
//   // == 2, p == "/reset?page=2"
size_t append_event_path(std::string* out, std::string_view request_uri,
                         const SensitiveQuery& sensitive) noexcept;

}  // namespace tailor
