// LiveFacts: what the live script needs of one event blob, read in one pass in nginx.
//
// The script used to unpack every blob in Lua (cmsgpack), the largest part of
// its cost per event; LiveBatch now passes these facts beside the blob: the
// encoder notes them as it writes the event (encode_event's `facts`), and they
// travel with the blob through the queue (PackedLiveFacts); a blob from the
// spool is read once here. The rules mirror what the script's own
// str()/num()/money()/qty() did, so the live map comes out the same.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tailor {

// LiveFacts
//
// Views into the blob, valid as long as it is. Strings are non-empty or
// absent; numbers are finite and within +-1e15 (the script's num()) or absent.
struct LiveFacts {
    std::string_view type;
    std::string_view vid;
    std::string_view previous_vid;  // Identify only
    std::string_view src;           // producer
    std::string_view category;      // props.category
    // props.product_id, props.ProductID, props.sku: product() picks the first present
    std::string_view product_id, product_id_klaviyo, sku;
    std::optional<int64_t> time_s;  // floor(ts / 1000): unix seconds
    bool has_seq = false;
    bool seq_integer = false;  // seq_int holds it exactly; else seq
    int64_t seq_int = 0;
    double seq = 0;
    bool has_price = false;
    double price = 0;
    bool has_qty = false;
    double qty = 0;

    // LiveFacts::product_event
    //
    // Product Viewed, Added or Removed: the events whose product the live map keeps.
    [[nodiscard]] bool product_event() const noexcept;

    // LiveFacts::product
    //
    // The product id under the first spelling present, or "".
    [[nodiscard]] std::string_view product() const noexcept;

    // LiveFacts::price_minor
    //
    // The price in minor units: floor(price * scale + 0.5); none when absent,
    // negative or above 1e12.
    //
    // Example:
    //   facts.price = 19.99; facts.has_price = true; *facts.price_minor(100) == 1999
    [[nodiscard]] std::optional<int64_t> price_minor(uint32_t scale) const noexcept;

    // LiveFacts::quantity
    //
    // floor(quantity) within [1, 1000000]; 1 when absent.
    [[nodiscard]] int64_t quantity() const noexcept;
};

// PackedLiveFacts
//
// LiveFacts with each view an offset and a length into its blob, so the facts travel with a
// copy of the blob (Delivery's queue) and LiveBatch need not read it again. Trivial: an array
// of them is not touched until used.
struct PackedLiveFacts {
    struct At {
        uint32_t offset;
        uint32_t size;
    };
    At type, vid, previous_vid, src, category, product_id, product_id_klaviyo, sku;
    int64_t time_s;
    int64_t seq_int;
    double seq, price, qty;
    bool has_time, has_seq, seq_integer, has_price, has_qty;

    // PackedLiveFacts::pack
    //
    // False (nothing packed) if a non-empty view of `facts` is not inside `blob`.
    [[nodiscard]] bool pack(const LiveFacts& facts, std::string_view blob) noexcept;

    // PackedLiveFacts::unpack
    //
    // The facts, as views into `blob`: the bytes pack() was given, wherever they are now.
    [[nodiscard]] LiveFacts unpack(std::string_view blob) const noexcept;
};

// live_facts
//
// Reads the facts of an encoded event; nullopt when the blob is not a
// well-formed map (nesting over 4 levels, truncated, over kMaxEventBlobBytes)
// or lacks a type or a vid, as event_routing refuses. Allocates nothing.
//
// Example:
//   auto f = live_facts(blob);
//   f->type == "Product Viewed", f->product() == "SKU-1", *f->time_s == 1718000000
[[nodiscard]] std::optional<LiveFacts> live_facts(std::string_view blob) noexcept;

}  // namespace tailor
