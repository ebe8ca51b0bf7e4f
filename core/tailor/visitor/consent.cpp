// Consent: the one gate, checked before any profile read, cookie issue or event, that says
// whether this request may be personalized.
#include "tailor/visitor/consent.h"

#include "tailor/base/ascii.h"
#include "tailor/base/url.h"

#include <cstring>
#include <new>

namespace tailor {
namespace {

constexpr std::string_view kDefaultOneTrustGroup = "C0004";  // "Targeting Cookies"
constexpr std::string_view kDefaultCookiebotCategory = "marketing";

bool is_group_char(char c) noexcept {
    return is_ascii_alnum(c) || c == '-' || c == '_';
}

// Percent-decodes `in` into `out` (capacity kMaxConsentValueBytes); `+`
// becomes a space, as in any query string. Returns false on a bad or
// truncated escape, or a value that does not fit.
bool decode_value(std::string_view in, char* out, size_t* out_size) noexcept {
    const PercentDecoded r = percent_decode_query(in, out, kMaxConsentValueBytes);
    *out_size = r.size;
    return r.complete && !r.bad_escape;
}

// OneTrust: find `groups=` in the query string, then `GROUP:1` in its list.
bool onetrust_granted(std::string_view value, std::string_view group) noexcept {
    std::string_view rest = value;
    while (!rest.empty()) {
        const size_t amp = rest.find('&');
        const std::string_view param = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
        constexpr std::string_view kKey = "groups=";
        if (param.substr(0, kKey.size()) != kKey) {
            continue;
        }
        char decoded[kMaxConsentValueBytes];
        size_t n = 0;
        if (!decode_value(param.substr(kKey.size()), decoded, &n)) {
            return false;
        }
        std::string_view list(decoded, n);
        while (!list.empty()) {
            const size_t comma = list.find(',');
            const std::string_view item = list.substr(0, comma);
            list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
            const size_t colon = item.rfind(':');
            if (colon != std::string_view::npos && item.substr(0, colon) == group) {
                return item.substr(colon + 1) == "1";  // first listing of the group decides
            }
        }
        return false;  // the first `groups` parameter decides
    }
    return false;
}

// Cookiebot: `{key:value,key:'quoted, maybe with commas',...}` after decoding.
bool cookiebot_granted(std::string_view value, std::string_view category) noexcept {
    char decoded[kMaxConsentValueBytes];
    size_t n = 0;
    if (!decode_value(value, decoded, &n)) {
        return false;
    }
    const std::string_view text(decoded, n);
    if (text == "-1") {
        return true;  // outside every consent region
    }
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
        return false;
    }
    const std::string_view body = text.substr(1, text.size() - 2);
    size_t i = 0;
    // Reads a bare word or a '…' / "…" string; returns false if unterminated.
    bool quoted = false;
    auto read_atom = [&](std::string_view* atom, char stop) noexcept {
        quoted = i < body.size() && (body[i] == '\'' || body[i] == '"');
        if (quoted) {
            const char quote = body[i];
            const size_t end = body.find(quote, i + 1);
            if (end == std::string_view::npos) {
                return false;
            }
            *atom = body.substr(i + 1, end - i - 1);
            i = end + 1;
            return true;
        }
        const size_t start = i;
        while (i < body.size() && body[i] != stop && body[i] != ',') {
            ++i;
        }
        *atom = body.substr(start, i - start);
        return true;
    };
    while (i < body.size()) {
        std::string_view key;
        std::string_view val;
        if (!read_atom(&key, ':') || i >= body.size() || body[i] != ':') {
            return false;
        }
        ++i;
        if (!read_atom(&val, ',')) {
            return false;
        }
        if (key == category) {
            return !quoted && val == "true";  // the first mention decides; 'true' is a string
        }
        if (i < body.size()) {
            if (body[i] != ',') {
                return false;
            }
            ++i;
        }
    }
    return false;
}

void set_error(std::string* error, std::string_view a, std::string_view b = {},
               std::string_view c = {}) noexcept {
    if (error == nullptr) {
        return;
    }
    try {
        error->assign(a);
        error->append(b);
        error->append(c);
    } catch (const std::bad_alloc&) {
        error->clear();
    }
}

}  // namespace

