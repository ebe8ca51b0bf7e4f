// Event: names, property validation, UUIDv7 ids, the msgpack-c encoder and a bounded decoder.
#include "tailor/events/event.h"

#include "tailor/events/path.h"

#include <msgpack.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <new>

namespace tailor {
namespace {

struct TypeName {
    EventType type;
    std::string_view segment;
    std::string_view klaviyo;
};

constexpr std::array<TypeName, 9> kTypeNames = {{
    {EventType::kPageViewed, "Page Viewed", "Active on Site"},
    {EventType::kProductViewed, "Product Viewed", "Viewed Product"},
    {EventType::kProductAdded, "Product Added", "Added to Cart"},
    {EventType::kProductRemoved, "Product Removed", ""},
    {EventType::kCartViewed, "Cart Viewed", ""},
    {EventType::kCheckoutStarted, "Checkout Started", "Started Checkout"},
    {EventType::kOrderCompleted, "Order Completed", "Placed Order"},
    {EventType::kProductsSearched, "Products Searched", ""},
    {EventType::kIdentify, "Identify", ""},
}};

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_alpha(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

bool valid_custom_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > kMaxEventNameBytes || !is_alpha(name[0])) {
        return false;
    }
    for (char c : name) {
        if (!(is_alpha(c) || is_digit(c) || c == ' ' || c == '_' || c == '.' || c == '-')) {
            return false;
        }
    }
    return true;
}

// Length of the valid UTF-8 sequence starting at s[0], or 0 if the byte
// there does not start one (overlongs, surrogates and > U+10FFFF included).
size_t utf8_sequence(const unsigned char* s, size_t n) noexcept {
    const unsigned char c = s[0];
    if (c < 0x80) {
        return 1;
    }
    size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; ++i) {
        if ((s[i] & 0xC0) != 0x80) {
            return 0;
        }
    }
    return len;
}

