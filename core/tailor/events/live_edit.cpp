// LiveMapEdit (model: live_edit.h). Each step names the line of live_script_bytes.h it mirrors;
// positions here are 0-based where the script's are 1-based.
#include "tailor/events/live_edit.h"

#include <algorithm>

#include "tailor/base/msgpack_format.h"
#include "tailor/base/msgpack_writer.h"

namespace tailor {
namespace {

using namespace std::string_view_literals;

constexpr std::string_view kVersion = "\xa1v\x01"sv;  // "v" = 1
constexpr std::string_view kAcquisition =
    "\xab"
    "acquisition"sv;
constexpr std::string_view kFirstSeen =
    "\xaa"
    "first_seen\xce"sv;
constexpr std::string_view kLastSeen =
    "\xa9"
    "last_seen\xce"sv;
constexpr std::string_view kSkuKey = "\xa3sku"sv;  // an entry's first key
// The layout's first keys: "rev" (a uint32, bytes 8 to 11) and "viewed" (its list at byte 19).
constexpr std::string_view kRevKey = "\xa3rev\xce"sv;
constexpr std::string_view kViewedKey = "\xa6viewed"sv;
constexpr size_t kRevAt = 3 + kRevKey.size();
constexpr size_t kViewedAt = kRevAt + 4;
constexpr size_t kListAt = kViewedAt + kViewedKey.size();
constexpr int64_t kMaxUint32 = 4294967295;

uint8_t byte_at(std::string_view s, size_t i) noexcept {
    return static_cast<uint8_t>(s[i]);
}

// The big-endian value of `width` bytes at `at` (in bounds).
uint32_t be_at(std::string_view raw, size_t at, unsigned width) noexcept {
    return static_cast<uint32_t>(
        msgpack_detail::load_be(reinterpret_cast<const unsigned char*>(raw.data() + at), width));
}

// uint32_at(): the big-endian uint32 after `key`, found once; nullopt otherwise.
std::optional<uint32_t> uint32_at(std::string_view raw, std::string_view key, size_t* at) noexcept {
    const size_t k = raw.find(key);
    if (k == std::string_view::npos || raw.find(key, k + 1) != std::string_view::npos ||
        raw.size() < k + key.size() + 4) {
        return std::nullopt;
    }
    *at = k + key.size();
    return be_at(raw, *at, 4);
}

// str_head(): a string the entry layout can hold (no "\163sku" in it, under 64 KB).
bool layout_string(std::string_view s) noexcept {
    return s.size() < 65536 && s.find(kSkuKey) == std::string_view::npos;
}

// entry_bytes(): {sku, category, at, price} in that order, category and price optional.
bool entry_bytes(std::string_view sku, std::string_view category, int64_t at,
                 std::optional<int64_t> price, std::string* out) {
    if (!layout_string(sku) || at < 0 || at > kMaxUint32 ||
        (!category.empty() && !layout_string(category)) ||
        (price && (*price < 0 || *price > kMaxUint32))) {
        return false;
    }
    out->resize(64 + sku.size() + category.size());
    MsgpackWriter w(out->data(), out->size());
    w.map(2 + (category.empty() ? 0 : 1) + (price ? 1 : 0));
    w.str("sku");
    w.str(sku);
    if (!category.empty()) {
        w.str("category");
        w.str(category);
    }
    w.str("at");
    w.uint(static_cast<uint64_t>(at));
    if (price) {
        w.str("price");
        w.uint(static_cast<uint64_t>(*price));
    }
    out->resize(w.size());
    return w.ok();
}

void array_header(size_t n, std::string* out) {
    char header[MsgpackWriter::kMaxHeaderBytes];
    MsgpackWriter w(header, sizeof header);
    w.array(n);
    out->append(header, w.size());
}

}  // namespace

bool LiveMapEdit::start(std::string_view stored, uint32_t session_gap,
                        uint32_t viewed_cap) noexcept {
    gap_ = session_gap;
    viewed_cap_ = viewed_cap;
    changed_ = false;
    read_ = false;
    has_top_ = false;
    // the layout the script writes once a visitor is back (a first map is plain cmsgpack)
    void_ = stored.size() < kLiveRevisionBytes || stored.size() > kMaxLiveEditBytes ||
            byte_at(stored, 0) != 0xde || byte_at(stored, 1) != 0 || byte_at(stored, 2) > 15 ||
            stored.substr(3, kRevKey.size()) != kRevKey;
    if (void_) {
        return false;
    }
    stored.copy(read_revision_.data(), read_revision_.size());
    try {
        bytes_.assign(stored.data(), stored.size());
    } catch (...) {
        void_ = true;
    }
    return !void_;
}

// The script's loop for one fresh event of a visitor it has not decoded.
bool LiveMapEdit::apply(std::string_view type, int64_t time_s, std::string_view sku,
                        std::string_view category, std::optional<int64_t> price) noexcept {
    if (void_) {
        return false;
    }
    const bool viewed_event = type == "Product Viewed";
    const bool product_event = viewed_event || type == "Product Added" || type == "Product Removed";
    bool done = false;
    try {
        if (product_event && !sku.empty()) {
            if (!viewed_event) {
                done = false;  // a cart change: full()
            } else if (has_top_ && top_sku_ == sku && top_at_ == time_s &&
                       top_category_ == category && top_price_ == price) {
                done = true;  // what this visitor's last view here put first, in the same second
            } else if (touched(time_s) && viewed(time_s, sku, category, price)) {
                top_sku_.assign(sku.data(), sku.size());
                top_category_.assign(category.data(), category.size());
                top_at_ = time_s;
                top_price_ = price;
                has_top_ = true;
                done = true;
            }
        } else if (type == "Order Completed" || type == "Identify") {
            done = false;  // full()
        } else {
            done = touched(time_s);
        }
    } catch (...) {
        done = false;
    }
    void_ = !done;
    return done;
}

// touched(): true when the event is in the same visit and the map complete; moves last_seen
// (patched here at once, where the script patches when it writes).
bool LiveMapEdit::touched(int64_t t) noexcept {
    if (t > kMaxUint32 || t < 0) {
        return false;
    }
    if (!read_) {
        const std::string_view raw(bytes_);
        if (raw.find(kVersion) == std::string_view::npos) {
            return false;
        }
        const size_t acq = raw.find(kAcquisition);
        if (acq == std::string_view::npos || raw.size() <= acq + kAcquisition.size()) {
            return false;
        }
        const uint8_t header = byte_at(raw, acq + kAcquisition.size());
        if (header < 128 || header > 143) {
            return false;
        }
        size_t first_at = 0;
        const std::optional<uint32_t> first = uint32_at(raw, kFirstSeen, &first_at);
        const std::optional<uint32_t> last = uint32_at(raw, kLastSeen, &last_at_);
        if (!first || *first == 0 || !last) {
            return false;
        }
        first_ = *first;
        last_ = *last;
        read_ = true;
    }
    if (t < first_ || t - last_ > gap_) {
        return false;
    }
    if (t > last_) {
        last_ = t;
        put_uint32(last_at_, static_cast<uint32_t>(t));
        moved();
    }
    return true;
}

void LiveMapEdit::put_uint32(size_t at, uint32_t x) noexcept {
    for (int i = 0; i < 4; ++i) {
        bytes_[at + i] = static_cast<char>(x >> (8 * (3 - i)));
    }
}

// A first change moves the revision on, as the script's write of the map does.
void LiveMapEdit::moved() noexcept {
    if (!changed_) {
        changed_ = true;
        put_uint32(kRevAt, be_at(bytes_, kRevAt, 4) + 1);  // start() saw the 4 bytes
    }
}

// viewed_fast(): the product view's entry first, the same sku's out, the list capped.
bool LiveMapEdit::viewed(int64_t t, std::string_view sku, std::string_view category,
                         std::optional<int64_t> price) {
    const std::string_view raw(bytes_);
    if (viewed_cap_ < 1 || raw.size() <= kListAt ||
        raw.substr(kViewedAt, kViewedKey.size()) != kViewedKey) {
        return false;  // start() checked the header and "rev"
    }
    std::string& entry = entry_;
    if (!entry_bytes(sku, category, t, price, &entry)) {
        return false;
    }
    size_t n = byte_at(raw, kListAt);
    size_t p = kListAt + 1;
    if (n >= 0x90 && n < 0xa0) {
        n -= 0x90;
    } else if (n == 0xdc && raw.size() >= kListAt + 3) {
        n = be_at(raw, kListAt + 1, 2);
        p = kListAt + 3;
    } else {
        return false;
    }
    const size_t end = raw.find(kVersion, p);  // the list ends at "v"
    if (end == std::string_view::npos || raw.find(kVersion, end + 1) != std::string_view::npos ||
        last_at_ < end) {
        return false;
    }
    if (n != 0 && raw.compare(p, entry.size(), entry) == 0) {
        return true;  // first already
    }
    // The entries' starts: "\163sku" after a map header of 2 to 4 keys. This sku's entry, if
    // any, is the one whose "\163sku", string header and sku are `pat` (the script looks for
    // `pat` where an entry starts, twice: the full path takes them all out). `pat` starts with
    // "\163sku", so an entry's start is the only place it can count: one pass finds both.
    const size_t sku_head = sku.size() < 32 ? 1 : sku.size() < 256 ? 2 : 3;
    const std::string_view pat =
        std::string_view(entry).substr(1, kSkuKey.size() + sku_head + sku.size());
    std::vector<size_t>& at = starts_;
    at.clear();
    std::optional<size_t> match;
    for (size_t q = raw.find(kSkuKey, p); q != std::string_view::npos && q < end;
         q = raw.find(kSkuKey, q + 4)) {
        const uint8_t h = byte_at(raw, q - 1);
        if (h >= 130 && h <= 132) {
            if (raw.compare(q, pat.size(), pat) == 0) {
                if (match) {
                    return false;
                }
                match = at.size();
            }
            at.push_back(q - 1);
        }
    }
    if (at.size() != n || (n > 0 && at[0] != p)) {
        return false;
    }
    at.push_back(end);
    const size_t keep = std::min<size_t>(n - (match ? 1 : 0), viewed_cap_ - 1);
    std::string& spliced = spliced_;
    spliced.clear();
    spliced.append(raw.substr(0, kListAt));
    array_header(keep + 1, &spliced);
    spliced.append(entry);
    if (!match || keep <= *match) {
        spliced.append(raw.substr(p, at[keep] - p));
    } else {
        spliced.append(raw.substr(p, at[*match] - p));
        spliced.append(raw.substr(at[*match + 1], at[keep + 1] - at[*match + 1]));
    }
    spliced.append(raw.substr(end));
    last_at_ = last_at_ - raw.size() + spliced.size();  // after the list: moved with its end
    bytes_.swap(spliced);
    moved();
    return true;
}

}  // namespace tailor
