// EventPath: the allow-list of query names, the shape checks on what it keeps, redacted segments.
#include "tailor/events/path.h"

#include "tailor/base/ascii.h"
#include "tailor/base/url.h"
#include "tailor/base/utf8.h"
#include "tailor/base/word_filter.h"
#include "tailor/request/personal_data.h"

#include <atomic>
#include <cstdint>
#include <utility>

namespace tailor {
namespace {

constexpr WordFilter kAlwaysStrippedFilter(kAlwaysStrippedQueryNames);
constexpr WordFilter kDefaultEventParamFilter(kDefaultEventParams);

bool has_hex_escape(std::string_view s) noexcept {
    for (size_t i = s.find('%'); i != std::string_view::npos; i = s.find('%', i + 1)) {
        if (i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            return true;
        }
    }
    return false;
}

bool finish_name(char* buf, size_t size, size_t* len) noexcept;

// Decodes (twice if still escaped) and lower-cases a parameter name into
// `buf`, without the `amp;` (or `&`) an HTML-escaped link leaves in front;
// false if longer than the buffer.
bool normalize_name(std::string_view in, char* buf, size_t cap, size_t* len) noexcept {
    char once[kMaxQueryNameBytes * 3];
    if (in.size() > sizeof once) {
        return false;
    }
    bool plain = true;  // nearly every name: decoding would copy it unchanged
    for (char c : in) {
        plain = plain && c != '%' && c != '+';
    }
    PercentDecoded r;
    if (plain) {
        if (in.size() > cap) {
            return false;
        }
        for (size_t i = 0; i < in.size(); ++i) {
            buf[i] = in[i];
        }
        r.size = in.size();
        return finish_name(buf, r.size, len);
    }
    r = percent_decode_query(in, once, sizeof once);
    std::string_view s(once, r.size);
    if (has_hex_escape(s)) {
        r = percent_decode_query(s, buf, cap);
        if (!r.complete) {
            return false;
        }
    } else {
        if (s.size() > cap) {
            return false;
        }
        for (size_t i = 0; i < s.size(); ++i) {
            buf[i] = s[i];
        }
        r.size = s.size();
    }
    return finish_name(buf, r.size, len);
}

// Lower-cases the decoded name in `buf` and drops the `amp;` in front.
bool finish_name(char* buf, size_t size, size_t* len) noexcept {
    ascii_lower_in_place(buf, size);
    std::string_view name(buf, size);
    for (;;) {
        if (name.substr(0, 4) == "amp;") {
            name.remove_prefix(4);
        } else if (name.substr(0, 5) == "&amp;") {
            name.remove_prefix(5);
        } else if (!name.empty() && name[0] == '&') {
            name.remove_prefix(1);
        } else {
            break;
        }
    }
    for (size_t i = 0; i < name.size(); ++i) {
        buf[i] = name[i];
    }
    *len = name.size();
    return true;
}

bool is_name_char(char c) noexcept {
    return is_ascii_lower(c) || is_ascii_digit(c) || c == '_' || c == '.' || c == '-';
}

// A path segment that must not reach an event: an address, a card, a token.
bool is_personal_segment(std::string_view segment) noexcept {
    if (segment.size() < 3) {
        return false;
    }
    const PersonalShape s = personal_shape(segment);
    return s == PersonalShape::kEmail || s == PersonalShape::kCard || s == PersonalShape::kToken ||
           s == PersonalShape::kUnreadable;
}

void append_path(std::string* out, std::string_view path, size_t* removed) {
    while (!path.empty()) {
        const size_t slash = path.find('/', 1);
        std::string_view part = path.substr(0, slash);
        path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
        std::string_view segment = part;
        if (!segment.empty() && segment[0] == '/') {
            out->push_back('/');
            segment.remove_prefix(1);
        }
        if (is_personal_segment(segment)) {
            out->append(kRedactedPathSegment);
            ++*removed;
        } else {
            out->append(segment);
        }
    }
}

// What the policy does with a parameter, by its name alone.
enum class NameVerdict : unsigned char {
    kStripped,  // sensitive: dropped and counted
    kDropped,   // not allowed: dropped, not counted
    kChecked,   // allowed: kept if its value has no personal shape
};

NameVerdict judge_name(const SensitiveQuery& policy, std::string_view name) noexcept {
    if (policy.is_sensitive(name)) {
        return NameVerdict::kStripped;
    }
    return policy.is_allowed(name.substr(0, name.find('['))) ? NameVerdict::kChecked
                                                             : NameVerdict::kDropped;
}

// A shop's query names are few and come back on every page view: each one is judged
// once per worker and policy (by its serial, so a reloaded configuration starts over),
// not on every request.
constexpr size_t kCachedNameBytes = 32;
constexpr size_t kVerdictSlots = 64;

struct CachedVerdict {
    uint64_t policy = 0;  // 0: empty
    unsigned char len = 0;
    NameVerdict verdict = NameVerdict::kDropped;
    char name[kCachedNameBytes];
};

thread_local CachedVerdict cached_verdicts[kVerdictSlots];

NameVerdict cached_judge_name(const SensitiveQuery& policy, std::string_view name) noexcept {
    if (name.size() > kCachedNameBytes) {
        return judge_name(policy, name);
    }
    uint64_t h = 1469598103934665603ull ^ policy.serial();
    for (char c : name) {
        h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
    CachedVerdict& slot = cached_verdicts[(h ^ (h >> 29)) % kVerdictSlots];
    if (slot.policy == policy.serial() && slot.len == name.size() &&
        std::string_view(slot.name, slot.len) == name) {
        return slot.verdict;
    }
    const NameVerdict v = judge_name(policy, name);
    slot.policy = policy.serial();
    slot.len = static_cast<unsigned char>(name.size());
    for (size_t i = 0; i < name.size(); ++i) {
        slot.name[i] = name[i];
    }
    slot.verdict = v;
    return v;
}

uint64_t next_policy_serial() noexcept {
    static std::atomic<uint64_t> serial{0};
    return ++serial;
}

}  // namespace

SensitiveQuery::SensitiveQuery() noexcept : serial_(next_policy_serial()) {}

SensitiveQuery::SensitiveQuery(const SensitiveQuery& other)
    : extra_(other.extra_), allowed_(other.allowed_), serial_(next_policy_serial()) {}

SensitiveQuery::SensitiveQuery(SensitiveQuery&& other) noexcept
    : extra_(std::move(other.extra_)),
      allowed_(std::move(other.allowed_)),
      serial_(next_policy_serial()) {
    other.serial_ = next_policy_serial();
}

SensitiveQuery& SensitiveQuery::operator=(const SensitiveQuery& other) {
    if (this != &other) {
        extra_ = other.extra_;
        allowed_ = other.allowed_;
        serial_ = next_policy_serial();
    }
    return *this;
}

SensitiveQuery& SensitiveQuery::operator=(SensitiveQuery&& other) noexcept {
    if (this != &other) {
        extra_ = std::move(other.extra_);
        allowed_ = std::move(other.allowed_);
        serial_ = next_policy_serial();
        other.serial_ = next_policy_serial();
    }
    return *this;
}

bool SensitiveQuery::add(std::string_view name) {
    if (name.empty() || name.size() > kMaxQueryNameBytes) {
        return false;
    }
    std::string lowered(name);
    for (char& c : lowered) {
        c = ascii_lower(c);
    }
    extra_.push_back(std::move(lowered));
    serial_ = next_policy_serial();
    return true;
}

std::string_view SensitiveQuery::allow(std::string_view name) {
    if (name.empty() || name.size() > kMaxQueryNameBytes) {
        return "must be 1-64 bytes";
    }
    std::string lowered(name);
    for (size_t i = 0; i < lowered.size(); ++i) {
        lowered[i] = ascii_lower(lowered[i]);
        const bool star = lowered[i] == '*' && i + 1 == lowered.size() && i > 0;
        if (!star && !is_name_char(lowered[i])) {
            return "must be [a-z0-9_.-], optionally ending in *";
        }
    }
    const std::string_view bare =
        std::string_view(lowered).substr(0, lowered.size() - (lowered.back() == '*'));
    // the operator's own strip list may overlap (strip wins); the built-in one may not
    if (SensitiveQuery().is_sensitive(bare)) {
        return "names personal data";
    }
    allowed_.push_back(std::move(lowered));
    serial_ = next_policy_serial();
    return {};
}

bool SensitiveQuery::is_sensitive(std::string_view decoded_name) const noexcept {
    char buf[kMaxQueryNameBytes];
    if (decoded_name.size() > kMaxQueryNameBytes) {
        return false;
    }
    for (size_t i = 0; i < decoded_name.size(); ++i) {
        buf[i] = ascii_lower(decoded_name[i]);
    }
    const std::string_view name(buf, decoded_name.size());
    if (kAlwaysStrippedFilter.may_contain(name)) {
        for (std::string_view s : kAlwaysStrippedQueryNames) {
            if (s == name) {
                return true;
            }
        }
    }
    for (const std::string& s : extra_) {
        if (s == name) {
            return true;
        }
    }
    return is_personal_query_name(name);
}

bool SensitiveQuery::is_allowed(std::string_view name) const noexcept {
    const auto matches = [name](std::string_view pattern) {
        if (!pattern.empty() && pattern.back() == '*') {
            pattern.remove_suffix(1);
            return name.size() > pattern.size() && name.substr(0, pattern.size()) == pattern;
        }
        return name == pattern;
    };
    const bool may_be_exact = kDefaultEventParamFilter.may_contain(name);
    for (std::string_view p : kDefaultEventParams) {
        if ((may_be_exact || p.back() == '*') && matches(p)) {
            return true;
        }
    }
    for (const std::string& p : allowed_) {
        if (matches(p)) {
            return true;
        }
    }
    return false;
}

size_t append_event_path(std::string* out, std::string_view request_uri,
                         const SensitiveQuery& sensitive) noexcept {
    const std::string_view uri = request_uri.substr(0, request_uri.find('#'));
    const size_t q = uri.find('?');
    std::string_view path = uri.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view() : uri.substr(q + 1);
    if (path.size() > kMaxEventPathBytes) {
        path = path.substr(0, utf8_floor(path, kMaxEventPathBytes));
        query = {};
    }
    size_t removed = 0;
    const size_t start = out->size();
    try {
        out->reserve(out->size() + path.size() + query.size() + 1);
        append_path(out, path, &removed);
        // `redacted` may be longer than what it replaced
        if (out->size() - start > kMaxEventPathBytes) {
            out->resize(start +
                        utf8_floor(std::string_view(*out).substr(start), kMaxEventPathBytes));
            return removed;
        }
        size_t budget = kMaxEventPathBytes - (out->size() - start);
        bool first = true;
        while (!query.empty()) {
            const size_t amp = query.find('&');
            const std::string_view param = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
            if (param.empty()) {
                continue;
            }
            const size_t eq = param.find('=');
            const std::string_view raw_name = param.substr(0, eq);
            const std::string_view value =
                eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
            char buf[kMaxQueryNameBytes];
            size_t len = 0;
            if (!normalize_name(raw_name, buf, sizeof buf, &len)) {
                continue;  // no name anyone allowed is that long
            }
            const NameVerdict verdict = cached_judge_name(sensitive, std::string_view(buf, len));
            if (verdict == NameVerdict::kStripped) {
                ++removed;
                continue;
            }
            if (verdict == NameVerdict::kDropped) {
                continue;
            }
            if (personal_shape(value) != PersonalShape::kNone) {
                ++removed;
                continue;
            }
            if (param.size() + 1 > budget) {
                break;  // cut at a parameter boundary, never inside one
            }
            out->push_back(first ? '?' : '&');
            out->append(param);
            budget -= param.size() + 1;
            first = false;
        }
    } catch (...) {
        // out of memory: what was appended stays, the rest is dropped
    }
    return removed;
}

}  // namespace tailor
