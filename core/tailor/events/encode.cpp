// EventEncode: one event written straight into the caller's buffer (MsgpackWriter), sized once.
#include "tailor/events/encode.h"

#include "tailor/base/ascii.h"
#include "tailor/base/msgpack_writer.h"
#include "tailor/base/utf8.h"
#include "tailor/events/live_facts.h"
#include "tailor/events/path.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tailor {
namespace {

// Writes `s` as a str, each byte that is not part of a valid UTF-8 sequence
// replaced by '?': same length, so the header goes first and the body is
// copied whole, then fixed in place when it needs it.
std::string_view pack_text(MsgpackWriter* w, std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0;
    // ASCII (nearly every value: ids, paths, names) eight bytes at a time
    while (i + 8 <= s.size()) {
        uint64_t word;
        std::memcpy(&word, p + i, 8);
        if ((word & 0x8080808080808080ull) != 0) {
            break;
        }
        i += 8;
    }
    while (i < s.size() && p[i] < 0x80) {
        ++i;
    }
    while (i < s.size()) {
        const int len = utf8_sequence(p + i, s.size() - i);
        if (len <= 0) {
            break;
        }
        i += static_cast<size_t>(len);
    }
    w->str_header(s.size());
    char* body = w->raw(s.data(), s.size());
    if (body == nullptr) {
        return {};
    }
    while (i < s.size()) {
        const int seq = utf8_sequence(p + i, s.size() - i);
        if (seq <= 0) {
            body[i] = '?';
            ++i;
        } else {
            i += static_cast<size_t>(seq);
        }
    }
    return {body, s.size()};
}

// What the live script's reader (live_facts()) takes of a number: finite, within +-1e15.
bool live_number(double v) noexcept {
    return v == v && v > -1e15 && v < 1e15;
}

// Notes one written property in the facts as live_facts() would read it back: the
// product's text fields when written as a non-empty str, price and quantity when written
// as a number; a later property of the same name wins.
void note_property(LiveFacts* f, std::string_view name, std::string_view text,
                   const double* number) noexcept {
    if (number == nullptr) {
        std::string_view* want = name == "product_id"  ? &f->product_id
                                 : name == "ProductID" ? &f->product_id_klaviyo
                                 : name == "sku"       ? &f->sku
                                 : name == "category"  ? &f->category
                                                       : nullptr;
        if (want != nullptr && !text.empty()) {
            *want = text;
        }
        return;
    }
    if (!live_number(*number)) {
        return;
    }
    if (name == "price") {
        f->price = *number;
        f->has_price = true;
    } else if (name == "quantity") {
        f->qty = *number;
        f->has_qty = true;
    }
}

void pack_key(MsgpackWriter* w, std::string_view key) noexcept {
    w->str(key);
}

// What a str takes at most: its header and its body.
constexpr size_t text_bound(size_t n) noexcept {
    return n + 5;
}

// A decimal number as nginx variables spell prices and quantities:
// -?[0-9]+(\.[0-9]+)?, at most 32 characters. No exponents, no "1e999",
// no "NaN": values a consumer could mis-read are refused.
struct Number {
    bool is_integer = false;
    int64_t integer = 0;
    double real = 0;
};

bool parse_number(std::string_view v, Number* out) noexcept {
    if (v.empty() || v.size() > 32) {
        return false;
    }
    size_t i = v[0] == '-' ? 1 : 0;
    const size_t int_start = i;
    while (i < v.size() && is_ascii_digit(v[i])) {
        ++i;
    }
    if (i == int_start) {
        return false;
    }
    bool fraction = false;
    if (i < v.size() && v[i] == '.') {
        const size_t frac_start = ++i;
        while (i < v.size() && is_ascii_digit(v[i])) {
            ++i;
        }
        if (i == frac_start) {
            return false;
        }
        fraction = true;
    }
    if (i != v.size()) {
        return false;
    }
    if (!fraction) {
        const auto r = std::from_chars(v.data(), v.data() + v.size(), out->integer);
        if (r.ec == std::errc() && r.ptr == v.data() + v.size()) {
            out->is_integer = true;
            return true;
        }
    }
    const auto r = std::from_chars(v.data(), v.data() + v.size(), out->real);
    return r.ec == std::errc() && std::isfinite(out->real);
}

void pack_number(MsgpackWriter* w, const Number& n) noexcept {
    if (n.is_integer) {
        w->int64(n.integer);
    } else {
        w->float64(n.real);
    }
}

bool property_valid(const EventProperty& p) noexcept {
    Number unused;
    return p.kind != PropertyKind::kNumber || parse_number(p.value, &unused);
}

// `parsed`: the value as a number, when the caller parsed it already (a kNumber property).
// `facts`: where a top-level property is noted for the live script, or null.
void pack_property(MsgpackWriter* pk, const EventProperty& p, EncodeResult* result,
                   const Number* parsed = nullptr, LiveFacts* facts = nullptr) noexcept {
    const std::string_view name = pack_text(pk, utf8_cut(p.name, kMaxPropertyNameBytes));
    Number number;
    if (parsed != nullptr || (p.kind == PropertyKind::kNumber && parse_number(p.value, &number))) {
        const Number& n = parsed != nullptr ? *parsed : number;
        pack_number(pk, n);
        if (facts != nullptr) {
            const double v = n.is_integer ? static_cast<double>(n.integer) : n.real;
            note_property(facts, name, {}, &v);
        }
    } else {
        const std::string_view v = utf8_cut(p.value, kMaxPropertyValueBytes);
        result->truncated_values += v.size() == p.value.size() ? 0 : 1;
        const std::string_view text = pack_text(pk, v);
        if (facts != nullptr) {
            note_property(facts, name, text, nullptr);
        }
    }
}

// props.products: one map per line, each with its valid properties.
void pack_products(MsgpackWriter* pk, const EventProductLine* lines, size_t count,
                   EncodeResult* result) noexcept {
    pack_key(pk, "products");
    pk->array(count);
    for (size_t l = 0; l < count; ++l) {
        const EventProductLine& line = lines[l];
        const size_t n = line.property_count < kMaxProductProperties ? line.property_count
                                                                     : kMaxProductProperties;
        size_t valid = 0;
        for (size_t i = 0; i < n; ++i) {
            valid += property_valid(line.properties[i]) ? 1 : 0;
        }
        result->dropped_properties += static_cast<uint32_t>(line.property_count - valid);
        pk->map(valid);
        for (size_t i = 0; i < n; ++i) {
            if (property_valid(line.properties[i])) {
                pack_property(pk, line.properties[i], result);
            }
        }
    }
}

}  // namespace

