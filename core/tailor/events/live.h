// EventLive: the Redis server-side script that appends a batch of events to the stream and
// applies them to each visitor's `tailor:{vid}:live` map in one atomic step, and its EVALSHA argv.
//
// Why a script: the very next request's MGET (on any worker or node) must see
// what the visitor just did, and the stream and `live` must never disagree.
// One EVALSHA per flushed batch does both; Redis runs a script atomically.
//
// What it writes, per visitor (all keys hash-tagged `{vid}`, one slot):
//   tailor:{vid}:live  MessagePack map in the schema docs/profile.md defines
//                      for `live`: v, visits, first_seen, last_seen, viewed
//                      (newest first, <= viewed_cap, with the price seen, in
//                      minor units), cart (<= cart_cap lines), cart_at,
//                      acquisition (first touch); after an Order Completed,
//                      last_order_at and purchased (its product ids, newest
//                      first, <= 50, {sku, at}) so the next page neither
//                      recommends them nor promotes. Times are unix seconds.
//   tailor:{vid}:ev    a hash: `merged_into` after an Identify; without the
//                      stream (Redis Cluster), also producer -> highest seq
//                      applied for this visitor (at most 16 producers).
//   Both get `ttl_seconds` (refreshed on each write).
// And per producer, with the stream: `<stream>:seq:<producer>`, the highest
// seq applied (producer_key()), with the same TTL.
// Idempotency: an event whose (src, seq) is not above the producer's
// watermark (per visitor without the stream) is a duplicate (a replay after
// a lost reply): it is neither appended nor applied. This requires each
// producer to deliver its events in seq order, which the per-worker queue
// and spool guarantee.
//
// Atomicity and failure: every event is checked before anything is written
// (LiveBatch reads each blob; the script checks each event's arguments), so a
// bad event cannot leave half a batch applied; an invalid event is skipped
// and reported.
//
// Cost: the script reads no blob in the common case (LiveBatch passes the
// facts it needs beside it; a visitor's first event is unpacked for its
// acquisition), loads each visitor's live map once per batch, and writes it
// back (SET with the TTL) only when an event changed it: a page view in the
// same second as the visitor's previous event, or the same product viewed
// again in that second, writes nothing but its stream entry; an event without
// a product in the same visit patches last_seen in the stored bytes instead
// of decoding the map, and a product view splices its entry into viewed
// there (the layout that allows it: live_script_bytes.h; the bytes and the
// erase tombstone are read once per visitor and batch, one MGET). A new
// visitor's first page view writes its stream entry and its live map, and
// nothing else; each producer's watermark is written once per batch. The
// stream is trimmed (XTRIM MAXLEN ~) once per batch, not on every XADD. And
// where nginx read the map for the request and could make those byte edits
// itself (LiveMapEdit), the batch carries its edit and the script only checks
// the stored map is the one read before storing it (format 6, live_script.cpp).
//
// Redis Cluster: a script may only touch keys of one slot, and the stream
// key is in its own. There, ClusterBatch calls it per slot with
// append_to_stream off (it then only updates `live`, deduplicating per
// visitor, and says which events are new: '1', a replay: '0', an erased
// visitor's: 'x') and appends the events to their stream shard with
// StreamAppend; Identify merges need both visitors' keys in one slot and are
// skipped (the stream still carries the Identify event).
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/event.h"
#include "tailor/events/live_edit.h"
#include "tailor/events/live_facts.h"

