// Event path fuzz: the query allow-list and personal-data scrubber on attacker-chosen URIs.
//
// Input: byte 0 bit 0 adds operator names (`q`, `filter_*` allowed, `utm_term`
// stripped); the rest is a $request_uri, also a Referer, a utm query and a
// property value. Invariants: the path is never longer than
// kMaxEventPathBytes; every parameter it kept is allowed and its value has
// none of the personal shapes; scrubbing the scrubbed path changes nothing
// and counts nothing; the same input scrubs the same way twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/events/path.h"
#include "tailor/request/personal_data.h"
#include "tailor/request/referrer.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

void check_kept_query(std::string_view path) {
    const size_t q = path.find('?');
    if (q == std::string_view::npos) {
        return;
    }
    std::string_view query = path.substr(q + 1);
    while (!query.empty()) {
        const size_t amp = query.find('&');
        const std::string_view param = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        check(!param.empty());
        const size_t eq = param.find('=');
        if (eq != std::string_view::npos) {
            check(tailor::personal_shape(param.substr(eq + 1)) == tailor::PersonalShape::kNone);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    tailor::SensitiveQuery policy;
    if ((data[0] & 1) != 0) {
        check(policy.allow("q").empty());
        check(policy.allow("filter_*").empty());
        check(policy.add("utm_term"));
    }
    const std::string_view uri(reinterpret_cast<const char*>(data) + 1, size - 1);

    std::string path;
    const size_t removed = tailor::append_event_path(&path, uri, policy);
    check(path.size() <= tailor::kMaxEventPathBytes);
    check(path.find('#') == std::string::npos);
    check_kept_query(path);

    std::string again;
    check(tailor::append_event_path(&again, uri, policy) == removed);
    check(again == path);

    std::string twice;
    check(tailor::append_event_path(&twice, path, policy) == 0);
    check(twice == path);

    const tailor::Attribution a = tailor::attribution_from_request(uri, uri, "shop.example");
    check(a.utm_source().size() <= tailor::kMaxUtmValueBytes);
    check(a.referrer_host().size() <= tailor::kMaxReferrerHostBytes);
    (void)tailor::is_personal_property_value(uri);
    (void)tailor::personal_variable(uri);
    (void)tailor::is_personal_query_name(uri);
    return 0;
}