std::optional<ConsentPolicy> parse_consent_policy(std::string_view text, std::string* error) {
    const size_t colon = text.find(':');
    const std::string_view name = text.substr(0, colon);
    const bool has_arg = colon != std::string_view::npos;
    const std::string_view arg = has_arg ? text.substr(colon + 1) : std::string_view();
    ConsentPolicy policy;
    std::string_view category;
    if (name == "none" || name == "variable") {
        if (has_arg) {
            set_error(error, "consent source \"", name, "\" takes no argument");
            return std::nullopt;
        }
        policy.source_ = name == "none" ? ConsentSource::kNone : ConsentSource::kVariable;
    } else if (name == "onetrust") {
        policy.source_ = ConsentSource::kOneTrust;
        category = has_arg ? arg : kDefaultOneTrustGroup;
        bool ok = !category.empty() && category.size() <= kConsentCategoryMaxLength;
        for (char c : category) {
            ok = ok && is_group_char(c);
        }
        if (!ok) {
            set_error(error, "onetrust group must be 1..32 characters of [A-Za-z0-9_-]");
            return std::nullopt;
        }
    } else if (name == "cookiebot") {
        policy.source_ = ConsentSource::kCookiebot;
        category = has_arg ? arg : kDefaultCookiebotCategory;
        if (category != "marketing" && category != "preferences" && category != "statistics") {
            set_error(error, "cookiebot category must be marketing, preferences or statistics");
            return std::nullopt;
        }
    } else {
        bool printable = name.size() <= 32;
        for (char c : name) {
            printable = printable && c > ' ' && c < 0x7f && c != '"';
        }
        // Echo the operator's word back only when it cannot garble the log line.
        set_error(error, "unknown consent source \"", printable ? name : std::string_view("?"),
                  "\" (expected none, variable, onetrust[:GROUP] or cookiebot[:CATEGORY])");
        return std::nullopt;
    }
    if (!category.empty()) {  // an empty view may hold nullptr, which memcpy must not see
        std::memcpy(policy.category_, category.data(), category.size());
    }
    policy.category_length_ = static_cast<unsigned char>(category.size());
    return policy;
}

std::string consent_policy_text(const ConsentPolicy& policy) {
    switch (policy.source()) {
        case ConsentSource::kNone:
            return "none";
        case ConsentSource::kVariable:
            return "variable";
        case ConsentSource::kOneTrust:
            return "onetrust:" + std::string(policy.category());
        case ConsentSource::kCookiebot:
            return "cookiebot:" + std::string(policy.category());
    }
    return "none";
}

std::string_view consent_cookie_name(ConsentSource source) noexcept {
    switch (source) {
        case ConsentSource::kOneTrust:
            return "OptanonConsent";
        case ConsentSource::kCookiebot:
            return "CookieConsent";
        case ConsentSource::kNone:
        case ConsentSource::kVariable:
            break;
    }
    return {};
}

bool is_gpc_opt_out(std::string_view sec_gpc) noexcept {
    while (!sec_gpc.empty() && (sec_gpc.front() == ' ' || sec_gpc.front() == '\t')) {
        sec_gpc.remove_prefix(1);
    }
    while (!sec_gpc.empty() && (sec_gpc.back() == ' ' || sec_gpc.back() == '\t')) {
        sec_gpc.remove_suffix(1);
    }
    return sec_gpc == "1";
}

std::string_view consent_decision_name(ConsentDecision decision) noexcept {
    switch (decision) {
        case ConsentDecision::kAllowed:
            return "allowed";
        case ConsentDecision::kGpcOptOut:
            return "gpc";
        case ConsentDecision::kNoConsent:
            return "no-consent";
    }
    return "no-consent";
}

ConsentDecision decide_consent(const ConsentPolicy& policy, bool gpc,
                               std::string_view value) noexcept {
    if (gpc) {
        return ConsentDecision::kGpcOptOut;
    }
    if (policy.source() != ConsentSource::kNone && value.size() > kMaxConsentValueBytes) {
        return ConsentDecision::kNoConsent;
    }
    bool granted = false;
    switch (policy.source()) {
        case ConsentSource::kNone:
            granted = true;
            break;
        case ConsentSource::kVariable:
            granted = value == "1" || ascii_iequals(value, "true") || ascii_iequals(value, "yes") ||
                      ascii_iequals(value, "granted");
            break;
        case ConsentSource::kOneTrust:
            granted = onetrust_granted(value, policy.category());
            break;
        case ConsentSource::kCookiebot:
            granted = cookiebot_granted(value, policy.category());
            break;
    }
    return granted ? ConsentDecision::kAllowed : ConsentDecision::kNoConsent;
}

}  // namespace tailor
