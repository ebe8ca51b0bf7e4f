// Upstream event fuzz: the bounded JSON reader and the event checks on attacker-chosen headers.
//
// Input: byte 0 picks the size bound (64 << (byte % 9), so 64 bytes to 16 KiB
// and past the hard cap); the rest is the header value. Invariants: the JSON
// document's value tree is well formed (every subtree ends inside its
// parent, counts match); an accepted event obeys every rule it promises
// (names, kinds, no personal value, counts), encodes, and decodes back with
// the same properties and lines within kMaxEventBlobBytes; the same input
// gives the same answer twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/base/json_reader.h"
#include "tailor/events/decode.h"
#include "tailor/events/upstream_event.h"
#include "tailor/request/personal_data.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

// Walks the subtree at i; returns its end, checking counts and bounds.
size_t walk(const std::vector<tailor::JsonValue>& v, size_t i, size_t limit) {
    check(i < limit && v[i].end <= limit && v[i].end > i);
    const tailor::JsonValue& x = v[i];
    if (x.type == tailor::JsonType::kArray || x.type == tailor::JsonType::kObject) {
        size_t n = 0;
        size_t k = i + 1;
        while (k < x.end) {
            if (x.type == tailor::JsonType::kObject) {
                check(v[k].type == tailor::JsonType::kString);
                k = walk(v, k, x.end);
            }
            k = walk(v, k, x.end);
            ++n;
        }
        check(k == x.end && n == x.count);
    } else {
        check(x.end == i + 1);
    }
    return x.end;
}

void check_property(const tailor::EventProperty& p, bool in_line) {
    check(!p.name.empty() && p.name.size() <= tailor::kMaxPropertyNameBytes);
    check((in_line && p.name == "name") ||
          tailor::check_property_name(p.name) == tailor::PropertyNameError::kOk);
    if (p.kind == tailor::PropertyKind::kString) {
        check(!tailor::is_personal_property_value(p.value));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const size_t bound = static_cast<size_t>(64) << (data[0] % 9);
    const std::string_view header(reinterpret_cast<const char*>(data) + 1, size - 1);

    tailor::JsonDocument doc;
    if (doc.parse(header) == tailor::JsonError::kOk) {
        check(!doc.values().empty());
        check(walk(doc.values(), 0, doc.values().size()) == doc.values().size());
    } else {
        check(doc.values().empty());
    }

    tailor::UpstreamEvent e;
    const tailor::UpstreamEventError error = tailor::parse_upstream_event(header, bound, &e);
    tailor::UpstreamEvent again;
    check(tailor::parse_upstream_event(header, bound, &again) == error);
    if (error != tailor::UpstreamEventError::kOk) {
        check(e.properties.empty() && e.products.empty());
        check(!tailor::upstream_event_error_name(error).empty());
        return 0;
    }

    check(header.size() <= bound && header.size() <= tailor::kMaxUpstreamEventBytes);
    check(e.type != tailor::EventType::kIdentify);
    check(e.properties.size() <= tailor::kMaxEventProperties);
    check(e.products.size() <= tailor::kMaxEventProducts);
    for (const tailor::EventProperty& p : e.properties) {
        check_property(p, false);
    }
    for (const tailor::EventProductLine& line : e.products) {
        check(line.property_count <= tailor::kMaxProductProperties);
        for (size_t i = 0; i < line.property_count; ++i) {
            check_property(line.properties[i], true);
        }
    }

    tailor::Event event(*tailor::EventId::generate(1718000000123));
    event.type = e.type;
    event.name = e.name;
    event.vid = "q3Zf0x8W2mYbT1kL9cVn_A";
    event.ts_ms = 1718000000123;
    event.properties = e.properties.data();
    event.property_count = e.properties.size();
    event.products = e.products.data();
    event.product_count = e.products.size();
    std::string blob;
    const tailor::EncodeResult r = tailor::encode_event(event, &blob);
    check(r.status == tailor::EncodeStatus::kOk);
    check(r.dropped_properties == 0);  // every kind was checked before
    check(blob.size() <= tailor::kMaxEventBlobBytes);
    const auto d = tailor::decode_event(blob);
    check(d.has_value());
    check(d->properties.size() == e.properties.size());
    check(d->products.size() == e.products.size());
    for (size_t l = 0; l < e.products.size(); ++l) {
        check(d->products[l].size() == e.products[l].property_count);
    }
    return 0;
}