namespace tailor {

// kLiveScript
//
// The Lua source, for SCRIPT LOAD (or EVAL when the script cache was
// flushed: a NOSCRIPT reply means load it again).
extern const std::string_view kLiveScript;

// live_script_sha1
//
// The SHA-1 of kLiveScript in lower-case hex, as SCRIPT LOAD returns it.
//
// Example:
//   live_script_sha1().size() == 40
[[nodiscard]] std::string_view live_script_sha1() noexcept;

// LiveConfig
//
// Script parameters. The caps must not exceed the profile decoder's
// (kMaxViewed, kMaxCartLines); `money_scale` converts the events' decimal
// prices into the profile's minor units (100 for EUR/USD, 1 for JPY).
struct LiveConfig {
    StreamConfig stream;
    bool append_to_stream = true;           // false: Redis Cluster mode (see above)
    uint32_t ttl_seconds = 90 * 24 * 3600;  // behavioural data expires after 90 idle days
    uint32_t viewed_cap = 20;
    uint32_t cart_cap = 50;
    uint32_t money_scale = 100;
    uint32_t session_gap_seconds = 30 * 60;  // a new visit after 30 minutes idle
    // Visitors whose events one batch may carry (0: no cap). Each costs Redis a map read, edit
    // and write (~150-200k instructions), and every other command waits while a script runs.
    // A visitor whose first event in the batch comes with the map its request read counts a
    // quarter: nginx edits that map, and Redis only compares and stores it (~4x cheaper
    // through the script, more by commands: WatchedBatch), so up to 4x as many of those.
    uint32_t max_visitors = 0;
};

// live_key / live_ev_key
//
// The module's keys for a visitor.
//
// Example:
//   live_key("abc") == "tailor:{abc}:live", live_ev_key("abc") == "tailor:{abc}:ev"
[[nodiscard]] std::string live_key(std::string_view vid);
[[nodiscard]] std::string live_ev_key(std::string_view vid);

// LiveResult
//
// Per event, in the order added: what the script did with it.
enum class LiveResult : int {
    kInvalid = -1,   // not an event blob; skipped
    kDuplicate = 0,  // (src, seq) already applied; skipped
    kApplied = 1,    // appended (if enabled) and applied
};

// live_result
//
// One integer of the script's reply; anything else is kInvalid.
//
// Example:
//   live_result(1) == LiveResult::kApplied, live_result(7) == LiveResult::kInvalid
[[nodiscard]] constexpr LiveResult live_result(long long v) noexcept {
    return v == 1 ? LiveResult::kApplied : v == 0 ? LiveResult::kDuplicate : LiveResult::kInvalid;
}

// live_result_of
//
// One byte of the script's reply, a string with one byte per event: '1'
// applied, 'c' applied through nginx's edit of the map (LiveBatch::add), '0' duplicate,
// '-' invalid; anything else is kInvalid.
//
// Example:
//   live_result_of('1') == LiveResult::kApplied, live_result_of('-') == LiveResult::kInvalid
[[nodiscard]] constexpr LiveResult live_result_of(char c) noexcept {
    return c == '1' || c == 'c' ? LiveResult::kApplied
           : c == '0'           ? LiveResult::kDuplicate
                                : LiveResult::kInvalid;
}

// LiveBatch
//
// Builds `EVALSHA <sha> <numkeys> <stream> <live> <ev> ... <args> ...` for
// hiredis's redisAsyncCommandArgv. Reuse one per worker: reset(), add()
// each blob, then finish(). argv() views this object and the blobs given to
// add(), which must stay alive until the command is handed to hiredis (it
// copies at once). Not thread-safe.
//
// Example:
//   LiveBatch batch;
//   batch.reset(config);
//   for (auto& blob : queue) (void)batch.add(blob);
//   batch.finish();
//   redisAsyncCommandArgv(ac, on_reply, data, batch.argc(), batch.argv(), batch.argvlen());
//   // reply: a string, one byte per event added (live_result_of)
class LiveBatch {
  public:
    // Arguments before the producers' (format, stream, maxlen, ttl, caps, gap, producers);
    // then 4 per producer, the number of edits and 3 per edit (key index, the revision of the
    // map read, map edited), then per event 4 (key index, time, type, blob) + extra_args(type).
    static constexpr size_t kFixedArgs = 8;

    // LiveBatch::extra_args
    //
    // The facts an event of `type` passes after its blob: 3 for a product event (product id,
    // then category and price for a view, price and quantity for a cart change), 1 for an
    // Identify (the previous visitor's key index), else 0. The script reads them by the same
    // rule.
    //
    // Example:
    //   LiveBatch::extra_args("Page Viewed") == 0, LiveBatch::extra_args("Identify") == 1
    [[nodiscard]] static size_t extra_args(std::string_view type) noexcept;

    // LiveBatch::reset
    //
    // Starts an empty batch; keeps allocated capacity.
    void reset(const LiveConfig& config) noexcept;