EncodeResult encode_event(const Event& event, std::string* out, LiveFacts* facts) noexcept {
    EncodeResult result;
    const std::string_view name =
        event.type == EventType::kCustom ? event.name : event_type_name(event.type);
    if (event.vid.empty() || event.ts_ms <= 0 ||
        (event.type == EventType::kCustom && !valid_custom_event_name(name))) {
        result.status = EncodeStatus::kInvalid;
        return result;
    }
    const Attribution direct;
    const Attribution& attr = event.attribution != nullptr ? *event.attribution : direct;
    const size_t exposures =
        event.exposure_count < kMaxEventExposures ? event.exposure_count : kMaxEventExposures;
    const size_t declared =
        event.property_count < kMaxEventProperties ? event.property_count : kMaxEventProperties;
    result.dropped_properties = static_cast<uint32_t>(event.property_count - declared);

    // Properties first checked, so the map header carries the right count.
    uint32_t valid_mask = 0;
    size_t props = 0;
    Number numbers[kMaxEventProperties];  // kNumber values, parsed once
    for (size_t i = 0; i < declared; ++i) {
        const EventProperty& p = event.properties[i];
        if (p.kind == PropertyKind::kNumber && !parse_number(p.value, &numbers[i])) {
            ++result.dropped_properties;
            continue;
        }
        valid_mask |= 1u << i;
        ++props;
    }

    size_t keys = 8;  // v id type vid ts path ref device
    keys += attr.utm_source().empty() ? 0 : 1;
    keys += attr.utm_medium().empty() ? 0 : 1;
    keys += attr.utm_campaign().empty() ? 0 : 1;
    keys += attr.referrer_host().empty() ? 0 : 1;
    keys += exposures == 0 ? 0 : 1;
    const size_t lines =
        event.product_count < kMaxEventProducts ? event.product_count : kMaxEventProducts;
    result.dropped_properties += static_cast<uint32_t>(event.product_count - lines);
    keys += props + lines == 0 ? 0 : 1;
    keys += event.producer.empty() ? 0 : 2;
    keys += event.previous_vid.empty() ? 0 : 1;

    // What the event takes at most, so the writer never grows the buffer mid-event.
    size_t bound = 16 + 8 * 16;  // the map header, the keys, v, ts, seq
    bound += text_bound(EventId::kTextLength) + text_bound(name.size()) +
             text_bound(event.vid.size()) + text_bound(event.path.size()) +
             text_bound(attr.utm_source().size()) + text_bound(attr.utm_medium().size()) +
             text_bound(attr.utm_campaign().size()) + text_bound(attr.referrer_host().size()) +
             2 * text_bound(16) + text_bound(event.producer.size()) +
             text_bound(event.previous_vid.size()) + 5;
    for (size_t i = 0; i < exposures; ++i) {
        const EventExposure& x = event.exposures[i];
        bound += 1 + text_bound(x.rule.size()) + text_bound(x.experiment.size()) +
                 text_bound(x.variant.size());
    }
    bound += 5;
    // a property takes at most its name and its value as written (a number: 9 bytes)
    for (size_t i = 0; i < declared; ++i) {
        const EventProperty& p = event.properties[i];
        bound += text_bound(p.name.size()) + text_bound(p.value.size()) + 9;
    }
    for (size_t l = 0; l < lines; ++l) {
        const size_t n = event.products[l].property_count < kMaxProductProperties
                             ? event.products[l].property_count
                             : kMaxProductProperties;
        bound += 5 + n * (text_bound(kMaxPropertyNameBytes) + text_bound(kMaxPropertyValueBytes));
    }

    const size_t start = out->size();
    try {
        out->resize(start + bound);
    } catch (...) {
        result.status = EncodeStatus::kOutOfMemory;
        return result;
    }
    MsgpackWriter w(out->data() + start, bound);
    MsgpackWriter* pk = &w;
    pk->map(keys);
    pack_key(pk, "v");
    pk->uint(kEventSchemaVersion);
    pack_key(pk, "id");
    pack_text(pk, event.id.text());
    LiveFacts f;
    pack_key(pk, "type");
    f.type = pack_text(pk, name);
    pack_key(pk, "vid");
    f.vid = pack_text(pk, event.vid);
    pack_key(pk, "ts");
    pk->int64(event.ts_ms);
    if (live_number(static_cast<double>(event.ts_ms))) {
        f.time_s = static_cast<int64_t>(std::floor(static_cast<double>(event.ts_ms) / 1000));
    }
    pack_key(pk, "path");
    pack_text(pk, utf8_cut(event.path, kMaxEventPathBytes));
    if (!attr.utm_source().empty()) {
        pack_key(pk, "utm_source");
        pack_text(pk, attr.utm_source());
    }
    if (!attr.utm_medium().empty()) {
        pack_key(pk, "utm_medium");
        pack_text(pk, attr.utm_medium());
    }
    if (!attr.utm_campaign().empty()) {
        pack_key(pk, "utm_campaign");
        pack_text(pk, attr.utm_campaign());
    }
    pack_key(pk, "ref");
    pack_text(pk, referrer_class_name(attr.referrer_class()));
    if (!attr.referrer_host().empty()) {
        pack_key(pk, "ref_host");
        pack_text(pk, attr.referrer_host());
    }
    pack_key(pk, "device");
    pack_text(pk, device_class_name(event.device));
    if (exposures != 0) {
        pack_key(pk, "exp");
        pk->array(exposures);
        for (size_t i = 0; i < exposures; ++i) {
            const EventExposure& x = event.exposures[i];
            pk->array(3);
            pack_text(pk, utf8_cut(x.rule, kMaxExposureFieldBytes));
            pack_text(pk, utf8_cut(x.experiment, kMaxExposureFieldBytes));
            pack_text(pk, utf8_cut(x.variant, kMaxExposureFieldBytes));
        }
    }
    if (props + lines != 0) {
        pack_key(pk, "props");
        pk->map(props + (lines != 0 ? 1 : 0));
        for (size_t i = 0; i < declared; ++i) {
            if ((valid_mask & (1u << i)) != 0) {
                const EventProperty& p = event.properties[i];
                pack_property(pk, p, &result,
                              p.kind == PropertyKind::kNumber ? &numbers[i] : nullptr, &f);
            }
        }
        if (lines != 0) {
            pack_products(pk, event.products, lines, &result);
        }
    }
    if (!event.producer.empty()) {
        pack_key(pk, "src");
        f.src = pack_text(pk, utf8_cut(event.producer, kMaxExposureFieldBytes));
        pack_key(pk, "seq");
        pk->uint(event.seq);
        if (live_number(static_cast<double>(event.seq))) {
            f.has_seq = true;
            f.seq = static_cast<double>(event.seq);
            f.seq_integer = true;
            f.seq_int = static_cast<int64_t>(event.seq);
        }
    }
    if (!event.previous_vid.empty()) {
        pack_key(pk, "prev");
        f.previous_vid = pack_text(pk, event.previous_vid);
    }
    // the bound holds whatever the event says; were it ever short, nothing is half-written
    out->resize(w.ok() ? start + w.size() : start);
    if (!w.ok()) {
        result.status = EncodeStatus::kOutOfMemory;
    } else if (facts != nullptr) {
        *facts = f;  // views into `out`, which shrinking did not move
    }
    return result;
}

}  // namespace tailor
