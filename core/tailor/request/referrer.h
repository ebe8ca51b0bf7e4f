// Referrer: where a visit came from, as the event stream records it: utm_* tags and the
// class of the referring host.
//
// Stored: utm_source, utm_medium and utm_campaign (percent-decoded, at most
// kMaxUtmValueBytes each), the class of the Referer's host (direct, internal,
// search, social, email, other) and that host name alone (lower-case, at most
// kMaxReferrerHostBytes). Never stored: the Referer's path or query, which can
// hold search terms, session tokens or an email address from a webmail link;
// a utm value or host that looks like personal data (request/personal_data.h);
// more of a webmail or click-tracker host than its listed name
// (`u123.klclick.com` is stored as `klclick.com`).
//
// Everything lives in fixed inline storage: an Attribution is trivially
// copyable and building one never allocates.
#pragma once

#include <cstddef>
#include <string_view>

namespace tailor {

inline constexpr size_t kMaxUtmValueBytes = 100;
inline constexpr size_t kMaxReferrerHostBytes = 100;

// ReferrerClass
//
// kDirect: no Referer (typed URL, bookmark, app, or a referrer policy that
// strips it). kInternal: the Referer's host is the request's own host.
enum class ReferrerClass : unsigned char {
    kDirect = 0,
    kInternal,
    kSearch,
    kSocial,
    kEmail,
    kOther,
};

// referrer_class_name
//
// The lower-case name stored in events.
//
// Example:
//   referrer_class_name(ReferrerClass::kSearch) == "search"
[[nodiscard]] std::string_view referrer_class_name(ReferrerClass c) noexcept;

// parse_referrer_class
//
// The inverse of referrer_class_name; kOther for unknown names.
//
// Example:
//   parse_referrer_class("email") == ReferrerClass::kEmail
[[nodiscard]] ReferrerClass parse_referrer_class(std::string_view name) noexcept;

// classify_referrer_host
//
// The class of a lower-case host name, given the request's own host.
//
// Example:
//   classify_referrer_host("www.google.de", "shop.example") == ReferrerClass::kSearch
//   classify_referrer_host("l.instagram.com", "shop.example") == ReferrerClass::kSocial
//   classify_referrer_host("shop.example", "shop.example") == ReferrerClass::kInternal
//   classify_referrer_host("", "shop.example") == ReferrerClass::kDirect
[[nodiscard]] ReferrerClass classify_referrer_host(std::string_view host,
                                                   std::string_view own_host) noexcept;

// Attribution
//
// The acquisition fields of one request. Views returned by the accessors are
// valid as long as this object.
class Attribution {
  public:
    [[nodiscard]] std::string_view utm_source() const noexcept { return {source_, source_len_}; }
    [[nodiscard]] std::string_view utm_medium() const noexcept { return {medium_, medium_len_}; }
    [[nodiscard]] std::string_view utm_campaign() const noexcept {
        return {campaign_, campaign_len_};
    }
    [[nodiscard]] ReferrerClass referrer_class() const noexcept { return class_; }
    [[nodiscard]] std::string_view referrer_host() const noexcept { return {host_, host_len_}; }

    // True when no utm tag was present (the referrer class still applies).
    [[nodiscard]] bool has_utm() const noexcept {
        return source_len_ + medium_len_ + campaign_len_ != 0;
    }

  private:
    friend Attribution attribution_from_request(std::string_view, std::string_view,
                                                std::string_view) noexcept;
    friend Attribution make_attribution(std::string_view, std::string_view, std::string_view,
                                        ReferrerClass, std::string_view) noexcept;

    char source_[kMaxUtmValueBytes] = {};
    char medium_[kMaxUtmValueBytes] = {};
    char campaign_[kMaxUtmValueBytes] = {};
    char host_[kMaxReferrerHostBytes] = {};
    unsigned char source_len_ = 0;
    unsigned char medium_len_ = 0;
    unsigned char campaign_len_ = 0;
    unsigned char host_len_ = 0;
    ReferrerClass class_ = ReferrerClass::kDirect;
};

// attribution_from_request
//
// Reads utm_source, utm_medium and utm_campaign from `query` (the request's
// query string without `?`, as nginx's $args), percent-decoding `+` and
// `%XX`; the first occurrence of each wins, and a value longer than
// kMaxUtmValueBytes is cut at a UTF-8 character boundary. Classifies the
// host of `referer` (the Referer header, absolute URL) against `own_host`
// (nginx's $host). A Referer without a parsable http(s) host counts as
// kOther with no host; a host longer than kMaxReferrerHostBytes keeps its
// class but is not stored.
//
// Example:
//   auto a = attribution_from_request("utm_source=newsletter&utm_medium=email&id=3",
//                                     "https://mail.google.com/mail/u/0/", "shop.example");
//   a.utm_source() == "newsletter", a.utm_medium() == "email", a.utm_campaign() == ""
//   a.referrer_class() == ReferrerClass::kEmail, a.referrer_host() == "mail.google.com"
[[nodiscard]] Attribution attribution_from_request(std::string_view query, std::string_view referer,
                                                   std::string_view own_host) noexcept;

// make_attribution
//
// An Attribution from already-decoded parts (decoders and tests); values are
// cut to their caps like attribution_from_request does.
//
// Example:
//   make_attribution("google", "cpc", "spring", ReferrerClass::kSearch, "www.google.com")
[[nodiscard]] Attribution make_attribution(std::string_view utm_source, std::string_view utm_medium,
                                           std::string_view utm_campaign, ReferrerClass c,
                                           std::string_view host) noexcept;

}  // namespace tailor
