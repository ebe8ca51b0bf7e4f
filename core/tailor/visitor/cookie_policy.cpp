// CookiePolicy: reading the request's visitor cookies (several, aged, re-signed).
#include "tailor/visitor/cookie_policy.h"

#include "tailor/base/ascii.h"
#include "tailor/request/cookie_header.h"

namespace tailor {

VisitorCookieRead read_visitor_cookies(const std::string_view* headers, size_t header_count,
                                       std::string_view name, const Keyring& keyring, int64_t now,
                                       int64_t max_age, bool more_headers) noexcept {
    VisitorCookieRead out;
    if (name.empty()) {
        return out;
    }
    for (size_t h = 0; h < header_count; ++h) {
        CookieCursor cursor(headers[h]);
        Cookie c;
        while (cursor.next(&c)) {
            if (c.name != name) {
                continue;
            }
            if (++out.found > kMaxVisitorCookies) {
                out.conflict = true;  // counted, not verified: the scan stays linear
                continue;
            }
            VisitorCookieCheck check = check_visitor_cookie(c.value, keyring);
            if (check.status == VisitorCookieStatus::kValid && !check.legacy &&
                (check.issued_at > now + kVisitorCookieClockSkew ||
                 now - check.issued_at > max_age)) {
                check.status = VisitorCookieStatus::kExpired;
                check.vid.reset();
            }
            if (check.status != VisitorCookieStatus::kValid || !check.vid) {
                if (!out.vid) {
                    out.status = check.status;
                }
                continue;
            }
            if (out.vid && *out.vid != *check.vid) {
                out.conflict = true;
                continue;
            }
            const bool resign = check.legacy || check.kid != keyring.current_kid();
            out.resign = out.vid ? (out.resign && resign) : resign;
            out.vid = check.vid;
            out.status = VisitorCookieStatus::kValid;
        }
    }
    if (more_headers && out.found > 0) {
        out.conflict = true;
    }
    if (out.conflict) {
        out.vid.reset();
        out.resign = false;
    }
    return out;
}

void PrivateCacheControl::add(std::string_view cache_control) noexcept {
    const std::string_view v = cache_control;
    size_t i = 0;
    while (i < v.size()) {
        while (i < v.size() && (v[i] == ',' || is_ascii_space(v[i]))) {
            ++i;
        }
        const size_t name_start = i;
        while (i < v.size() && v[i] != ',' && v[i] != '=' && !is_ascii_space(v[i])) {
            ++i;
        }
        const std::string_view name = v.substr(name_start, i - name_start);
        no_cache_ = no_cache_ || ascii_iequals(name, "no-cache");
        no_store_ = no_store_ || ascii_iequals(name, "no-store");
        bool quoted = false;  // the directive's argument, if any, up to the next comma
        while (i < v.size() && (quoted || v[i] != ',')) {
            if (v[i] == '\\' && quoted && i + 1 < v.size()) {
                ++i;
            } else if (v[i] == '"') {
                quoted = !quoted;
            }
            ++i;
        }
    }
}

std::string_view PrivateCacheControl::value() const noexcept {
    if (no_cache_ && no_store_) {
        return "private, no-cache, no-store";
    }
    if (no_store_) {
        return "private, no-store";
    }
    return no_cache_ ? "private, no-cache" : "private";
}

}  // namespace tailor
