// EventPath: query filtering by decoded, lower-cased parameter name.
#include "tailor/events/path.h"

#include "tailor/base/ascii.h"
#include "tailor/base/url.h"
#include "tailor/base/utf8.h"

namespace tailor {
namespace {

// Decodes and lower-cases a parameter name into `buf`; false if longer than
// the buffer (such a name is no name an operator listed, so it is kept).
bool normalize_name(std::string_view in, char* buf, size_t cap, size_t* len) noexcept {
    const PercentDecoded r = percent_decode_query(in, buf, cap);
    if (!r.complete) {
        return false;
    }
    ascii_lower_in_place(buf, r.size);
    *len = r.size;
    return true;
}

}  // namespace

bool SensitiveQuery::add(std::string_view name) {
    if (name.empty() || name.size() > kMaxQueryNameBytes) {
        return false;
    }
    std::string lowered(name);
    for (char& c : lowered) {
        c = ascii_lower(c);
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
        buf[i] = ascii_lower(decoded_name[i]);
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