    // LiveBatch::add
    //
    // Adds one encoded event, reading in one pass what the script needs of
    // it (type, visitor, time, producer and seq, the product facts). False
    // (nothing added) if the blob is not a well-formed map with a type and a
    // valid visitor (as event_routing reads them) or memory ran out; a blob
    // without a time is added, and the script reports it kInvalid.
    //
    // `facts`, if given, are the blob's (encode_event's, as views into `blob`): the blob is
    // then not read again.
    //
    // Also false when the batch holds config.max_visitors visitors (those that came with the
    // map their request read count a quarter each) and the event is another one's: then
    // full() is true until reset(). (An Identify's previous visitor does not count: its keys
    // ride with the event.)
    //
    // `live_before`: the visitor's live map as the event's request read it, if known. With
    // the visitor's first event in the batch it starts an edit (LiveMapEdit) that each of the
    // visitor's events applies to; when every one applied, the batch carries the revision of
    // the map read and the map edited, and the script stores the edit if the stored map's
    // revision is still that one (compare-and-set) instead of editing it in Lua. Copied: need
    // not outlive the call.
    [[nodiscard]] bool add(std::string_view blob, const LiveFacts* facts = nullptr,
                           std::string_view live_before = {}) noexcept;

    // LiveBatch::edits
    //
    // After finish(): the visitors whose edit the batch carries.
    [[nodiscard]] size_t edits() const noexcept { return edit_keys_.size(); }
    // and the events of those visitors
    [[nodiscard]] size_t edited_events() const noexcept { return edited_events_; }

    // LiveBatch::full
    //
    // Whether an add() since reset() was refused for the visitor cap.
    [[nodiscard]] bool full() const noexcept { return full_; }

    // LiveBatch::finish
    //
    // Lays out the argv. False if memory ran out (then send nothing).
    [[nodiscard]] bool finish() noexcept;

    // LiveBatch::use_eval
    //
    // After finish(): turns the command into `EVAL <script> ...`, for when
    // Redis answered NOSCRIPT (its script cache was flushed by a restart or
    // SCRIPT FLUSH). Load the script again for the next batches.
    void use_eval() noexcept;

    // LiveBatch::resp
    //
    // After finish() (or use_eval()): the command in RESP, the bytes hiredis
    // would write for argv(), for redisAsyncFormattedCommand; hiredis's own
    // formatting (sdscatfmt per argument) cost more per event than building
    // the event. Empty if memory ran out (then send nothing).
    //
    // Example:
    //   batch.resp().substr(0, 4) == "*61\r"   (EVALSHA, sha, numkeys, ...)
    [[nodiscard]] std::string_view resp() noexcept;

    [[nodiscard]] size_t events() const noexcept { return events_.size(); }

    // LiveBatch::event
    //
    // After finish(): the i-th event's blob and the facts a stream shard needs of it (views
    // into the blob and this batch, valid until the next reset()). ClusterBatch splits a batch
    // by them.
    struct EventView {
        std::string_view blob, type, vid, src, seq;
    };
    [[nodiscard]] EventView event(size_t i) const noexcept;

    [[nodiscard]] int argc() const noexcept { return static_cast<int>(argv_.size()); }
    [[nodiscard]] const char** argv() noexcept { return argv_.data(); }
    [[nodiscard]] const size_t* argvlen() const noexcept { return argvlen_.data(); }

    // What Redis's own commands need of the batch (WatchedBatch), after finish(): its
    // config, its visitors with their edits, its producers and each event's visitor and the
    // facts an edit applies. Views into this batch, valid until the next reset().
    [[nodiscard]] const LiveConfig& config() const noexcept { return config_; }

    struct VisitorView {
        std::string_view live_key;
        const LiveMapEdit* edit = nullptr;  // nullptr: not every event of it applied to one
    };
    [[nodiscard]] size_t visitor_count() const noexcept { return keys_.size() / 2; }
    [[nodiscard]] VisitorView visitor(size_t v) const noexcept;

    struct ProducerView {
        std::string_view mark_key;  // its watermark (with the stream)
        std::string_view first_seq, last_seq;
    };
    [[nodiscard]] size_t producer_count() const noexcept { return producers_.size(); }
    [[nodiscard]] ProducerView producer(size_t j) const noexcept;

