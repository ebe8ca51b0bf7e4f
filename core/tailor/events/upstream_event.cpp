// UpstreamEvent: the header's JSON, then the event schema and the privacy rules, in one pass.
#include "tailor/events/upstream_event.h"

#include "tailor/base/ascii.h"
#include "tailor/request/personal_data.h"

namespace tailor {
namespace {

// root object (1) > properties (2) > products (3) > one line (4)
constexpr size_t kUpstreamEventDepth = 4;
// every key and value of the largest event the bounds allow, with room
constexpr size_t kUpstreamEventValues =
    1 + 2 * 3 + 2 * (kMaxEventProperties + 1) + kMaxEventProducts * (1 + 2 * kMaxProductProperties);

// What the encoder writes as a number (encode.cpp's parse_number): no
// exponent, no leading '+', at most 32 characters.
bool decimal(std::string_view v) noexcept {
    if (v.empty() || v.size() > 32) {
        return false;
    }
    size_t i = v[0] == '-' ? 1 : 0;
    const size_t start = i;
    while (i < v.size() && is_ascii_digit(v[i])) {
        ++i;
    }
    if (i == start) {
        return false;
    }
    if (i < v.size() && v[i] == '.') {
        const size_t frac = ++i;
        while (i < v.size() && is_ascii_digit(v[i])) {
            ++i;
        }
        if (i == frac) {
            return false;
        }
    }
    return i == v.size();
}

// A name a query string may not carry (request/personal_data.h: customer,
// user, session, account, login, ...), read as snake case: the backend picks
// its names at run time, so `customerId` is `customer_id` and refused, where
// a `tailor_event` directive's names were checked when the operator wrote them.
bool personal_name(std::string_view name) noexcept {
    char buf[2 * kMaxPropertyNameBytes];
    size_t n = 0;
    for (size_t i = 0; i < name.size() && n + 2 <= sizeof buf; ++i) {
        const char c = name[i];
        if (c >= 'A' && c <= 'Z') {
            if (i > 0 &&
                ((name[i - 1] >= 'a' && name[i - 1] <= 'z') || is_ascii_digit(name[i - 1]))) {
                buf[n++] = '_';
            }
            buf[n++] = static_cast<char>(c - 'A' + 'a');
        } else {
            buf[n++] = c;
        }
    }
    return is_personal_query_name(std::string_view(buf, n));
}

class Checker {
  public:
    explicit Checker(UpstreamEvent* out) noexcept : out_(out), v_(out->doc.values()) {}

    UpstreamEventError event() noexcept {
        if (v_.empty() || v_[0].type != JsonType::kObject) {
            return UpstreamEventError::kNotAnEvent;
        }
        size_t name = JsonDocument::npos;
        size_t properties = JsonDocument::npos;
        for (size_t k = 1; k < v_[0].end; k = v_[k + 1].end) {
            const std::string_view key = v_[k].text;
            if (key == "event") {
                name = k + 1;
            } else if (key == "properties") {
                properties = k + 1;
            } else if (key == "type") {
                if (v_[k + 1].type != JsonType::kString || v_[k + 1].text != "track") {
                    return UpstreamEventError::kNotAnEvent;
                }
            } else {
                return UpstreamEventError::kNotAnEvent;
            }
        }
        if (name == JsonDocument::npos || v_[name].type != JsonType::kString) {
            return UpstreamEventError::kNotAnEvent;
        }
        const std::optional<EventType> type = parse_event_type(v_[name].text);
        if (!type || *type == EventType::kIdentify) {
            return UpstreamEventError::kBadName;
        }
        out_->type = *type;
        out_->name = v_[name].text;
        if (properties == JsonDocument::npos) {
            return UpstreamEventError::kOk;
        }
        if (v_[properties].type != JsonType::kObject) {
            return UpstreamEventError::kNotAnEvent;
        }
        return this->properties(properties);
    }

  private:
    // The detail goes to logs: only a name of property-name characters, never
    // an arbitrary key (which could be an address itself).
    UpstreamEventError fail(UpstreamEventError e, std::string_view name) noexcept {
        bool plain = !name.empty() && name.size() <= kMaxPropertyNameBytes;
        for (size_t i = 0; plain && i < name.size(); ++i) {
            plain = is_ascii_alnum(name[i]) || name[i] == '_';
        }
        out_->detail = plain ? name : std::string_view("(a bad name)");
        return e;
    }

