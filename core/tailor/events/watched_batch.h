// WatchedBatch: a LiveBatch committed with Redis's own commands instead of the live script,
// when nginx edited every visitor's live map in it: a compare-and-set made of WATCH, one MGET
// and one MULTI/EXEC.
//
// Why: on Redis 7.0 the script's cost is mostly Lua's, not the writes': each argument becomes
// a Lua string (every byte hashed), each redis.call converts its arguments and its reply, and
// the interpreter runs the batch's loop. A batch of 1000 visitors' product views cost Redis
// 88.5k instructions an event through the script (bench/http/events_callgrind 8 4 1000 50ms);
// the same writes as plain commands need neither (docs/benchmarks.md, "Events without the
// script").
//
// The protocol, on the events connection (one server, with the stream):
//
//   check   MULTI, EXEC                         MULTI and EXEC are allowed (else the script)
//           WATCH <live>... <mark>...
//           XLEN  <stream>                      the stream is a stream (else the script)
//           MGET  <live>... <erased>... <mark>...
//   open    MULTI                               sent with the check, answered on its own
//   commit  XADD <stream> * type <type> vid <vid> e <blob>     per event, in order
//           SET <live> <map> EX <ttl>                          per visitor whose map changed
//           SET <mark> <last seq> EX <ttl>                     per producer
//           XTRIM <stream> MAXLEN ~ <maxlen>                   when maxlen > 0
//           EXEC
//
// The check stands in for the script's reads. decide() commits only when the script would have
// applied every event with the maps nginx edited: no visitor erased (its tombstone), every map
// still stored, every producer's first seq above its watermark (no replay), and the watermark
// one this code can read as the script would (else the script reads it). A map another
// batch wrote since the request read it is edited again here, from the bytes the MGET returned
// (LiveMapEdit, the script's own byte edits); when that cannot be done in nginx either, the
// batch goes by the script. WATCH makes the commit conditional: if any of those keys changes
// between the check and EXEC (another worker's batch; an erase, which sets the tombstone and
// then deletes the map), EXEC does nothing and answers nil, and the batch goes by the script,
// which sees what changed. (A commit that lands between an erase's tombstone and its DEL ran
// before the erase: the DEL takes its map, and its events precede the erase's Profile Erased
// on the stream; build_check() says why the tombstones are not watched.) EXEC runs all of it or
// none of it, so a lost reply is a batch that either ran whole (its producer's watermark moved: the
// script's dedupe skips it when it goes again) or did not run at all.
//
// The commit goes only into a transaction MULTI's +OK says is open: were MULTI refused (an ACL
// changed since the check's own MULTI), its writes would run one by one, unguarded. Not
// committing, the glue closes the transaction (EXEC: of nothing, and it lets go of the WATCH)
// or, MULTI refused, UNWATCHes, before the script.
//
// Not taken (the script's path, as before): Redis Cluster (the stream is in another slot), a
// batch with an event the script alone takes (an Identify's merge, a first visit, a cart
// change, an order: LiveMapEdit cannot make those), an event without a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/live.h"
#include "tailor/events/live_edit.h"
#include "tailor/profile/read.h"

namespace tailor {

// A reply element, as the glue hands hiredis's over: nil, bytes (bulk or status), an integer,
// an error.
using WatchedReply = ProfileReplyElement;

// WatchedBatch
//
// Example (the glue, one batch):
//   WatchedBatch w;
//   if (w.plan(batch)) {
//       send w.check() (w.check_lengths(): WATCH, MGET), a handler gets the MGET reply,
//       and WatchedBatch::open() right after it, a handler gets MULTI's
//       at the MGET: w.decide(mget_elements, n)
//       at MULTI's +OK, if decided: send w.commit() (w.commit_lengths()), the handler gets
//       EXEC's reply: w.committed(exec_nil, exec_elements, n) == kCommitted -> every event applied
//   }
//   anything else: the batch's own argv (the script)
class WatchedBatch {
  public:
    // WatchedBatch::plan
    //
    // Reads a finished LiveBatch (which must outlive this object's use): true when it may go
    // by commands, at most `max_commands` of them in the commit (the connection's bound on
    // commands in flight), and check() then holds the check. Keeps allocated capacity between
    // batches.
    [[nodiscard]] bool plan(const LiveBatch& batch, size_t max_commands) noexcept;