    // The visitor (visitor()'s index) of event i; kNoVisitor: the script reports it invalid.
    static constexpr size_t kNoVisitor = static_cast<size_t>(-1);
    [[nodiscard]] size_t event_visitor(size_t i) const noexcept;
    // Whether event i names a previous visitor (an Identify's merge: the script's alone).
    [[nodiscard]] bool event_merges(size_t i) const noexcept { return events_[i].previous != 0; }

    // What LiveMapEdit::apply takes for event i (with a visitor).
    struct EditFacts {
        std::string_view type;
        int64_t time_s = 0;
        std::string_view sku, category;
        std::optional<int64_t> price;
    };
    [[nodiscard]] EditFacts edit_facts(size_t i) const noexcept;

  private:
    using Span = std::pair<size_t, size_t>;  // (offset, length) in strings_; {0, 0}: ""

    // One event's arguments: views into its blob, numbers in the arena.
    struct Pending {
        std::string_view blob;
        std::string_view type;
        std::string_view vid;
        uint32_t key = 0;       // index of the visitor's live key in KEYS (1-based); 0: invalid
        uint32_t previous = 0;  // Identify: the previous visitor's live key, or 0
        Span time{};            // unix seconds
        std::string_view src;   // producer, or ""
        Span seq{};
        std::string_view sku;       // product events only
        std::string_view category;  // product events only
        Span price{};               // minor units
        Span qty{};
        bool repeats = false;  // finish(): its facts are the event before it's ("=")
    };

    // A visitor's KEYS index, by its vid (a view into its event's blob): open
    // addressing, a slot taken when its stamp is the batch's, so reset() clears
    // nothing and a batch allocates nothing once the table has grown to its size.
    struct KeySlot {
        std::string_view vid;
        uint32_t index = 0;
        uint32_t stamp = 0;
    };

    // Whether b repeats a's script facts (visitor, time, type and what its type sends beside
    // the blob): then b travels as "=" and its blob (format 5), two arguments instead of 4-7.
    bool same_facts(const Pending& a, const Pending& b) const noexcept;
    void edit(const Pending& p, const LiveFacts& f, std::string_view live_before) noexcept;
    void no_edit(uint32_t key) noexcept;
    void count_against_cap(size_t visitor, bool new_visitor) noexcept;
    uint64_t cap_need(const LiveFacts& f, std::string_view live_before) noexcept;
    uint32_t find_key(std::string_view vid) noexcept;
    size_t visitor_of(uint32_t key) const noexcept;
    // whether the visitor's edit started and every one of its events applied
    bool carries_edit(size_t visitor) const noexcept;
    uint32_t key_for(std::string_view vid);
    bool has_visitor(std::string_view vid) noexcept;
    KeySlot* find_slot(std::string_view vid) noexcept;
    void grow_keys();
    Span number(int64_t v);
    Span number(double v);

    LiveConfig config_;
    std::string strings_;             // keys and numbers, one arena
    std::vector<Span> keys_;          // per visitor: live, ev
    std::vector<KeySlot> key_table_;  // size a power of two, or empty
    uint32_t stamp_ = 1;
    size_t visitors_ = 0;
    uint64_t cap_units_ = 0;                 // against max_visitors, in quarters (add())
    std::vector<unsigned char> cap_weight_;  // per visitor: what it counts (0: not counted)
    bool full_ = false;
    std::string_view last_vid_;  // the blob of the last add() holds it
    uint32_t last_key_ = 0;
    std::vector<Pending> events_;
    // Per visitor (in KEYS order): its edit in edit_pool_, or kNoEdit, or kUndecided until
    // its first event. Pool entries keep their memory between batches.
    static constexpr int32_t kUndecided = -2;
    static constexpr int32_t kNoEdit = -1;
    std::vector<int32_t> visitor_edit_;
    std::vector<LiveMapEdit> edit_pool_;
    size_t edits_used_ = 0;
    std::vector<uint32_t> edit_keys_;  // finish(): the key indexes of the edits carried
    size_t edited_events_ = 0;
    std::vector<const char*> argv_;
    std::vector<size_t> argvlen_;
    std::string resp_;
    // finish()'s scratch, kept between batches
    std::vector<Span> marks_;
    std::vector<std::string_view> producers_;
    std::vector<std::pair<Span, Span>> indexes_;
    std::vector<std::array<Span, 3>> seqs_;  // per producer: first, last, list
    std::vector<Span> edit_indexes_;
};

}  // namespace tailor
