// Referrer: utm_* extraction and referring-host classification, all into inline storage.
#include "tailor/request/referrer.h"

#include "tailor/base/ascii.h"
#include "tailor/base/url.h"
#include "tailor/base/utf8.h"
#include "tailor/request/personal_data.h"

#include <array>
#include <cstring>

namespace tailor {
namespace {

// Percent-decodes `in` (`+` is a space) into out[0, cap); returns the length.
// A malformed escape is kept literally, as browsers show it.
// A value that looks like personal data (an address in utm_source, a phone
// number in utm_campaign) is not stored at all.
unsigned char decode_into(std::string_view in, char* out, size_t cap) noexcept {
    if (personal_shape(in) != PersonalShape::kNone) {
        return 0;
    }
    const PercentDecoded r = percent_decode_query(in, out, cap);
    return static_cast<unsigned char>(utf8_partial_tail_cut(std::string_view(out, r.size)));
}

unsigned char copy_into(std::string_view in, char* out, size_t cap) noexcept {
    if (personal_shape(in) != PersonalShape::kNone) {
        return 0;
    }
    const size_t n = in.size() < cap ? in.size() : cap;
    if (n == 0) {
        return 0;  // an empty view may have no data() at all
    }
    std::memcpy(out, in.data(), n);
    return static_cast<unsigned char>(utf8_partial_tail_cut(std::string_view(out, n)));
}

bool ends_with_label(std::string_view host, std::string_view suffix) noexcept {
    if (host.size() < suffix.size() || host.substr(host.size() - suffix.size()) != suffix) {
        return false;
    }
    return host.size() == suffix.size() || host[host.size() - suffix.size() - 1] == '.';
}

// `host` contains `.label.` or starts with `label.`: matches every country
// domain of a search engine (google.de, google.co.uk) without listing them.
bool has_label(std::string_view host, std::string_view label) noexcept {
    for (size_t pos = host.find(label); pos != std::string_view::npos;
         pos = host.find(label, pos + 1)) {
        const bool starts = pos == 0 || host[pos - 1] == '.';
        const size_t end = pos + label.size();
        if (starts && end < host.size() && host[end] == '.') {
            return true;
        }
    }
    return false;
}

// Webmail and email-platform click trackers come first: mail.google.com is
// email, not search.
constexpr std::array<std::string_view, 12> kEmailHosts = {
    "mail.google.com", "outlook.live.com", "outlook.office.com", "outlook.office365.com",
    "mail.yahoo.com",  "mail.aol.com",     "mail.proton.me",     "klclick.com",
    "klclick1.com",    "klclick2.com",     "list-manage.com",    "sendgrid.net",
};
constexpr std::array<std::string_view, 9> kSearchLabels = {
    "google", "bing", "duckduckgo", "yahoo", "baidu", "yandex", "ecosia", "qwant", "startpage",
};
constexpr std::array<std::string_view, 14> kSocialHosts = {
    "facebook.com", "fb.com",        "instagram.com", "t.co",         "twitter.com",
    "x.com",        "pinterest.com", "tiktok.com",    "linkedin.com", "lnkd.in",
    "reddit.com",   "youtube.com",   "threads.net",   "snapchat.com",
};

// The host an event may keep: a webmail or click-tracker host is cut to the
// listed name (`u123.klclick.com` names one recipient, `klclick.com` none),
// and a host with a label that looks like a token or an address is not kept.
std::string_view attributable_host(std::string_view host, ReferrerClass c) noexcept {
    if (c == ReferrerClass::kEmail) {
        for (std::string_view h : kEmailHosts) {
            if (ends_with_label(host, h)) {
                return h;
            }
        }
        return {};
    }
    if (personal_shape(host) != PersonalShape::kNone) {
        return {};
    }
    return host;
}

}  // namespace

std::string_view referrer_class_name(ReferrerClass c) noexcept {
    switch (c) {
        case ReferrerClass::kDirect:
            return "direct";
        case ReferrerClass::kInternal:
            return "internal";
        case ReferrerClass::kSearch:
            return "search";
        case ReferrerClass::kSocial:
            return "social";
        case ReferrerClass::kEmail:
            return "email";
        case ReferrerClass::kOther:
            break;
    }
    return "other";
}

ReferrerClass parse_referrer_class(std::string_view name) noexcept {
    for (ReferrerClass c :
         {ReferrerClass::kDirect, ReferrerClass::kInternal, ReferrerClass::kSearch,
          ReferrerClass::kSocial, ReferrerClass::kEmail}) {
        if (referrer_class_name(c) == name) {
            return c;
        }
    }
    return ReferrerClass::kOther;
}

ReferrerClass classify_referrer_host(std::string_view host, std::string_view own_host) noexcept {
    if (host.empty()) {
        return ReferrerClass::kDirect;
    }
    if (ascii_iequals(host, own_host)) {
        return ReferrerClass::kInternal;
    }
    for (std::string_view h : kEmailHosts) {
        if (ends_with_label(host, h)) {
            return ReferrerClass::kEmail;
        }
    }
    for (std::string_view h : kSocialHosts) {
        if (ends_with_label(host, h)) {
            return ReferrerClass::kSocial;
        }
    }
    for (std::string_view l : kSearchLabels) {
        if (has_label(host, l)) {
            return ReferrerClass::kSearch;
        }
    }
    return ReferrerClass::kOther;
}

Attribution make_attribution(std::string_view utm_source, std::string_view utm_medium,
                             std::string_view utm_campaign, ReferrerClass c,
                             std::string_view host) noexcept {
    Attribution a;
    a.source_len_ = copy_into(utm_source, a.source_, kMaxUtmValueBytes);
    a.medium_len_ = copy_into(utm_medium, a.medium_, kMaxUtmValueBytes);
    a.campaign_len_ = copy_into(utm_campaign, a.campaign_, kMaxUtmValueBytes);
    if (host.size() <= kMaxReferrerHostBytes) {
        a.host_len_ = copy_into(attributable_host(host, c), a.host_, kMaxReferrerHostBytes);
    }
    a.class_ = c;
    return a;
}

Attribution attribution_from_request(std::string_view query, std::string_view referer,
                                     std::string_view own_host) noexcept {
    Attribution a;
    bool have_source = false;
    bool have_medium = false;
    bool have_campaign = false;
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        const size_t eq = param.find('=');
        if (eq == std::string_view::npos) {
            continue;
        }
        const std::string_view name = param.substr(0, eq);
        const std::string_view value = param.substr(eq + 1);
        if (name == "utm_source" && !have_source) {
            a.source_len_ = decode_into(value, a.source_, kMaxUtmValueBytes);
            have_source = true;
        } else if (name == "utm_medium" && !have_medium) {
            a.medium_len_ = decode_into(value, a.medium_, kMaxUtmValueBytes);
            have_medium = true;
        } else if (name == "utm_campaign" && !have_campaign) {
            a.campaign_len_ = decode_into(value, a.campaign_, kMaxUtmValueBytes);
            have_campaign = true;
        }
    }