// The longest prefix of `s` of at most `cap` bytes that does not split a
// valid UTF-8 sequence.
std::string_view utf8_cut(std::string_view s, size_t cap) noexcept {
    if (s.size() <= cap) {
        return s;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0;
    while (i < cap) {
        const size_t len = utf8_sequence(p + i, s.size() - i);
        const size_t step = len == 0 ? 1 : len;
        if (i + step > cap) {
            break;
        }
        i += step;
    }
    return s.substr(0, i);
}

// The packer writes straight into the caller's std::string; a failed growth
// is remembered and reported once at the end.
struct Sink {
    std::string* out;
    bool failed = false;
};

int sink_write(void* data, const char* buf, size_t len) {
    auto* sink = static_cast<Sink*>(data);
    if (sink->failed) {
        return -1;
    }
    try {
        sink->out->append(buf, len);
    } catch (...) {
        sink->failed = true;
        return -1;
    }
    return 0;
}

// Packs `s` as a str, replacing each byte that is not part of a valid UTF-8
// sequence with '?': same length, so the header is written first and the
// body streams through a small stack buffer only when a fix is needed.
void pack_text(msgpack_packer* pk, std::string_view s) {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    size_t i = 0;
    while (i < s.size()) {
        const size_t len = utf8_sequence(p + i, s.size() - i);
        if (len == 0) {
            break;
        }
        i += len;
    }
    msgpack_pack_str(pk, s.size());
    if (i == s.size()) {
        msgpack_pack_str_body(pk, s.data(), s.size());
        return;
    }
    msgpack_pack_str_body(pk, s.data(), i);
    char buf[256];
    size_t n = 0;
    while (i < s.size()) {
        size_t len = utf8_sequence(p + i, s.size() - i);
        if (n + 4 > sizeof buf) {
            msgpack_pack_str_body(pk, buf, n);
            n = 0;
        }
        if (len == 0) {
            buf[n++] = '?';
            len = 1;
        } else {
            std::memcpy(buf + n, s.data() + i, len);
            n += len;
        }
        i += len;
    }
    msgpack_pack_str_body(pk, buf, n);
}

void pack_key(msgpack_packer* pk, std::string_view key) {
    msgpack_pack_str(pk, key.size());
    msgpack_pack_str_body(pk, key.data(), key.size());
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
    while (i < v.size() && is_digit(v[i])) {
        ++i;
    }
    if (i == int_start) {
        return false;
    }
    bool fraction = false;
    if (i < v.size() && v[i] == '.') {
        const size_t frac_start = ++i;
        while (i < v.size() && is_digit(v[i])) {
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

void pack_number(msgpack_packer* pk, const Number& n) {
    if (n.is_integer) {
        msgpack_pack_int64(pk, n.integer);
    } else {
        msgpack_pack_double(pk, n.real);
    }
}

}  // namespace

std::string_view event_type_name(EventType type) noexcept {
    for (const TypeName& t : kTypeNames) {
        if (t.type == type) {
            return t.segment;
        }
    }
    return {};
}

std::string_view klaviyo_metric_name(EventType type) noexcept {
    for (const TypeName& t : kTypeNames) {
        if (t.type == type) {
            return t.klaviyo;
        }
    }
    return {};
}

std::optional<EventType> parse_event_type(std::string_view name) noexcept {
    for (const TypeName& t : kTypeNames) {
        if (t.segment == name) {
            return t.type;
        }
    }
    if (valid_custom_name(name)) {
        return EventType::kCustom;
    }
    return std::nullopt;
}

PropertyKind default_property_kind(std::string_view name) noexcept {
    static constexpr std::string_view kNumeric[] = {
        "price",    "quantity", "value",    "revenue",  "total",
        "subtotal", "tax",      "shipping", "discount", "position",
    };
    for (std::string_view n : kNumeric) {
        if (n == name) {
            return PropertyKind::kNumber;
        }
    }
    return PropertyKind::kString;
}

std::string_view property_name_error_reason(PropertyNameError error) noexcept {
    switch (error) {
        case PropertyNameError::kOk:
            return "ok";
        case PropertyNameError::kEmpty:
            return "is empty";
        case PropertyNameError::kTooLong:
            return "is longer than 40 characters";
        case PropertyNameError::kBadCharacter:
            return "must be letters, digits and '_', not starting with a digit";
        case PropertyNameError::kPersonalData:
            break;
    }
    return "names personal data, which events never carry";
}

PropertyNameError check_property_name(std::string_view name) noexcept {
    if (name.empty()) {
        return PropertyNameError::kEmpty;
    }
    if (name.size() > kMaxPropertyNameBytes) {
        return PropertyNameError::kTooLong;
    }
    if (is_digit(name[0])) {
        return PropertyNameError::kBadCharacter;
    }
    char buf[kMaxPropertyNameBytes];
    size_t n = 0;
    for (char c : name) {
        if (!(is_alpha(c) || is_digit(c) || c == '_')) {
            return PropertyNameError::kBadCharacter;
        }
        if (c != '_') {
            buf[n++] = lower(c);
        }
    }
    const std::string_view norm(buf, n);
    static constexpr std::string_view kExact[] = {
        "name", "ip", "ua", "dob", "ssn", "zip", "tel", "phone", "mobile", "age", "gender",
    };
    for (std::string_view e : kExact) {
        if (norm == e) {
            return PropertyNameError::kPersonalData;
        }
    }
    static constexpr std::string_view kContains[] = {
        "email",        "mail",         "phone",          "firstname",  "lastname",
        "fullname",     "surname",      "givenname",      "familyname", "username",
        "customername", "middlename",   "nickname",       "address",    "street",
        "postcode",     "zipcode",      "postalcode",     "birth",      "password",
        "passwd",       "useragent",    "ipaddr",         "creditcard", "cardnumber",
        "cvv",          "iban",         "socialsecurity", "token",      "secret",
        "billingname",  "shippingname", "contactname",    "realname",   "displayname",
    };
    for (std::string_view c : kContains) {
        if (norm.find(c) != std::string_view::npos) {
            return PropertyNameError::kPersonalData;
        }
    }
    return PropertyNameError::kOk;
}

std::optional<EventId> EventId::generate(int64_t now_ms) noexcept {
    unsigned char b[16];
    if (now_ms < 0 || RAND_bytes(b + 6, 10) != 1) {
        return std::nullopt;
    }
    const auto ms = static_cast<uint64_t>(now_ms);
    for (int i = 0; i < 6; ++i) {
        b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
    }
    b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));  // version 7
    b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));  // variant 10
    static constexpr char kHex[] = "0123456789abcdef";
    EventId id;
    size_t o = 0;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            id.text_[o++] = '-';
        }
        id.text_[o++] = kHex[b[i] >> 4];
        id.text_[o++] = kHex[b[i] & 0x0F];
    }
    return id;
}

