// Spool: segment files with length+CRC32C framing, a persisted replay cursor, drop-oldest bounds.
#include "tailor/events/spool.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace tailor {

using spool_frame::frame_crc;
using spool_frame::get_u32;
using spool_frame::kCursorBytes;
using spool_frame::kSegmentMagic;
using spool_frame::kSegmentSuffix;
using spool_frame::pread_full;
using spool_frame::put_u32;
using spool_frame::put_u64;
using spool_frame::sync_dir;
using spool_frame::write_full;

std::string_view spool_error_name(SpoolError error) noexcept {
    switch (error) {
        case SpoolError::kOk:
            return "ok";
        case SpoolError::kBadOptions:
            return "bad options";
        case SpoolError::kNoDir:
            return "cannot create the directory";
        case SpoolError::kLocked:
            return "locked by another process";
        case SpoolError::kIo:
            break;
    }
    return "i/o error";
}

Spool::Spool(SpoolOptions options) noexcept : options_(std::move(options)) {}

Spool::~Spool() {
    if (options_.sync != SpoolSync::kNone && write_fd_ >= 0) {
        (void)::fdatasync(write_fd_);
    }
    close_fd(&write_fd_);
    close_fd(&read_fd_);
    close_fd(&cursor_fd_);
    close_fd(&lock_fd_);  // releases the flock
}

void Spool::close_fd(int* fd) noexcept {
    if (*fd >= 0) {
        ::close(*fd);
        *fd = -1;
    }
}

std::string Spool::segment_path(uint64_t id) const {
    char name[32];
    std::snprintf(name, sizeof name, "/%016llx", static_cast<unsigned long long>(id));
    return options_.dir + name + std::string(kSegmentSuffix);
}

void Spool::save_cursor() noexcept {
    if (cursor_fd_ < 0) {
        return;
    }
    unsigned char cur[kCursorBytes];
    put_u64(cur, segments_.empty() ? 0 : segments_.front().id);
    put_u64(cur + 8, head_offset_);
    put_u32(cur + 16, crc32c(0, cur, 16));
    // One 20-byte pwrite at offset 0: within a sector, so it lands whole or
    // not at all; a bad one is detected by its CRC and ignored.
    (void)::pwrite(cursor_fd_, cur, sizeof cur, 0);
}

void Spool::remove_front_file() noexcept {
    const Segment& front = segments_.front();
    if (read_id_ == front.id) {
        close_fd(&read_fd_);
    }
    if (segments_.size() == 1) {
        close_fd(&write_fd_);
    }
    try {
        (void)::unlink(segment_path(front.id).c_str());
    } catch (...) {
    }
    stats_.disk_bytes -= front.size;
    segments_.pop_front();
    stats_.segments = segments_.size();
    head_offset_ = kSpoolSegmentHeaderBytes;
    head_consumed_ = 0;
}

void Spool::drop_front() noexcept {
    const Segment& front = segments_.front();
    const uint64_t lost = front.records - head_consumed_;
    stats_.dropped += lost;
    stats_.dropped_bytes += front.size;
    stats_.pending_records -= lost;
    remove_front_file();
}

// Unlinks fully replayed segments; when everything is replayed, all of them,
// so a healthy worker's spool directory holds no segment at all.
void Spool::advance_past_consumed() noexcept {
    while (!segments_.empty() && head_consumed_ == segments_.front().records) {
        remove_front_file();
    }
}

bool Spool::open_new_segment() noexcept {
    try {
        if (write_fd_ >= 0 && options_.sync == SpoolSync::kOnRotate) {
            (void)::fdatasync(write_fd_);
        }
        close_fd(&write_fd_);
        const uint64_t id = next_id_;
        const std::string path = segment_path(id);
        const int fd =
            ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0) {
            return false;
        }
        struct iovec iov = {const_cast<char*>(kSegmentMagic), sizeof kSegmentMagic};
        if (!write_full(fd, &iov, 1)) {
            ::close(fd);
            (void)::unlink(path.c_str());
            return false;
        }
        if (options_.sync != SpoolSync::kNone) {
            sync_dir(options_.dir);
        }
        ++next_id_;
        write_fd_ = fd;
        const bool was_empty = segments_.empty();
        segments_.push_back(Segment{id, kSpoolSegmentHeaderBytes, 0});
        stats_.disk_bytes += kSpoolSegmentHeaderBytes;
        stats_.segments = segments_.size();
        if (was_empty) {
            head_offset_ = kSpoolSegmentHeaderBytes;
            head_consumed_ = 0;
            save_cursor();
        }
        return true;
    } catch (...) {
        return false;
    }
}