    // The check's commands in RESP, one after the other, and each one's length.
    [[nodiscard]] std::string_view check() const noexcept { return check_.bytes; }
    [[nodiscard]] const std::vector<size_t>& check_lengths() const noexcept {
        return check_.lengths;
    }
    // The number of elements the MGET answers with.
    [[nodiscard]] size_t check_elements() const noexcept { return 2 * visitors_ + marks_; }
    // The commands the check pipeline sends; the last is the MGET.
    static constexpr size_t kCheckCommands = 5;

    // MULTI, sent right after the check and answered on its own: the commit that follows
    // its +OK runs inside the transaction it opened (the commit itself has no MULTI).
    [[nodiscard]] static constexpr std::string_view open() noexcept {
        return "*1\r\n$5\r\nMULTI\r\n";
    }

    // The most visitors (and producers: their watermarks are watched too) a batch may hold to
    // go by commands: Redis 7.0's WATCH compares each key with every key the client watches
    // already, so n keys cost n²/2 comparisons, with Redis blocked meanwhile (128: ~8k, tens
    // of microseconds). The default batch holds 64 visitors at most
    // (tailor_events_batch_visitors 16, a quarter each); a larger one goes by the script.
    static constexpr size_t kMaxVisitors = 128;

    // WatchedBatch::decide
    //
    // The MGET's elements: true when the batch can be committed, and commit() then holds the
    // commands. False: the script's path (a tombstone, a replay, a map gone, an edit nginx
    // cannot make, a reply not of the shape asked for, memory).
    [[nodiscard]] bool decide(const WatchedReply* elements, size_t n) noexcept;

    // The commit's commands in RESP (XADD ... EXEC, for the MULTI open() opened) and each one's
    // length.
    [[nodiscard]] std::string_view commit() const noexcept { return commit_.bytes; }
    [[nodiscard]] const std::vector<size_t>& commit_lengths() const noexcept {
        return commit_.lengths;
    }

    // Of the visitors, how many maps decide() edited again from the stored bytes, and their
    // events (the others' went with the edit of the map their request read).
    [[nodiscard]] size_t reedited() const noexcept { return reedited_; }
    [[nodiscard]] size_t reedited_events() const noexcept { return reedited_events_; }

    enum class Outcome : unsigned char {
        kCommitted,  // every event appended and applied
        kConflict,   // EXEC answered nil: a watched key changed; nothing was written
        kPartial,    // EXEC ran, and a command in it failed (MULTI does not roll back): what
                     // ran stays; `results` says which events were appended
        kFailed,     // not EXEC's answer (another shape): written or not, unknown
    };

    // WatchedBatch::committed
    //
    // EXEC's reply: `nil` when it was nil, else its elements (one per queued command). For
    // kCommitted and kPartial, `results` gets one per event: kApplied where its XADD was
    // answered with an id, kInvalid where it failed.
    [[nodiscard]] Outcome committed(bool nil, const WatchedReply* elements, size_t n,
                                    std::vector<LiveResult>* results) const;

  private:
    // Commands in RESP, one after the other, and each one's length; arg() ... end() builds one
    // of any length, add() one of a few arguments. False: memory (resp.h refused).
    struct Commands {
        std::string bytes;
        std::vector<size_t> lengths;
        void clear() noexcept;
        void arg(std::string_view a);
        bool end();
        bool add(std::initializer_list<std::string_view> args);

      private:
        std::vector<const char*> argv_;
        std::vector<size_t> argvlen_;
    };

    bool build_check();
    bool build_commit();
    bool start_again(size_t v, std::string_view stored);
    bool edit_again();

    const LiveBatch* batch_ = nullptr;
    size_t visitors_ = 0;
    size_t marks_ = 0;
    size_t reedited_ = 0;
    size_t reedited_events_ = 0;
    size_t queued_ = 0;  // commands between MULTI and EXEC
    std::vector<std::string> tombstones_;
    // per visitor: the map to store (a view into its edit or into again_), or empty: unchanged
    std::vector<std::string_view> maps_;
    std::vector<LiveMapEdit> again_;  // maps edited again from the stored bytes
    static constexpr size_t kNotAgain = static_cast<size_t>(-1);
    std::vector<size_t> again_of_;  // per visitor: its map in again_, or kNotAgain
    std::string ttl_;
    std::string maxlen_;
    Commands check_;
    Commands commit_;
};

}  // namespace tailor
