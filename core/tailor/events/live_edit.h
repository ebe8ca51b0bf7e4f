// LiveMapEdit: a visitor's live map edited in nginx, byte for byte as the live script's own
// byte edits (live_script_bytes.h: touched() and viewed_fast()) would edit it.
//
// Why: on a shop, each event in a batch is a different visitor's, and the script spent most of
// its ~200k instructions per event reading, splicing and writing that visitor's ~1 KB map in
// Lua (docs/benchmarks.md, "Many visitors"). nginx read the map at the start of the request
// anyway. LiveBatch edits the bytes it read, the script compares their revision with the stored
// map's and, when it is the same, stores the edit instead of making it (compare-and-set); when
// not (another event came first, an erase), it edits the stored map itself, as before. Same
// bytes in, same events, same bytes out, the revision moved on once per write: a differential
// test runs both on a real redis-server (live_edit_test.cpp).
//
// Only what the script does on the bytes is done here: an event in the same visit patches
// last_seen, a product view splices its entry into viewed, and the first change moves "rev" on.
// Anything the script decodes the map for (a new visit, a cart change, an order, an Identify,
// an older layout, a string that would not do) makes apply() false, and the visitor's events
// take the script's path; so does a map not in the layout with "rev" (start() is false).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

// kLiveRevisionBytes
//
// How many of an editable map's first bytes hold its revision (the map16 header, then "rev" and
// its uint32): the live script takes nginx's edit when the stored map's are still those read.
inline constexpr size_t kLiveRevisionBytes = 12;

// kMaxLiveEditBytes
//
// The largest map nginx edits (and the queue keeps a copy of): a full viewed list and a cart
// are 1-3 KB; a larger map goes without an edit, and the script edits it, as it did before.
inline constexpr size_t kMaxLiveEditBytes = 8 * 1024;

// LiveMapEdit
//
// One visitor's map for one batch: start() with the bytes read, apply() each of the visitor's
// events in order, then bytes(). Reuse one: start() keeps allocated capacity.
//
// Example:
//   LiveMapEdit edit;
//   edit.start(stored, /*session_gap=*/1800, /*viewed_cap=*/20);
//   if (edit.apply("Product Viewed", 1718000100, "SKU-7", "Shirts", 1999)) {
//       // edit.bytes(): the map the script would have stored
//   }
class LiveMapEdit {
  public:
    // LiveMapEdit::start
    //
    // Starts from the stored map's bytes (copied). False if memory ran out.
    [[nodiscard]] bool start(std::string_view stored, uint32_t session_gap,
                             uint32_t viewed_cap) noexcept;

    // LiveMapEdit::apply
    //
    // Applies one event, with the facts LiveBatch sends the script for it: its type, time
    // (unix seconds), and for a product event its product id, category ("" if none) and
    // price in minor units. False when the script would decode the map for it (or memory ran
    // out): the edit is then void, and stays so until start().
    [[nodiscard]] bool apply(std::string_view type, int64_t time_s, std::string_view sku,
                             std::string_view category, std::optional<int64_t> price) noexcept;

    // LiveMapEdit::read_revision
    //
    // The first kLiveRevisionBytes of the map start() was given (its header and revision): what
    // the script compares with the stored map's.
    [[nodiscard]] std::string_view read_revision() const noexcept {
        return {read_revision_.data(), read_revision_.size()};
    }

    // LiveMapEdit::bytes
    //
    // The map after the events applied so far.
    [[nodiscard]] std::string_view bytes() const noexcept { return bytes_; }

    // LiveMapEdit::changed
    //
    // Whether an event changed the bytes (the script then writes the map back).
    [[nodiscard]] bool changed() const noexcept { return changed_; }

    // LiveMapEdit::ok
    //
    // Whether every event since start() applied (the edit is not void).
    [[nodiscard]] bool ok() const noexcept { return !void_; }

  private:
    bool touched(int64_t t) noexcept;
    void moved() noexcept;
    void put_uint32(size_t at, uint32_t x) noexcept;
    bool viewed(int64_t t, std::string_view sku, std::string_view category,
                std::optional<int64_t> price);

    std::array<char, kLiveRevisionBytes> read_revision_{};
    std::string bytes_;
    std::string entry_;           // viewed()'s scratch: the new entry
    std::string spliced_;         // viewed()'s scratch: the spliced map, swapped in
    std::vector<size_t> starts_;  // viewed()'s scratch: where the entries start
    uint32_t gap_ = 0;
    uint32_t viewed_cap_ = 0;
    bool void_ = false;
    bool changed_ = false;
    // touched()'s reading of the map, made once: first_seen, last_seen and where it is
    bool read_ = false;
    int64_t first_ = 0;
    int64_t last_ = 0;
    size_t last_at_ = 0;
    // the last product view spliced in: the same again in that second writes nothing
    bool has_top_ = false;
    std::string top_sku_;
    std::string top_category_;
    int64_t top_at_ = 0;
    std::optional<int64_t> top_price_;
};

}  // namespace tailor