bool Spool::open_tail_for_append() noexcept {
    if (write_fd_ >= 0) {
        return true;
    }
    try {
        write_fd_ =
            ::open(segment_path(segments_.back().id).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    } catch (...) {
        return false;
    }
    return write_fd_ >= 0;
}

AppendResult Spool::append(std::string_view record) noexcept {
    AppendResult result;
    if (record.empty() || record.size() > options_.max_record_bytes) {
        result.status = AppendStatus::kTooLarge;
        return result;
    }
    const uint64_t frame = kSpoolFrameHeaderBytes + record.size();
    if (segments_.empty() || segments_.back().size + frame > options_.segment_bytes) {
        if (!open_new_segment()) {
            ++stats_.write_errors;
            result.status = AppendStatus::kIoError;
            return result;
        }
    }
    const uint64_t dropped_before = stats_.dropped;
    while (stats_.disk_bytes + frame > options_.max_bytes && segments_.size() > 1) {
        drop_front();
    }
    result.dropped = stats_.dropped - dropped_before;
    if (!open_tail_for_append()) {
        ++stats_.write_errors;
        result.status = AppendStatus::kIoError;
        return result;
    }

    unsigned char hdr[kSpoolFrameHeaderBytes];
    put_u32(hdr, static_cast<uint32_t>(record.size()));
    put_u32(hdr + 4, frame_crc(hdr, record.data(), record.size()));
    struct iovec iov[2] = {{hdr, sizeof hdr}, {const_cast<char*>(record.data()), record.size()}};
    Segment& tail = segments_.back();
    if (!write_full(write_fd_, iov, 2)) {
        // Never leave a partial frame for later records to sit behind.
        if (::ftruncate(write_fd_, static_cast<off_t>(tail.size)) != 0) {
            close_fd(&write_fd_);
            tail.size = options_.segment_bytes;  // force a fresh segment next time
        }
        ++stats_.write_errors;
        result.status = AppendStatus::kIoError;
        return result;
    }
    if (options_.sync == SpoolSync::kEveryAppend) {
        (void)::fdatasync(write_fd_);
    }
    tail.size += frame;
    ++tail.records;
    stats_.disk_bytes += frame;
    ++stats_.pending_records;
    ++stats_.spooled;
    result.status = result.dropped == 0 ? AppendStatus::kOk : AppendStatus::kDroppedOldest;
    return result;
}

bool Spool::peek(size_t max_records, size_t max_bytes, SpoolBatch* batch) noexcept {
    batch->records_.clear();
    if (max_records == 0) {
        return false;
    }
    while (!segments_.empty() && stats_.pending_records != 0) {
        const Segment& front = segments_.front();
        if (read_fd_ < 0 || read_id_ != front.id) {
            close_fd(&read_fd_);
            try {
                read_fd_ = ::open(segment_path(front.id).c_str(), O_RDONLY | O_CLOEXEC);
            } catch (...) {
                return false;
            }
            read_id_ = front.id;
            if (read_fd_ < 0) {
                return false;
            }
        }
        const uint64_t avail = front.size - head_offset_;
        const uint64_t hint = std::min<uint64_t>(max_bytes, 8ull * 1024 * 1024) +
                              kSpoolFrameHeaderBytes * std::min<uint64_t>(max_records, 4096);
        uint64_t want =
            std::max<uint64_t>(hint, kSpoolFrameHeaderBytes + options_.max_record_bytes);
        size_t pos = 0;
        bool bad = false;
        for (int attempt = 0; attempt < 2; ++attempt) {
            const auto chunk = static_cast<size_t>(std::min(avail, want));
            try {
                batch->buffer_.resize(chunk);
            } catch (...) {
                return false;
            }
            bad = !pread_full(read_fd_, batch->buffer_.data(), chunk, head_offset_);
            pos = 0;
            size_t bytes = 0;
            uint64_t needed = 0;
            const auto* base = reinterpret_cast<const unsigned char*>(batch->buffer_.data());
            while (!bad && batch->records_.size() < max_records &&
                   chunk - pos >= kSpoolFrameHeaderBytes) {
                const uint32_t len = get_u32(base + pos);
                if (len == 0 || len > kMaxSpoolRecordBytes ||
                    len > avail - pos - kSpoolFrameHeaderBytes) {
                    bad = true;
                    break;
                }
                if (chunk - pos - kSpoolFrameHeaderBytes < len) {
                    needed = kSpoolFrameHeaderBytes + len;
                    break;  // did not fit this read: the next peek (or retry) gets it
                }
                if (!batch->records_.empty() && bytes + len > max_bytes) {
                    break;
                }
                const unsigned char* payload = base + pos + kSpoolFrameHeaderBytes;
                if (frame_crc(base + pos, payload, len) != get_u32(base + pos + 4)) {
                    bad = true;
                    break;
                }
                try {
                    batch->records_.emplace_back(reinterpret_cast<const char*>(payload), len);
                } catch (...) {
                    return false;
                }
                pos += kSpoolFrameHeaderBytes + len;
                bytes += len;
            }
            // A first record larger than this read (written under a larger
            // max_record_bytes): read again, exactly big enough.
            if (bad || !batch->records_.empty() || needed == 0) {
                break;
            }
            want = needed;
        }
        if (bad && batch->records_.empty()) {
            // Damaged after recovery (disk error, someone wrote into the
            // file): drop the rest of this segment rather than loop on it.
            stats_.corrupt_bytes += avail;
            const uint64_t lost = front.records - head_consumed_;
            stats_.dropped += lost;
            stats_.pending_records -= lost;
            head_consumed_ = front.records;
            head_offset_ = front.size;
            if (segments_.size() == 1) {
                close_fd(&write_fd_);
            }
            remove_front_file();
            save_cursor();
            continue;
        }
        batch->segment_ = front.id;
        batch->start_ = head_offset_;
        batch->end_ = head_offset_ + pos;
        return !batch->records_.empty();
    }
    return false;
}

bool Spool::commit(const SpoolBatch& batch) noexcept {
    if (batch.records_.empty() || segments_.empty() || segments_.front().id != batch.segment_ ||
        head_offset_ != batch.start_) {
        return false;
    }
    const uint64_t n = batch.records_.size();
    head_offset_ = batch.end_;
    head_consumed_ += n;
    stats_.pending_records -= n;
    stats_.replayed += n;
    advance_past_consumed();
    save_cursor();
    return true;
}

}  // namespace tailor
