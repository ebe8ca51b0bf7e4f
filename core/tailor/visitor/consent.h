// Consent: the one gate, checked before any profile read, cookie issue or event, that says
// whether this request may be personalized.
//
// Inputs: whether the browser sent `Sec-GPC: 1` (Global Privacy Control),
// and one consent value whose meaning depends on the configured source:
//
//   none       no consent banner is required here; only GPC applies.
//   variable   the value of an nginx variable the operator computes (e.g. from
//              their own cookie or a map): "1", "true", "yes" or "granted"
//              (ASCII case-insensitive) grants; anything else, or empty,
//              denies.
//   onetrust[:GROUP]
//              the `OptanonConsent` cookie: a URL-encoded query string whose
//              `groups` parameter lists `GROUP:1` (granted) or `GROUP:0`,
//              e.g. `...&groups=C0001%3A1%2CC0004%3A1&...`. Grants if GROUP
//              (default C0004, "Targeting Cookies") is listed with `:1`.
//   cookiebot[:CATEGORY]
//              the `CookieConsent` cookie: a URL-encoded JS-style object,
//              e.g. `{stamp:%27..%27%2Cnecessary:true%2Cmarketing:false...}`.
//              Grants if CATEGORY (default marketing; also preferences or
//              statistics) is `true`. The value `-1` means Cookiebot found
//              the visitor outside any consent region: granted.
//
// Order: GPC first. A browser that says "do not sell or share" opts out even
// if a banner click says otherwise; the GPC signal is the more recent and the
// more deliberate one, and the laws that honor it (CCPA/CPRA, Colorado) do
// not let a pre-ticked banner override it. Then the source.
//
// A missing cookie, a value that is malformed, truncated, longer than
// kMaxConsentValueBytes, or has a bad %-escape denies: when in doubt, no
// personalization. Parsing is bounded and never allocates.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tailor {

inline constexpr size_t kConsentCategoryMaxLength = 32;
// Browsers cap one cookie at 4096 bytes, name included; longer is not a
// consent cookie any CMP wrote.
inline constexpr size_t kMaxConsentValueBytes = 4096;

// ConsentSource
//
// Where consent comes from; see the file comment.
enum class ConsentSource : unsigned char {
    kNone = 0,
    kVariable,
    kOneTrust,
    kCookiebot,
};

// ConsentPolicy
//
// A parsed policy: the source and, for onetrust and cookiebot, the group or
// category that must be granted. Trivially copyable with inline storage, so
// it can sit in an nginx location conf; all-zero bytes are the policy "none".
class ConsentPolicy {
  public:
    // ConsentPolicy::source
    //
    // Example:
    //   parse_consent_policy("cookiebot", &err)->source() == ConsentSource::kCookiebot
    [[nodiscard]] ConsentSource source() const noexcept { return source_; }

    // ConsentPolicy::category
    //
    // The OneTrust group or Cookiebot category; empty for none and variable.
    //
    // Example:
    //   parse_consent_policy("onetrust", &err)->category() == "C0004"
    [[nodiscard]] std::string_view category() const noexcept {
        return {category_, category_length_};
    }

    friend bool operator==(const ConsentPolicy& a, const ConsentPolicy& b) noexcept {
        return a.source_ == b.source_ && a.category() == b.category();
    }
    friend bool operator!=(const ConsentPolicy& a, const ConsentPolicy& b) noexcept {
        return !(a == b);
    }

  private:
    friend std::optional<ConsentPolicy> parse_consent_policy(std::string_view text,
                                                             std::string* error);

    ConsentSource source_ = ConsentSource::kNone;
    unsigned char category_length_ = 0;
    char category_[kConsentCategoryMaxLength] = {};
};

// parse_consent_policy
//
// Parses operator text: "none", "variable", "onetrust", "onetrust:GROUP"
// (GROUP is [A-Za-z0-9_-]{1,32}), "cookiebot", "cookiebot:CATEGORY"
// (marketing, preferences or statistics). Case-sensitive. On bad input
// returns nullopt and, when `error` is given, a message for `nginx -t`.
//
// Example:
//   std::string err;
//   parse_consent_policy("onetrust:C0002", &err)->category() == "C0002"
//   parse_consent_policy("cookiebot:necessary", &err);  // nullopt,
//   // err == "cookiebot category must be marketing, preferences or statistics"
[[nodiscard]] std::optional<ConsentPolicy> parse_consent_policy(std::string_view text,
                                                                std::string* error);

// consent_policy_text
//
// The canonical text of a policy, which parses back to it; for logs.
//
// Example:
//   consent_policy_text(*parse_consent_policy("onetrust", &err)) == "onetrust:C0004"
[[nodiscard]] std::string consent_policy_text(const ConsentPolicy& policy);

// consent_cookie_name
//
// The cookie that carries the consent value for this policy's source, or
// empty for none and variable (nothing to read from cookies).
//
// Example:
//   consent_cookie_name(ConsentSource::kOneTrust) == "OptanonConsent"
//   consent_cookie_name(ConsentSource::kCookiebot) == "CookieConsent"
[[nodiscard]] std::string_view consent_cookie_name(ConsentSource source) noexcept;

// is_gpc_opt_out
//
// True if a `Sec-GPC` header value signals opt-out. The GPC spec defines only
// "1"; surrounding spaces and tabs are ignored, anything else is no signal.
//
// Example:
//   is_gpc_opt_out("1") == true
//   is_gpc_opt_out("0") == false
[[nodiscard]] bool is_gpc_opt_out(std::string_view sec_gpc) noexcept;

// ConsentDecision
//
// The gate's answer. Only kAllowed lets a request read a profile, get a
// cookie or produce an event.
enum class ConsentDecision : unsigned char {
    kAllowed = 0,
    kGpcOptOut,  // Sec-GPC: 1
    kNoConsent,  // the source did not grant (or could not be read)
};

// consent_decision_name
//
// The lower-case name, matching outcome_name() for the two refusals.
//
// Example:
//   consent_decision_name(ConsentDecision::kNoConsent) == "no-consent"
//   consent_decision_name(ConsentDecision::kGpcOptOut) == "gpc"
//   consent_decision_name(ConsentDecision::kAllowed) == "allowed"
[[nodiscard]] std::string_view consent_decision_name(ConsentDecision decision) noexcept;

// decide_consent
//
// The gate. `gpc` is is_gpc_opt_out() of the request's Sec-GPC header;
// `value` is the consent value for the policy's source (the variable's value,
// or the consent cookie's value as find_cookie returns it, still
// URL-encoded; empty when absent). Ignored for source none.
//
// Example:
//   auto p = *parse_consent_policy("onetrust", &err);
//   decide_consent(p, false, "groups=C0001%3A1%2CC0004%3A1") == ConsentDecision::kAllowed
//   decide_consent(p, false, "groups=C0001%3A1%2CC0004%3A0") == ConsentDecision::kNoConsent
//   decide_consent(p, true, "groups=C0004%3A1") == ConsentDecision::kGpcOptOut
[[nodiscard]] ConsentDecision decide_consent(const ConsentPolicy& policy, bool gpc,
                                             std::string_view value) noexcept;

}  // namespace tailor
