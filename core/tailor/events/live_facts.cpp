// LiveFacts: one pass over an event blob for what the live script needs.
#include "tailor/events/live_facts.h"

#include <cmath>

#include "tailor/base/msgpack_reader.h"
#include "tailor/events/schema.h"

namespace tailor {
namespace {

// The nesting an event blob may have (the envelope, props or exp, an exposure).
constexpr size_t kMaxBlobDepth = 4;

// One value: a non-empty string into *text, a number into *number (the
// script's num(): finite, within +-1e15), anything else passed.
bool read_fact(MsgpackReader* r, size_t level, std::string_view* text, double* number,
               bool* is_number, int64_t* integer = nullptr, bool* is_integer = nullptr) {
    MsgpackHead h;
    if (!r->head(&h)) {
        return false;
    }
    if (h.type == MsgpackType::kStr) {
        std::string_view v;
        if (!r->payload(h, &v)) {
            return false;
        }
        if (text != nullptr && !v.empty()) {
            *text = v;
        }
        return true;
    }
    if (h.is_integer() || h.is_float()) {
        const double v = h.type == MsgpackType::kUint     ? static_cast<double>(h.u)
                         : h.type == MsgpackType::kNegInt ? static_cast<double>(h.i)
                                                          : h.float_value();
        if (number != nullptr && v == v && v > -1e15 && v < 1e15) {
            *number = v;
            *is_number = true;
            if (integer != nullptr) {
                *is_integer = h.is_integer();
                *integer = h.type == MsgpackType::kUint ? static_cast<int64_t>(h.u) : h.i;
            }
        }
        return true;
    }
    return r->skip(h, level);
}

}  // namespace

std::optional<LiveFacts> live_facts(std::string_view blob) noexcept {
    if (blob.size() > kMaxEventBlobBytes) {
        return std::nullopt;
    }
    MsgpackLimits limits;
    limits.max_depth = kMaxBlobDepth;
    MsgpackReader r(blob, limits);
    LiveFacts f;
    size_t keys = 0;
    if (!r.read_map(1, &keys)) {
        return std::nullopt;
    }
    for (size_t k = 0; k < keys; ++k) {
        std::string_view key;
        if (!r.read_str(&key)) {
            return std::nullopt;
        }
        bool ok = true;
        if (key == "type" || key == "vid" || key == "prev") {
            std::string_view* want = key == "type"  ? &f.type
                                     : key == "vid" ? &f.vid
                                                    : &f.previous_vid;
            ok = r.read_str(want);
        } else if (key == "ts") {
            double ts = 0;
            bool has_ts = false;
            ok = read_fact(&r, 2, nullptr, &ts, &has_ts);
            f.time_s.reset();
            if (has_ts) {
                f.time_s = static_cast<int64_t>(std::floor(ts / 1000));
            }
        } else if (key == "src") {
            ok = read_fact(&r, 2, &f.src, nullptr, nullptr);
        } else if (key == "seq") {
            ok = read_fact(&r, 2, nullptr, &f.seq, &f.has_seq, &f.seq_int, &f.seq_integer);
        } else if (key == "props") {
            MsgpackHead h;
            ok = r.head(&h);
            const bool map = ok && h.type == MsgpackType::kMap;
            if (ok && !map) {
                ok = r.skip(h, 2);  // not the script's business: the stream keeps it as is
            }
            ok = ok && (!map || r.enter(h, 2));
            for (uint64_t i = 0; ok && map && i < h.u; ++i) {
                std::string_view name;
                ok = r.read_str(&name);
                if (!ok) {
                    break;
                }
                if (name == "product_id") {
                    ok = read_fact(&r, 3, &f.product_id, nullptr, nullptr);
                } else if (name == "ProductID") {
                    ok = read_fact(&r, 3, &f.product_id_klaviyo, nullptr, nullptr);
                } else if (name == "sku") {
                    ok = read_fact(&r, 3, &f.sku, nullptr, nullptr);
                } else if (name == "category") {
                    ok = read_fact(&r, 3, &f.category, nullptr, nullptr);
                } else if (name == "price") {
                    ok = read_fact(&r, 3, nullptr, &f.price, &f.has_price);
                } else if (name == "quantity") {
                    ok = read_fact(&r, 3, nullptr, &f.qty, &f.has_qty);
                } else {
                    ok = r.skip_value(3);
                }
            }
        } else {
            ok = r.skip_value(2);
        }
        if (!ok) {
            return std::nullopt;
        }
    }
    if (f.type.empty() || f.vid.empty()) {
        return std::nullopt;
    }
    return f;
}

namespace {

bool pack_view(std::string_view v, std::string_view blob, PackedLiveFacts::At* at) noexcept {
    if (v.empty()) {
        *at = {0, 0};
        return true;
    }
    const auto begin = reinterpret_cast<uintptr_t>(blob.data());
    const auto p = reinterpret_cast<uintptr_t>(v.data());
    if (p < begin || p - begin > blob.size() || v.size() > blob.size() - (p - begin)) {
        return false;
    }
    *at = {static_cast<uint32_t>(p - begin), static_cast<uint32_t>(v.size())};
    return true;
}

std::string_view unpack_view(PackedLiveFacts::At at, std::string_view blob) noexcept {
    if (at.size == 0 || at.offset > blob.size() || at.size > blob.size() - at.offset) {
        return {};
    }
    return std::string_view(blob.data() + at.offset, at.size);
}

}  // namespace

bool PackedLiveFacts::pack(const LiveFacts& f, std::string_view b) noexcept {
    if (b.size() > kMaxEventBlobBytes ||
        !(pack_view(f.type, b, &type) && pack_view(f.vid, b, &vid) &&
          pack_view(f.previous_vid, b, &previous_vid) && pack_view(f.src, b, &src) &&
          pack_view(f.category, b, &category) && pack_view(f.product_id, b, &product_id) &&
          pack_view(f.product_id_klaviyo, b, &product_id_klaviyo) && pack_view(f.sku, b, &sku))) {
        return false;
    }
    has_time = f.time_s.has_value();
    time_s = f.time_s.value_or(0);
    has_seq = f.has_seq;
    seq_integer = f.seq_integer;
    seq_int = f.seq_int;
    seq = f.seq;
    has_price = f.has_price;
    price = f.price;
    has_qty = f.has_qty;
    qty = f.qty;
    return true;
}

LiveFacts PackedLiveFacts::unpack(std::string_view b) const noexcept {
    LiveFacts f;
    f.type = unpack_view(type, b);
    f.vid = unpack_view(vid, b);
    f.previous_vid = unpack_view(previous_vid, b);
    f.src = unpack_view(src, b);
    f.category = unpack_view(category, b);
    f.product_id = unpack_view(product_id, b);
    f.product_id_klaviyo = unpack_view(product_id_klaviyo, b);
    f.sku = unpack_view(sku, b);
    if (has_time) {
        f.time_s = time_s;
    }
    f.has_seq = has_seq;
    f.seq_integer = seq_integer;
    f.seq_int = seq_int;
    f.seq = seq;
    f.has_price = has_price;
    f.price = price;
    f.has_qty = has_qty;
    f.qty = qty;
    return f;
}

bool LiveFacts::product_event() const noexcept {
    return type == "Product Viewed" || type == "Product Added" || type == "Product Removed";
}

std::string_view LiveFacts::product() const noexcept {
    return !product_id.empty()           ? product_id
           : !product_id_klaviyo.empty() ? product_id_klaviyo
                                         : sku;
}

std::optional<int64_t> LiveFacts::price_minor(uint32_t scale) const noexcept {
    if (!has_price || price < 0) {
        return std::nullopt;
    }
    const double m = std::floor(price * scale + 0.5);
    if (m > 1e12) {
        return std::nullopt;
    }
    return static_cast<int64_t>(m);
}

int64_t LiveFacts::quantity() const noexcept {
    const double q = has_qty ? std::floor(qty) : 1;
    return q < 1 ? 1 : q > 1000000 ? 1000000 : static_cast<int64_t>(q);
}

}  // namespace tailor
