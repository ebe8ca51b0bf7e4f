// EventDecode: an encoded event read back through the bounded MsgpackReader.
#include "tailor/events/decode.h"

#include "tailor/base/msgpack_reader.h"

namespace tailor {
namespace {

// The blob's nesting: the event map (1) > exp (2) > one exposure (3), and
// props (2) > products (3) > one line (4), the deepest a blob goes.
constexpr size_t kMaxEventDepth = 4;

MsgpackReader event_reader(std::string_view blob) noexcept {
    MsgpackLimits limits;
    limits.max_depth = kMaxEventDepth;
    return MsgpackReader(blob, limits);
}

bool read_string(MsgpackReader* r, std::string* out) {
    std::string_view s;
    if (!r->read_str(&s)) {
        return false;
    }
    out->assign(s);
    return true;
}

// [rule, experiment, variant]
bool read_exposure(MsgpackReader* r, DecodedExposure* x) {
    size_t three = 0;
    return r->read_array(3, &three) && three == 3 && read_string(r, &x->rule) &&
           read_string(r, &x->experiment) && read_string(r, &x->variant);
}

// A property value: a string, or a number (integers kept integral).
bool read_property_value(MsgpackReader* r, DecodedProperty* p) {
    MsgpackHead h;
    if (!r->head(&h)) {
        return false;
    }
    if (h.type == MsgpackType::kStr) {
        std::string_view text;
        if (!r->payload(h, &text)) {
            return false;
        }
        p->text.assign(text);
        return true;
    }
    p->is_number = true;
    if (h.is_float()) {
        p->number = h.float_value();
        return true;
    }
    if (h.type == MsgpackType::kNegInt) {
        p->integer = h.i;
    } else if (h.type == MsgpackType::kUint && h.u <= static_cast<uint64_t>(INT64_MAX)) {
        p->integer = static_cast<int64_t>(h.u);
    } else {
        return false;
    }
    p->is_integer = true;
    p->number = static_cast<double>(p->integer);
    return true;
}

// props.products: an array of maps of properties (Segment's lines).
bool read_products(MsgpackReader* r, std::vector<std::vector<DecodedProperty>>* out) {
    size_t lines = 0;
    if (!r->read_array(3, &lines)) {
        return false;
    }
    for (size_t l = 0; l < lines; ++l) {
        size_t count = 0;
        if (!r->read_map(4, &count)) {
            return false;
        }
        std::vector<DecodedProperty> line;
        for (size_t i = 0; i < count; ++i) {
            DecodedProperty p;
            if (!read_string(r, &p.name) || !read_property_value(r, &p)) {
                return false;
            }
            line.push_back(std::move(p));
        }
        out->push_back(std::move(line));
    }
    return true;
}

}  // namespace

const DecodedProperty* DecodedEvent::property(std::string_view property_name) const noexcept {
    for (const DecodedProperty& p : properties) {
        if (p.name == property_name) {
            return &p;
        }
    }
    return nullptr;
}

std::optional<DecodedEvent> decode_event(std::string_view blob) noexcept {
    if (blob.size() > kMaxEventBlobBytes) {
        return std::nullopt;
    }
    try {
        MsgpackReader r = event_reader(blob);
        DecodedEvent e;
        size_t keys = 0;
        if (!r.read_map(1, &keys)) {
            return std::nullopt;
        }
        unsigned seen = 0;  // bits: v id type vid ts
        for (size_t k = 0; k < keys; ++k) {
            std::string_view key;
            if (!r.read_str(&key)) {
                return std::nullopt;
            }
            bool ok = true;
            int64_t n = 0;
            if (key == "v") {
                ok = r.read_int(&n) && n >= 0 && n <= UINT32_MAX;
                e.version = static_cast<uint32_t>(n);
                seen |= 1;
            } else if (key == "id") {
                ok = read_string(&r, &e.id);
                seen |= 2;
            } else if (key == "type") {
                ok = read_string(&r, &e.name);
                seen |= 4;
            } else if (key == "vid") {
                ok = read_string(&r, &e.vid);
                seen |= 8;
            } else if (key == "ts") {
                ok = r.read_int(&e.ts_ms);
                seen |= 16;
            } else if (key == "path") {
                ok = read_string(&r, &e.path);
            } else if (key == "utm_source") {
                ok = read_string(&r, &e.utm_source);
            } else if (key == "utm_medium") {
                ok = read_string(&r, &e.utm_medium);
            } else if (key == "utm_campaign") {
                ok = read_string(&r, &e.utm_campaign);
            } else if (key == "ref") {
                ok = read_string(&r, &e.referrer_class);
            } else if (key == "ref_host") {
                ok = read_string(&r, &e.referrer_host);
            } else if (key == "device") {
                ok = read_string(&r, &e.device);
            } else if (key == "src") {
                ok = read_string(&r, &e.producer);
            } else if (key == "prev") {
                ok = read_string(&r, &e.previous_vid);
            } else if (key == "seq") {
                ok = r.read_int(&n) && n >= 0;
                e.seq = static_cast<uint64_t>(n);
            } else if (key == "exp") {
                size_t count = 0;
                ok = r.read_array(2, &count);
                for (size_t i = 0; ok && i < count; ++i) {
                    DecodedExposure x;
                    ok = read_exposure(&r, &x);
                    if (ok) {
                        e.exposures.push_back(std::move(x));
                    }
                }
            } else if (key == "props") {
                size_t count = 0;
                ok = r.read_map(2, &count);
                for (size_t i = 0; ok && i < count; ++i) {
                    DecodedProperty p;
                    ok = read_string(&r, &p.name);
                    if (ok && p.name == "products") {
                        ok = read_products(&r, &e.products);
                        continue;
                    }
                    ok = ok && read_property_value(&r, &p);
                    if (ok) {
                        e.properties.push_back(std::move(p));
                    }
                }
            } else {
                ok = r.skip_value(2);  // a newer writer's key
            }
            if (!ok) {
                return std::nullopt;
            }
        }
        if (seen != 31 || !r.at_end()) {
            return std::nullopt;
        }
        e.type = parse_event_type(e.name).value_or(EventType::kCustom);
        return e;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<EventRouting> event_routing(std::string_view blob) noexcept {
    if (blob.size() > kMaxEventBlobBytes) {
        return std::nullopt;
    }
    MsgpackReader r = event_reader(blob);
    size_t keys = 0;
    if (!r.read_map(1, &keys)) {
        return std::nullopt;
    }
    EventRouting routing;
    for (size_t k = 0; k < keys; ++k) {
        std::string_view key;
        if (!r.read_str(&key)) {
            return std::nullopt;
        }
        std::string_view* want = nullptr;
        if (key == "type") {
            want = &routing.type;
        } else if (key == "vid") {
            want = &routing.vid;
        } else if (key == "prev") {
            want = &routing.previous_vid;
        }
        if (want != nullptr ? !r.read_str(want) : !r.skip_value(2)) {
            return std::nullopt;
        }
    }
    if (routing.type.empty() || routing.vid.empty()) {
        return std::nullopt;
    }
    return routing;
}

}  // namespace tailor
