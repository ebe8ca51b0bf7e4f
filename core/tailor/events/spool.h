// Spool: a per-worker, bounded, append-only on-disk queue of encoded events for when Redis is
// unreachable or backed up, replayed in order once it is back.
//
// Layout of a spool directory (one per worker; a lock file enforces that):
//   lock                      flock(2)ed for the life of the Spool
//   cursor                    20 bytes: segment id (u64 LE), offset (u64 LE),
//                             CRC32C of those 16 bytes (u32 LE); where replay
//                             resumes. Missing or bad: replay from the oldest
//                             record (duplicates are harmless: events carry
//                             ids, and the live-state script skips a
//                             (producer, seq) it has applied).
//   0000000000000007.tspool   segments, oldest first by their hex id. Each is
//                             an 8-byte header "TSPOOL\x01\n" then records:
//                               u32 LE  payload length (1 .. kMaxSpoolRecordBytes)
//                               u32 LE  CRC32C of the 4 length bytes + payload
//                               payload
//
// Crash safety: a record is one writev(2) at the end of the newest segment.
// A crash can leave a torn record at the tail (a short length, a short
// payload, or zeros from a file extended by the kernel before its data
// landed); recovery checks every frame's length and CRC, stops at the first
// bad one and truncates the segment there. Because the CRC covers the length
// too, no prefix of garbage is ever read as a record. A failed write is
// truncated away at once, so later records never sit behind a torn one.
//
// Bounds: total bytes on disk stay under `max_bytes`. Segments rotate at
// `segment_bytes`; when an append would exceed `max_bytes`, whole oldest
// segments are unlinked (cheap: no rewriting) and their unreplayed records
// counted as dropped.
//
// Blocking I/O: append() and peek() are plain write/read system calls on a
// local file. They run in the nginx worker, but only when Redis is already
// failing, off the request's critical path (the log phase, after the
// response), and each is one small write into the page cache, typically a
// few microseconds. No fsync by default: a worker crash keeps everything
// (the page cache survives the process); only a power loss or kernel crash
// can lose the last seconds, which SpoolSync::kEveryAppend trades for one
// fdatasync per event. The spool directory must be on local disk, never NFS.
//
// Not thread-safe: one Spool per worker process, used from its event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/spool_frame.h"

namespace tailor {

// Recovery refuses record lengths over this whatever the options say, so a
// corrupt length never makes it read (or allocate) much.
inline constexpr uint32_t kMaxSpoolRecordBytes = 1024 * 1024;
// kSpoolSegmentHeaderBytes, kSpoolFrameHeaderBytes and crc32c: spool_frame.h.

// SpoolSync
//
// When appended bytes are forced to the disk; see the file comment.
enum class SpoolSync : unsigned char {
    kNone = 0,     // default: the page cache holds them; survives worker crashes
    kOnRotate,     // fdatasync a segment when it is closed
    kEveryAppend,  // fdatasync after every record (slow: milliseconds on disks)
};

// SpoolOptions
//
// `segment_bytes` must be at most `max_bytes / 2` (so dropping old segments
// always makes room) and hold one record of `max_record_bytes`.
struct SpoolOptions {
    std::string dir;
    uint64_t max_bytes = 64ull * 1024 * 1024;
    uint64_t segment_bytes = 4ull * 1024 * 1024;
    uint32_t max_record_bytes = 64 * 1024;
    SpoolSync sync = SpoolSync::kNone;
};

// SpoolError
//
// Why open() failed.
enum class SpoolError : unsigned char {
    kOk = 0,
    kBadOptions,  // see SpoolOptions
    kNoDir,       // the directory does not exist and could not be created
    kLocked,      // another live process holds it (e.g. an old worker during reload)
    kIo,          // listing, opening or truncating a file failed
};

// spool_error_name
//
// Example:
//   spool_error_name(SpoolError::kLocked) == "locked by another process"
[[nodiscard]] std::string_view spool_error_name(SpoolError error) noexcept;

// SpoolStats
//
// Counters since open (`recovered`: records found on disk at open) and
// gauges (`pending_*`, `disk_bytes`, `segments`).
struct SpoolStats {
    uint64_t spooled = 0;        // records appended
    uint64_t replayed = 0;       // records committed after a successful flush
    uint64_t dropped = 0;        // unreplayed records dropped, oldest first, to stay bounded
    uint64_t dropped_bytes = 0;  // bytes of the segments dropped
    uint64_t recovered = 0;      // unreplayed records found at open
    uint64_t corrupt_bytes = 0;  // bytes cut at open or on read: torn tails, bad segments
    uint64_t write_errors = 0;   // appends that failed (disk full, I/O error)
    uint64_t pending_records = 0;
    uint64_t disk_bytes = 0;
    uint64_t segments = 0;
};

// AppendStatus
enum class AppendStatus : unsigned char {
    kOk = 0,
    kDroppedOldest,  // stored, after dropping `dropped` older records
    kTooLarge,       // empty, or over max_record_bytes: not stored
    kIoError,        // not stored; the file is left as it was
};

struct AppendResult {
    AppendStatus status = AppendStatus::kOk;
    uint64_t dropped = 0;
};

// SpoolBatch
//
// Records read by peek(), oldest first, viewing the batch's own buffer:
// valid until the batch is reused or destroyed. Reuse one per worker.
class SpoolBatch {
  public:
    [[nodiscard]] const std::vector<std::string_view>& records() const noexcept { return records_; }
    [[nodiscard]] bool empty() const noexcept { return records_.empty(); }