    if (referer.empty()) {
        a.class_ = ReferrerClass::kDirect;
        return a;
    }
    // scheme "://" authority: only http(s) referrers name a host we classify.
    std::string_view rest;
    if (referer.size() > 8 && ascii_lower(referer[0]) == 'h' && ascii_lower(referer[1]) == 't' &&
        ascii_lower(referer[2]) == 't' && ascii_lower(referer[3]) == 'p') {
        if (referer.substr(4, 3) == "://") {
            rest = referer.substr(7);
        } else if (ascii_lower(referer[4]) == 's' && referer.substr(5, 3) == "://") {
            rest = referer.substr(8);
        }
    }
    const size_t end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end);
    const size_t at = authority.rfind('@');  // userinfo is never stored
    if (at != std::string_view::npos) {
        authority = authority.substr(at + 1);
    }
    std::string_view host = authority;
    if (!host.empty() && host[0] != '[') {
        host = host.substr(0, host.find(':'));
    }
    if (host.empty()) {
        a.class_ = ReferrerClass::kOther;
        return a;
    }
    char lowered[kMaxReferrerHostBytes];
    const bool fits = host.size() <= kMaxReferrerHostBytes;
    const size_t n = fits ? host.size() : 0;
    for (size_t i = 0; i < n; ++i) {
        const char c = ascii_lower(host[i]);
        const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                        c == '[' || c == ']' || c == ':';
        lowered[i] = ok ? c : '?';
    }
    const std::string_view lhost(lowered, n);
    a.class_ = fits ? classify_referrer_host(lhost, own_host) : ReferrerClass::kOther;
    if (fits) {
        const std::string_view kept = attributable_host(lhost, a.class_);
        if (!kept.empty()) {  // an empty view may have no data() at all
            std::memcpy(a.host_, kept.data(), kept.size());
        }
        a.host_len_ = static_cast<unsigned char>(kept.size());
    }
    return a;
}

}  // namespace tailor