    // One property into *into; null values are left out.
    UpstreamEventError property(size_t key, bool in_line, std::vector<EventProperty>* into) {
        const std::string_view name = v_[key].text;
        const JsonValue& value = v_[key + 1];
        // Segment's product `name` is the product's; anywhere else it is a person's
        if (!(in_line && name == "name")) {
            const PropertyNameError e = check_property_name(name);
            if (e == PropertyNameError::kPersonalData) {
                return fail(UpstreamEventError::kPersonalData, name);
            }
            if (e != PropertyNameError::kOk) {
                return fail(UpstreamEventError::kBadProperty, name);
            }
            if (personal_name(name)) {
                return fail(UpstreamEventError::kPersonalData, name);
            }
        }
        EventProperty p;
        p.name = name;
        p.value = value.text;
        switch (value.type) {
            case JsonType::kNull:
                return UpstreamEventError::kOk;
            case JsonType::kString:
                if (is_personal_property_value(value.text)) {
                    return fail(UpstreamEventError::kPersonalData, name);
                }
                p.kind = default_property_kind(name);
                break;
            case JsonType::kNumber:
                p.kind = PropertyKind::kNumber;
                break;
            default:
                return fail(UpstreamEventError::kBadProperty, name);
        }
        if (p.kind == PropertyKind::kNumber && !decimal(p.value)) {
            return fail(UpstreamEventError::kBadProperty, name);
        }
        into->push_back(p);
        return UpstreamEventError::kOk;
    }

    UpstreamEventError products(size_t array, std::vector<size_t>* line_ends) {
        if (v_[array].type != JsonType::kArray || v_[array].count > kMaxEventProducts) {
            return fail(UpstreamEventError::kBadProperty, "products");
        }
        for (size_t l = array + 1; l < v_[array].end; l = v_[l].end) {
            if (v_[l].type != JsonType::kObject || v_[l].count > kMaxProductProperties) {
                return fail(UpstreamEventError::kBadProperty, "products");
            }
            for (size_t k = l + 1; k < v_[l].end; k = v_[k + 1].end) {
                const UpstreamEventError e = property(k, true, &out_->product_properties);
                if (e != UpstreamEventError::kOk) {
                    return e;
                }
            }
            line_ends->push_back(out_->product_properties.size());
        }
        return UpstreamEventError::kOk;
    }

    UpstreamEventError properties(size_t object) {
        // products count as one property, as they are one key of props
        if (v_[object].count > kMaxEventProperties) {
            return fail(UpstreamEventError::kBadProperty, "properties");
        }
        // reserved so the lines' pointers, taken at the end, stay put
        out_->properties.reserve(v_[object].count);
        out_->product_properties.reserve(kMaxEventProducts * kMaxProductProperties);
        std::vector<size_t> line_ends;
        bool seen_products = false;
        for (size_t k = object + 1; k < v_[object].end; k = v_[k + 1].end) {
            UpstreamEventError e = UpstreamEventError::kOk;
            if (v_[k].text == "products") {
                seen_products = true;
                e = products(k + 1, &line_ends);
            } else {
                e = property(k, false, &out_->properties);
            }
            if (e != UpstreamEventError::kOk) {
                return e;
            }
        }
        if (!seen_products) {
            return UpstreamEventError::kOk;
        }
        size_t start = 0;
        for (size_t end : line_ends) {
            EventProductLine line;
            line.properties = out_->product_properties.data() + start;
            line.property_count = end - start;
            out_->products.push_back(line);
            start = end;
        }
        return UpstreamEventError::kOk;
    }

    UpstreamEvent* out_;
    const std::vector<JsonValue>& v_;
};

}  // namespace

std::string_view upstream_event_error_name(UpstreamEventError error) noexcept {
    switch (error) {
        case UpstreamEventError::kOk:
            return "ok";
        case UpstreamEventError::kTooLarge:
            return "too_large";
        case UpstreamEventError::kMalformed:
            return "malformed";
        case UpstreamEventError::kNotAnEvent:
            return "not_an_event";
        case UpstreamEventError::kBadName:
            return "bad_name";
        case UpstreamEventError::kBadProperty:
            return "bad_property";
        case UpstreamEventError::kPersonalData:
            return "personal_data";
    }
    return "unknown";
}

UpstreamEventError parse_upstream_event(std::string_view header, size_t max_bytes,
                                        UpstreamEvent* out) noexcept {
    out->type = EventType::kCustom;
    out->name = {};
    out->detail = {};
    out->properties.clear();
    out->products.clear();
    out->product_properties.clear();

    const size_t bound = max_bytes < kMaxUpstreamEventBytes ? max_bytes : kMaxUpstreamEventBytes;
    if (header.size() > bound) {
        return UpstreamEventError::kTooLarge;
    }
    JsonLimits limits;
    limits.max_bytes = bound;
    limits.max_depth = kUpstreamEventDepth;
    limits.max_values = kUpstreamEventValues;
    const JsonError parsed = out->doc.parse(header, limits);
    if (parsed == JsonError::kTooLarge) {
        return UpstreamEventError::kTooLarge;
    }
    if (parsed != JsonError::kOk) {
        return UpstreamEventError::kMalformed;
    }
    try {
        Checker checker(out);
        const UpstreamEventError e = checker.event();
        if (e != UpstreamEventError::kOk) {
            out->properties.clear();
            out->products.clear();
            out->product_properties.clear();
        }
        return e;
    } catch (...) {
        // out of memory for a few dozen views: refuse the event, never the page
        out->properties.clear();
        out->products.clear();
        out->product_properties.clear();
        return UpstreamEventError::kMalformed;
    }
}

}  // namespace tailor