  private:
    friend class Spool;
    std::string buffer_;
    std::vector<std::string_view> records_;
    uint64_t segment_ = 0;
    uint64_t start_ = 0;
    uint64_t end_ = 0;
};

// Spool
//
// Example:
//   SpoolError err;
//   auto spool = Spool::open({"/var/spool/tailor/w0"}, &err);
//   (void)spool->append(blob);                  // Redis is down
//   ...
//   SpoolBatch batch;                           // Redis is back
//   while (spool->peek(256, 256 * 1024, &batch)) {
//       send(batch.records());                  // EVALSHA ...
//       if (!flushed_ok) break;                 // try again later: same batch
//       (void)spool->commit(batch);
//   }
class Spool {
  public:
    // Spool::open
    //
    // Opens (creating the directory, one level, if missing) and recovers:
    // scans every segment, truncates a torn tail, unlinks empty or headerless
    // segments and those the cursor says are consumed, then drops the oldest
    // if the spool is over the (possibly lowered) max_bytes. Null on error,
    // with the reason in `*error`.
    [[nodiscard]] static std::unique_ptr<Spool> open(const SpoolOptions& options,
                                                     SpoolError* error) noexcept;

    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Spool::append
    //
    // Appends one record at the tail, rotating and dropping the oldest as
    // needed.
    //
    // Example:
    //   spool->append("blob").status == AppendStatus::kOk
    [[nodiscard]] AppendResult append(std::string_view record) noexcept;

    // Spool::peek
    //
    // Fills `batch` with up to `max_records` of the oldest unreplayed
    // records, at most `max_bytes` of payload (but always at least one
    // record), all from one segment. Does not consume: peeking again without
    // commit() returns the same records. False when nothing is pending (or on
    // a read error, counted as corrupt after the rest of that segment is
    // dropped).
    [[nodiscard]] bool peek(size_t max_records, size_t max_bytes, SpoolBatch* batch) noexcept;

    // Spool::commit
    //
    // Marks a peeked batch replayed: advances and persists the cursor, and
    // unlinks segments that are fully replayed (all files when the spool is
    // empty). False, and nothing changes, if the batch is stale: its records
    // were dropped meanwhile to make room.
    [[nodiscard]] bool commit(const SpoolBatch& batch) noexcept;

    [[nodiscard]] bool empty() const noexcept { return stats_.pending_records == 0; }
    [[nodiscard]] const SpoolStats& stats() const noexcept { return stats_; }
    [[nodiscard]] const std::string& dir() const noexcept { return options_.dir; }

  private:
    struct Segment {
        uint64_t id = 0;
        uint64_t size = 0;     // bytes, header included
        uint64_t records = 0;  // records in the file
    };

    explicit Spool(SpoolOptions options) noexcept;
    SpoolError recover() noexcept;
    SpoolError lock_dir();  // throws std::bad_alloc
    bool open_new_segment() noexcept;
    bool open_tail_for_append() noexcept;
    void drop_front() noexcept;
    void remove_front_file() noexcept;
    void advance_past_consumed() noexcept;
    void save_cursor() noexcept;
    std::string segment_path(uint64_t id) const;
    void close_fd(int* fd) noexcept;

    SpoolOptions options_;
    SpoolStats stats_;
    std::deque<Segment> segments_;
    uint64_t next_id_ = 1;
    uint64_t head_offset_ = kSpoolSegmentHeaderBytes;  // in segments_.front()
    uint64_t head_consumed_ = 0;                       // records of front() replayed
    int lock_fd_ = -1;
    int write_fd_ = -1;  // segments_.back()
    int read_fd_ = -1;   // segments_.front()
    uint64_t read_id_ = 0;
    int cursor_fd_ = -1;
};

}  // namespace tailor
