// EventPath: query filtering by decoded, lower-cased parameter name.
#include "tailor/events/path.h"

namespace tailor {
namespace {

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

int hex_value(char c) noexcept {
    c = lower(c);
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    return -1;
}

// Decodes and lower-cases a parameter name into `buf`; false if longer than
// the buffer (such a name is no name an operator listed, so it is kept).
bool normalize_name(std::string_view in, char* buf, size_t cap, size_t* len) noexcept {
    size_t n = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
                   hex_value(in[i + 2]) >= 0) {
            c = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
            i += 2;
        }
        if (n == cap) {
            return false;
        }
        buf[n++] = lower(c);
    }
    *len = n;
    return true;
}

size_t utf8_floor(std::string_view s, size_t n) noexcept {
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
        --n;
    }
    return n;
}

}  // namespace

bool SensitiveQuery::add(std::string_view name) {
    if (name.empty() || name.size() > kMaxQueryNameBytes) {
        return false;
    }
    std::string lowered(name);
    for (char& c : lowered) {
        c = lower(c);
    }
    extra_.push_back(std::move(lowered));
    return true;
}

bool SensitiveQuery::is_sensitive(std::string_view decoded_name) const noexcept {
    char buf[kMaxQueryNameBytes];
    if (decoded_name.size() > kMaxQueryNameBytes) {
        return false;
    }
    for (size_t i = 0; i < decoded_name.size(); ++i) {
        buf[i] = lower(decoded_name[i]);
    }
    const std::string_view name(buf, decoded_name.size());
    for (std::string_view s : kAlwaysStrippedQueryNames) {
        if (s == name) {
            return true;
        }
    }
    for (const std::string& s : extra_) {
        if (s == name) {
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
    try {
        out->reserve(out->size() + path.size() + query.size() + 1);
        out->append(path);
        size_t budget = kMaxEventPathBytes - path.size();
        bool first = true;
        while (!query.empty()) {
            const size_t amp = query.find('&');
            const std::string_view param = query.substr(0, amp);
            query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
            if (param.empty()) {
                continue;
            }
            char buf[kMaxQueryNameBytes];
            size_t len = 0;
            const std::string_view raw_name = param.substr(0, param.find('='));
            if (normalize_name(raw_name, buf, sizeof buf, &len) &&
                sensitive.is_sensitive(std::string_view(buf, len))) {
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
