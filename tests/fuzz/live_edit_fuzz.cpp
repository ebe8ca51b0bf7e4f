// LiveMapEdit fuzz: nginx edits a live map Redis sent it (what a request read), so the map's
// bytes are an outsider's. Any bytes, any events: no crash, no read outside the map, and an
// edit that applied keeps the map what it was.
//
// Input: byte 0 says how many events follow (low 2 bits + 1) and whether the map is built here
// (bit 2: a map in the script's layout, with the viewed list and times from the input, then
// bytes of it flipped by the input) or is the rest of the input as it is; then 3 bytes per
// event (kind and sku, seconds after the map's last_seen, category and price); then the map,
// or what builds and flips it.
// Invariants: when every event applied, "rev" moved on by exactly one if anything changed and
// the map grew by no more than the entries added; and, for a map built here unflipped, the
// edit decodes cleanly, its viewed list starts with the last product viewed, holds each sku
// once and no more than 20 entries (or as many as before: a page view does not trim).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/base/msgpack_format.h"
#include "tailor/base/msgpack_writer.h"
#include "tailor/events/live_edit.h"
#include "tailor/profile/decode.h"

namespace {

void require_at(bool ok, const char* what, int line) {
    if (!ok) {
        std::fprintf(stderr, "live_edit_fuzz.cpp:%d: %s\n", line, what);
        std::abort();
    }
}
#define require(ok) require_at((ok), #ok, __LINE__)

constexpr int64_t kLastSeen = 1718000000;
const char* const kSkus[] = {"SKU-0", "SKU-1", "SKU-2", "SKU-3", "SKU-4", "sku", "\xa3sku", "S"};

// A uint32 in the script's format for times and "rev": always 0xce and four bytes.
void uint32(tailor::MsgpackWriter* w, uint32_t x) {
    const char b[5] = {'\xce', static_cast<char>(x >> 24), static_cast<char>(x >> 16),
                       static_cast<char>(x >> 8), static_cast<char>(x)};
    w->raw(b, sizeof b);
}

// A map as the script lays it out: header, rev, viewed (n entries), v, and the keys touched()
// needs.
std::string laid_out(size_t n, uint32_t rev) {
    std::string out(4096, '\0');
    tailor::MsgpackWriter w(out.data(), out.size());
    w.raw("\xde\x00\x08", 3);  // map16, by hand: the writer would pick a fixmap for 8 keys
    w.str("rev");
    uint32(&w, rev);
    w.str("viewed");
    w.array(n);
    for (size_t i = 0; i < n; ++i) {
        w.map(3);
        w.str("sku");
        w.str(kSkus[i % 5] + std::string(i / 5, 'x'));
        w.str("at");
        w.uint(static_cast<uint64_t>(kLastSeen - static_cast<int64_t>(i)));
        w.str("price");
        w.uint(100 * i);
    }
    w.str("v");
    w.uint(1);
    w.str("visits");
    w.uint(3);
    w.str("first_seen");
    uint32(&w, kLastSeen - 1000);
    w.str("last_seen");
    uint32(&w, kLastSeen);
    w.str("acquisition");
    w.map(0);
    w.str("cart");
    w.array(0);
    out.resize(w.ok() ? w.size() : 0);
    return out;
}

// "rev": the uint32 at bytes 8-11 of the layout (kLiveRevisionBytes).
uint32_t rev_of(std::string_view map) {
    return static_cast<uint32_t>(
        tailor::msgpack_detail::load_be(reinterpret_cast<const unsigned char*>(map.data()) + 8, 4));
}

bool unique_skus(const tailor::Profile& p) {
    for (size_t i = 0; i < p.viewed.size(); ++i) {
        for (size_t j = i + 1; j < p.viewed.size(); ++j) {
            if (p.viewed[i].sku == p.viewed[j].sku) {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const size_t events = (data[0] & 3) + 1;
    const bool build = (data[0] & 4) != 0;
    if (size < 1 + 3 * events) {
        return 0;
    }
    const uint8_t* ev = data + 1;
    std::string_view rest(reinterpret_cast<const char*>(data + 1 + 3 * events),
                          size - 1 - 3 * events);
    std::string stored;
    if (build) {
        // the list's length and the revision from the first two bytes, then flips: (position,
        // xor) pairs
        const size_t n = rest.empty() ? 0 : static_cast<unsigned char>(rest[0]) % 24;
        const uint32_t rev =
            rest.size() < 2 ? 0 : static_cast<unsigned char>(rest[1]) * 0x01010101u;
        stored = laid_out(n, rev);
        for (size_t i = 2; i + 1 < rest.size() && !stored.empty(); i += 2) {
            stored[static_cast<unsigned char>(rest[i]) * 7 % stored.size()] ^= rest[i + 1];
        }
    } else {
        stored.assign(rest.data(), rest.size());
    }

    tailor::LiveMapEdit edit;
    bool ok = edit.start(stored, 1800, 20);
    std::string last_sku;
    for (size_t k = 0; k < events; ++k) {
        const uint8_t kind = ev[3 * k];
        const int64_t t = kLastSeen + static_cast<int8_t>(ev[3 * k + 1]) * 30;
        const uint8_t extra = ev[3 * k + 2];
        const std::string sku = kSkus[kind % 8] + std::string((kind >> 3) % 4, 'y');
        const std::string_view category = (extra & 1) ? "Shirts" : "";
        const std::optional<int64_t> price =
            (extra & 2) ? std::optional<int64_t>((extra & 4) ? 5000000000LL : extra * 10)
                        : std::nullopt;
        const bool view = (kind & 0x80) == 0;
        const bool applied = edit.apply(view ? "Product Viewed" : "Page Viewed", t,
                                        view ? std::string_view(sku) : std::string_view(),
                                        view ? category : std::string_view(), price);
        require(applied == edit.ok());
        ok = ok && applied;
        if (view) {
            last_sku = sku;
        }
    }
    require(ok == edit.ok());
    if (!ok) {
        return 0;
    }
    const std::string_view out = edit.bytes();
    require(edit.read_revision() == std::string_view(stored).substr(0, 12));
    require(edit.changed() || out == stored);
    require(out.size() >= 12);
    if (edit.changed()) {
        require(rev_of(out) == rev_of(stored) + 1);
        require(out.substr(0, 8) == std::string_view(stored).substr(0, 8));
    }
    // Past this point, only for a map as the script lays it out: the edits trust the layout
    // (entries found by "\xa3sku" after a map header), so a map with flipped bytes that still
    // decodes by chance may not after them; it is then refused as live data (a default live
    // map), and the next full write replaces it. Nothing else writes the map.
    if (!build || rest.size() > 2) {
        require(out.size() <= stored.size() + events * 64);
        return 0;
    }
    const tailor::ProfileDecodeResult before = tailor::decode_profile({}, stored);
    require(before.profile.has_value() && before.live_error == tailor::ProfileError::kNone);
    const tailor::ProfileDecodeResult after = tailor::decode_profile({}, out);
    require(after.profile.has_value() && after.live_error == tailor::ProfileError::kNone);
    if (unique_skus(*before.profile)) {
        require(unique_skus(*after.profile));
    }
    // a view caps the list at 20; a page view leaves a longer one as it was
    require(after.profile->viewed.size() <= std::max<size_t>(before.profile->viewed.size(), 20));
    if (!last_sku.empty()) {
        // the last product viewed is the list's first entry: "\xa3sku", its header, the sku
        const size_t list = 19;
        const size_t first = static_cast<unsigned char>(out[list]) == 0xdc ? list + 3 : list + 1;
        require(out.compare(first + 1, 4, "\xa3sku") == 0);
        require(out.compare(first + 6, last_sku.size(), last_sku) == 0);
    }
    return 0;
}