std::optional<EventId> EventId::parse(std::string_view text) noexcept {
    if (text.size() != kTextLength) {
        return std::nullopt;
    }
    for (size_t i = 0; i < kTextLength; ++i) {
        const char c = text[i];
        const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? c != '-' : !(is_digit(c) || (c >= 'a' && c <= 'f'))) {
            return std::nullopt;
        }
    }
    EventId id;
    std::memcpy(id.text_, text.data(), kTextLength);
    return id;
}

int64_t EventId::unix_ms() const noexcept {
    uint64_t ms = 0;
    for (size_t i = 0; i < 13; ++i) {
        if (i == 8) {
            continue;
        }
        const char c = text_[i];
        ms = ms * 16 + static_cast<uint64_t>(is_digit(c) ? c - '0' : c - 'a' + 10);
    }
    return static_cast<int64_t>(ms);
}

EncodeResult encode_event(const Event& event, std::string* out) noexcept {
    EncodeResult result;
    const std::string_view name =
        event.type == EventType::kCustom ? event.name : event_type_name(event.type);
    if (event.vid.empty() || event.ts_ms <= 0 ||
        (event.type == EventType::kCustom && !valid_custom_name(name))) {
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
    for (size_t i = 0; i < declared; ++i) {
        const EventProperty& p = event.properties[i];
        Number unused;
        if (p.kind == PropertyKind::kNumber && !parse_number(p.value, &unused)) {
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
    keys += props == 0 ? 0 : 1;
    keys += event.producer.empty() ? 0 : 2;
    keys += event.previous_vid.empty() ? 0 : 1;

    const size_t start = out->size();
    try {
        out->reserve(start + 512);  // a typical event fits: one growth at most
    } catch (...) {
        result.status = EncodeStatus::kOutOfMemory;
        return result;
    }
    Sink sink{out};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sink, sink_write);
    msgpack_pack_map(&pk, keys);
    pack_key(&pk, "v");
    msgpack_pack_uint32(&pk, kEventSchemaVersion);
    pack_key(&pk, "id");
    pack_text(&pk, event.id.text());
    pack_key(&pk, "type");
    pack_text(&pk, name);
    pack_key(&pk, "vid");
    pack_text(&pk, event.vid);
    pack_key(&pk, "ts");
    msgpack_pack_int64(&pk, event.ts_ms);
    pack_key(&pk, "path");
    pack_text(&pk, utf8_cut(event.path, kMaxEventPathBytes));
    if (!attr.utm_source().empty()) {
        pack_key(&pk, "utm_source");
        pack_text(&pk, attr.utm_source());
    }
    if (!attr.utm_medium().empty()) {
        pack_key(&pk, "utm_medium");
        pack_text(&pk, attr.utm_medium());
    }
    if (!attr.utm_campaign().empty()) {
        pack_key(&pk, "utm_campaign");
        pack_text(&pk, attr.utm_campaign());
    }
    pack_key(&pk, "ref");
    pack_text(&pk, referrer_class_name(attr.referrer_class()));
    if (!attr.referrer_host().empty()) {
        pack_key(&pk, "ref_host");
        pack_text(&pk, attr.referrer_host());
    }
    pack_key(&pk, "device");
    pack_text(&pk, device_class_name(event.device));
    if (exposures != 0) {
        pack_key(&pk, "exp");
        msgpack_pack_array(&pk, exposures);
        for (size_t i = 0; i < exposures; ++i) {
            const EventExposure& x = event.exposures[i];
            msgpack_pack_array(&pk, 3);
            pack_text(&pk, utf8_cut(x.rule, kMaxExposureFieldBytes));
            pack_text(&pk, utf8_cut(x.experiment, kMaxExposureFieldBytes));
            pack_text(&pk, utf8_cut(x.variant, kMaxExposureFieldBytes));
        }
    }
    if (props != 0) {
        pack_key(&pk, "props");
        msgpack_pack_map(&pk, props);
        for (size_t i = 0; i < declared; ++i) {
            if ((valid_mask & (1u << i)) == 0) {
                continue;
            }
            const EventProperty& p = event.properties[i];
            pack_text(&pk, utf8_cut(p.name, kMaxPropertyNameBytes));
            Number number;
            if (p.kind == PropertyKind::kNumber && parse_number(p.value, &number)) {
                pack_number(&pk, number);
            } else {
                const std::string_view v = utf8_cut(p.value, kMaxPropertyValueBytes);
                result.truncated_values += v.size() == p.value.size() ? 0 : 1;
                pack_text(&pk, v);
            }
        }
    }
    if (!event.producer.empty()) {
        pack_key(&pk, "src");
        pack_text(&pk, utf8_cut(event.producer, kMaxExposureFieldBytes));
        pack_key(&pk, "seq");
        msgpack_pack_uint64(&pk, event.seq);
    }
    if (!event.previous_vid.empty()) {
        pack_key(&pk, "prev");
        pack_text(&pk, event.previous_vid);
    }
    if (sink.failed) {
        try {
            out->resize(start);
        } catch (...) {
        }
        result.status = EncodeStatus::kOutOfMemory;
    }
    return result;
}

// ---- decoding: a bounded MessagePack reader over the blob, no msgpack zone.

namespace {

class Reader {
  public:
    explicit Reader(std::string_view s) noexcept
        : p_(reinterpret_cast<const unsigned char*>(s.data())), end_(p_ + s.size()) {}

    [[nodiscard]] bool done() const noexcept { return p_ == end_; }

    bool map(size_t* n) noexcept { return container(0x80, 0xde, n, 2); }
    bool array(size_t* n) noexcept { return container(0x90, 0xdc, n, 1); }

    // On failure nothing is consumed, so the caller may try another type.
    bool str(std::string_view* s) noexcept {
        const unsigned char* const start = p_;
        if (!str_at(s)) {
            p_ = start;
            return false;
        }
        return true;
    }

  private:
    bool str_at(std::string_view* s) noexcept {
        uint8_t c = 0;
        if (!peek(&c)) {
            return false;
        }
        size_t len = 0;
        if ((c & 0xE0) == 0xA0) {
            len = c & 0x1F;
            ++p_;
        } else if (c == 0xd9 || c == 0xda || c == 0xdb) {
            ++p_;
            if (!be(c == 0xd9 ? 1 : c == 0xda ? 2 : 4, &len)) {
                return false;
            }
        } else {
            return false;
        }
        if (static_cast<size_t>(end_ - p_) < len) {
            return false;
        }
        *s = std::string_view(reinterpret_cast<const char*>(p_), len);
        p_ += len;
        return true;
    }

  public:
    // Any integer format into int64 (uint64 above INT64_MAX is refused).
    bool integer(int64_t* v) noexcept {
        uint8_t c = 0;
        if (!peek(&c)) {
            return false;
        }
        size_t raw = 0;
        if (c <= 0x7f) {
            ++p_;
            *v = c;
            return true;
        }
        if (c >= 0xe0) {
            ++p_;
            *v = static_cast<int8_t>(c);
            return true;
        }
        if (c >= 0xcc && c <= 0xcf) {
            ++p_;
            if (!be(size_t{1} << (c - 0xcc), &raw) || raw > static_cast<uint64_t>(INT64_MAX)) {
                return false;
            }
            *v = static_cast<int64_t>(raw);
            return true;
        }
        if (c >= 0xd0 && c <= 0xd3) {
            ++p_;
            const size_t width = size_t{1} << (c - 0xd0);
            if (!be(width, &raw)) {
                return false;
            }
            const int shift = static_cast<int>(64 - 8 * width);
            *v = static_cast<int64_t>(static_cast<uint64_t>(raw) << shift) >> shift;
            return true;
        }
        return false;
    }

    bool number(double* d, bool* is_int, int64_t* i) noexcept {
        uint8_t c = 0;
        if (!peek(&c)) {
            return false;
        }
        if (c == 0xca || c == 0xcb) {
            ++p_;
            size_t raw = 0;
            if (!be(c == 0xca ? 4 : 8, &raw)) {
                return false;
            }
            if (c == 0xca) {
                const auto bits = static_cast<uint32_t>(raw);
                float f = 0;
                std::memcpy(&f, &bits, sizeof f);
                *d = f;
            } else {
                const uint64_t bits = raw;
                std::memcpy(d, &bits, sizeof *d);
            }
            *is_int = false;
            return true;
        }
        if (!integer(i)) {
            return false;
        }
        *is_int = true;
        *d = static_cast<double>(*i);
        return true;
    }

    // Skips one value of any type, nested at most `depth` more levels.
    bool skip(int depth) noexcept {
        uint8_t c = 0;
        if (!peek(&c) || depth < 0) {
            return false;
        }
        size_t n = 0;
        if ((c & 0xF0) == 0x80 || c == 0xde || c == 0xdf) {
            if (!map(&n)) {
                return false;
            }
            n *= 2;
        } else if ((c & 0xF0) == 0x90 || c == 0xdc || c == 0xdd) {
            if (!array(&n)) {
                return false;
            }
        } else {
            return scalar(c);
        }
        for (size_t k = 0; k < n; ++k) {
            if (!skip(depth - 1)) {
                return false;
            }
        }
        return true;
    }

  private:
    bool peek(uint8_t* c) const noexcept {
        if (p_ == end_) {
            return false;
        }
        *c = *p_;
        return true;
    }

    bool be(size_t width, size_t* v) noexcept {
        if (static_cast<size_t>(end_ - p_) < width) {
            return false;
        }
        uint64_t x = 0;
        for (size_t k = 0; k < width; ++k) {
            x = (x << 8) | p_[k];
        }
        p_ += width;
        *v = static_cast<size_t>(x);
        return true;
    }

    // Counts beyond what the remaining bytes could hold are refused before
    // anything is sized from them.
    bool container(uint8_t fix, uint8_t wide16, size_t* n, size_t min_bytes) noexcept {
        uint8_t c = 0;
        if (!peek(&c)) {
            return false;
        }
        if ((c & 0xF0) == fix) {
            *n = c & 0x0F;
            ++p_;
        } else if (c == wide16 || c == wide16 + 1) {
            ++p_;
            if (!be(c == wide16 ? 2 : 4, n)) {
                return false;
            }
        } else {
            return false;
        }
        return *n <= static_cast<size_t>(end_ - p_) / min_bytes;
    }

    bool scalar(uint8_t c) noexcept {
        size_t len = 0;
        if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3) {
            ++p_;
            return true;
        }
        if ((c & 0xE0) == 0xA0 || (c >= 0xd9 && c <= 0xdb)) {
            std::string_view s;
            return str(&s);
        }
        ++p_;
        switch (c) {
            case 0xc4:
            case 0xc5:
            case 0xc6:  // bin
                if (!be(size_t{1} << (c - 0xc4), &len)) {
                    return false;
                }
                break;
            case 0xc7:
            case 0xc8:
            case 0xc9:  // ext
                if (!be(size_t{1} << (c - 0xc7), &len)) {
                    return false;
                }
                ++len;  // the type byte
                break;
            case 0xca:
                len = 4;
                break;
            case 0xcb:
                len = 8;
                break;
            case 0xcc:
            case 0xcd:
            case 0xce:
            case 0xcf:
                len = size_t{1} << (c - 0xcc);
                break;
            case 0xd0:
            case 0xd1:
            case 0xd2:
            case 0xd3:
                len = size_t{1} << (c - 0xd0);
                break;
            case 0xd4:
            case 0xd5:
            case 0xd6:
            case 0xd7:
            case 0xd8:  // fixext
                len = 1 + (size_t{1} << (c - 0xd4));
                break;
            default:
                return false;  // 0xc1 is never used
        }
        if (static_cast<size_t>(end_ - p_) < len) {
            return false;
        }
        p_ += len;
        return true;
    }

    const unsigned char* p_;
    const unsigned char* end_;
};

constexpr int kMaxDecodeDepth = 4;

bool read_string(Reader* r, std::string* out) {
    std::string_view s;
    if (!r->str(&s)) {
        return false;
    }
    out->assign(s);
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
        Reader r(blob);
        DecodedEvent e;
        size_t keys = 0;
        if (!r.map(&keys)) {
            return std::nullopt;
        }
        unsigned seen = 0;  // bits: v id type vid ts
        for (size_t k = 0; k < keys; ++k) {
            std::string_view key;
            if (!r.str(&key)) {
                return std::nullopt;
            }
            bool ok = true;
            int64_t n = 0;
            if (key == "v") {
                ok = r.integer(&n) && n >= 0 && n <= UINT32_MAX;
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
                ok = r.integer(&e.ts_ms);
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
                ok = r.integer(&n) && n >= 0;
                e.seq = static_cast<uint64_t>(n);
            } else if (key == "exp") {
                size_t count = 0;
                ok = r.array(&count);
                for (size_t i = 0; ok && i < count; ++i) {
                    size_t three = 0;
                    DecodedExposure x;
                    ok = r.array(&three) && three == 3 && read_string(&r, &x.rule) &&
                         read_string(&r, &x.experiment) && read_string(&r, &x.variant);
                    if (ok) {
                        e.exposures.push_back(std::move(x));
                    }
                }
            } else if (key == "props") {
                size_t count = 0;
                ok = r.map(&count);
                for (size_t i = 0; ok && i < count; ++i) {
                    DecodedProperty p;
                    ok = read_string(&r, &p.name);
                    if (ok && !r.str(&key)) {
                        ok = r.number(&p.number, &p.is_integer, &p.integer);
                        p.is_number = true;
                    } else if (ok) {
                        p.text.assign(key);
                    }
                    if (ok) {
                        e.properties.push_back(std::move(p));
                    }
                }
            } else {
                ok = r.skip(kMaxDecodeDepth - 1);  // a newer writer's key
            }
            if (!ok) {
                return std::nullopt;
            }
        }
        if (seen != 31 || !r.done()) {
            return std::nullopt;
        }
        e.type = EventType::kCustom;
        for (const TypeName& t : kTypeNames) {
            if (t.segment == e.name) {
                e.type = t.type;
            }
        }
        return e;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<EventRouting> event_routing(std::string_view blob) noexcept {
    if (blob.size() > kMaxEventBlobBytes) {
        return std::nullopt;
    }
    Reader r(blob);
    size_t keys = 0;
    if (!r.map(&keys)) {
        return std::nullopt;
    }
    EventRouting routing;
    for (size_t k = 0; k < keys; ++k) {
        std::string_view key;
        if (!r.str(&key)) {
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
        if (want != nullptr ? !r.str(want) : !r.skip(kMaxDecodeDepth - 1)) {
            return std::nullopt;
        }
    }
    if (routing.type.empty() || routing.vid.empty()) {
        return std::nullopt;
    }
    return routing;
}

void XaddCommand::build(const StreamConfig& config, std::string_view type, std::string_view vid,
                        std::string_view blob) noexcept {
    int n = 0;
    auto add = [&](std::string_view s) {
        argv_[n] = s.data();
        argvlen_[n] = s.size();
        ++n;
    };
    add("XADD");
    add(config.key);
    if (config.maxlen != 0) {
        const auto r = std::to_chars(maxlen_, maxlen_ + sizeof maxlen_, config.maxlen);
        add("MAXLEN");
        add("~");
        add(std::string_view(maxlen_, static_cast<size_t>(r.ptr - maxlen_)));
    }
    add("*");
    add("type");
    add(type);
    add("vid");
    add(vid);
    add("e");
    add(blob);
    argc_ = n;
}

}  // namespace tailor
