// Spool, opening: the directory's lock, the cursor, and the segments recovered as they were left.
#include "tailor/events/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace tailor {

using spool_frame::frame_crc;
using spool_frame::get_u32;
using spool_frame::get_u64;
using spool_frame::kCursorBytes;
using spool_frame::kSegmentMagic;
using spool_frame::parse_segment_name;
using spool_frame::pread_full;

std::unique_ptr<Spool> Spool::open(const SpoolOptions& options, SpoolError* error) noexcept {
    SpoolError unused;
    SpoolError* err = error != nullptr ? error : &unused;
    const uint64_t min_segment = kSpoolSegmentHeaderBytes + kSpoolFrameHeaderBytes +
                                 static_cast<uint64_t>(options.max_record_bytes);
    if (options.dir.empty() || options.max_record_bytes == 0 ||
        options.max_record_bytes > kMaxSpoolRecordBytes || options.segment_bytes < min_segment ||
        options.segment_bytes > options.max_bytes / 2) {
        *err = SpoolError::kBadOptions;
        return nullptr;
    }
    try {
        std::unique_ptr<Spool> spool(new Spool(options));
        *err = spool->recover();
        if (*err != SpoolError::kOk) {
            return nullptr;
        }
        return spool;
    } catch (...) {
        *err = SpoolError::kIo;
        return nullptr;
    }
}

// Makes the directory and holds its lock file. The lock must be the file the
// name links to once held: a worker removing this directory as an emptied orphan
// (spool_dir.h) unlinks the lock file it holds, and a lock on that unlinked file
// would guard nothing (and the directory would be gone under us). Then again,
// with a fresh directory.
SpoolError Spool::lock_dir() {
    const std::string lock = options_.dir + "/lock";
    for (int attempt = 0; attempt < 3; attempt++) {
        close_fd(&lock_fd_);
        if (::mkdir(options_.dir.c_str(), 0700) != 0 && errno != EEXIST) {
            return SpoolError::kNoDir;
        }
        lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_fd_ < 0) {
            if (errno == ENOENT) {
                continue;  // removed between our mkdir and open
            }
            return SpoolError::kNoDir;
        }
        if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
            return errno == EWOULDBLOCK ? SpoolError::kLocked : SpoolError::kIo;
        }
        struct stat held;
        struct stat named;
        if (::fstat(lock_fd_, &held) == 0 && ::stat(lock.c_str(), &named) == 0 &&
            held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
            return SpoolError::kOk;
        }
    }
    close_fd(&lock_fd_);
    return SpoolError::kNoDir;
}

namespace {

// A segment file read front to back through a window of at least 1 MiB, so
// recovery costs a read per window rather than two preads per frame (a full
// 60 MiB spool of page-view events took ~1.1 s to open with those, stalling
// the worker that adopted it).
class FrameWindow {
  public:
    static constexpr size_t kBytes = 1024 * 1024;

    FrameWindow(int fd, uint64_t file_size) : fd_(fd), file_size_(file_size) {}

    // The `n` bytes at `off`, valid until the next call; nullptr if the file
    // is shorter or cannot be read.
    const unsigned char* at(uint64_t off, size_t n) {
        if (off >= start_ && off - start_ + n <= bytes_) {
            return buf_.data() + (off - start_);
        }
        if (off > file_size_ || n > file_size_ - off) {
            return nullptr;
        }
        const size_t want =
            static_cast<size_t>(std::min<uint64_t>(std::max<size_t>(n, kBytes), file_size_ - off));
        buf_.resize(want);
        if (!pread_full(fd_, buf_.data(), want, off)) {
            bytes_ = 0;
            return nullptr;
        }
        start_ = off;
        bytes_ = want;
        return buf_.data();
    }

  private:
    int fd_;
    uint64_t file_size_;
    std::vector<unsigned char> buf_;
    uint64_t start_ = 0;
    size_t bytes_ = 0;
};

}  // namespace

SpoolError Spool::recover() noexcept {
    try {
        const SpoolError locked = lock_dir();
        if (locked != SpoolError::kOk) {
            return locked;
        }

        // The cursor: where replay resumes, if it names a record boundary.
        bool have_cursor = false;
        uint64_t cursor_id = 0;
        uint64_t cursor_off = 0;
        cursor_fd_ = ::open((options_.dir + "/cursor").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (cursor_fd_ < 0) {
            return SpoolError::kIo;
        }
        unsigned char cur[kCursorBytes];
        if (pread_full(cursor_fd_, cur, sizeof cur, 0) && get_u32(cur + 16) == crc32c(0, cur, 16)) {
            have_cursor = true;
            cursor_id = get_u64(cur);
            cursor_off = get_u64(cur + 8);
        }

        std::vector<uint64_t> ids;
        DIR* d = ::opendir(options_.dir.c_str());
        if (d == nullptr) {
            return SpoolError::kIo;
        }
        while (const struct dirent* ent = ::readdir(d)) {
            uint64_t id = 0;
            if (parse_segment_name(ent->d_name, &id)) {
                ids.push_back(id);
            }
        }
        ::closedir(d);
        std::sort(ids.begin(), ids.end());
        if (have_cursor) {
            // New segments must sort after the cursor's, or a later recovery
            // would take them for replayed ones.
            next_id_ = std::max(next_id_, cursor_id + 1);
        }

        bool cursor_found = false;
        uint64_t cursor_consumed = 0;
        for (uint64_t id : ids) {
            next_id_ = std::max(next_id_, id + 1);
            const std::string path = segment_path(id);
            if (have_cursor && id < cursor_id) {
                (void)::unlink(path.c_str());  // replayed; the unlink was lost in a crash
                continue;
            }
            const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
            if (fd < 0) {
                return SpoolError::kIo;
            }
            struct stat st {};
            if (::fstat(fd, &st) != 0) {
                ::close(fd);
                return SpoolError::kIo;
            }
            const auto file_size = static_cast<uint64_t>(st.st_size);
            char magic[kSpoolSegmentHeaderBytes];
            Segment seg;
            seg.id = id;
            if (file_size < kSpoolSegmentHeaderBytes || !pread_full(fd, magic, sizeof magic, 0) ||
                std::memcmp(magic, kSegmentMagic, sizeof magic) != 0) {
                stats_.corrupt_bytes += file_size;
                ::close(fd);
                (void)::unlink(path.c_str());
                continue;
            }
            uint64_t off = kSpoolSegmentHeaderBytes;
            FrameWindow window(fd, file_size);
            const bool cursor_here = have_cursor && id == cursor_id;
            while (off < file_size) {
                if (cursor_here && off == cursor_off) {
                    cursor_found = true;
                    cursor_consumed = seg.records;
                }
                if (file_size - off < kSpoolFrameHeaderBytes) {
                    break;
                }
                const unsigned char* at = window.at(off, kSpoolFrameHeaderBytes);
                if (at == nullptr) {
                    break;
                }
                unsigned char hdr[kSpoolFrameHeaderBytes];
                std::memcpy(hdr, at, sizeof hdr);
                const uint32_t len = get_u32(hdr);
                if (len == 0 || len > kMaxSpoolRecordBytes ||
                    len > file_size - off - kSpoolFrameHeaderBytes) {
                    break;
                }
                const unsigned char* payload = window.at(off + kSpoolFrameHeaderBytes, len);
                if (payload == nullptr || frame_crc(hdr, payload, len) != get_u32(hdr + 4)) {
                    break;
                }
                off += kSpoolFrameHeaderBytes + len;
                ++seg.records;
            }
            if (cursor_here && off == cursor_off && off <= file_size) {
                cursor_found = true;
                cursor_consumed = seg.records;
            }
            if (off < file_size) {
                // A torn tail (or corruption): cut it so appends never follow it.
                stats_.corrupt_bytes += file_size - off;
                if (::ftruncate(fd, static_cast<off_t>(off)) != 0) {
                    ::close(fd);
                    return SpoolError::kIo;
                }
            }
            ::close(fd);
            seg.size = off;
            if (seg.records == 0) {
                (void)::unlink(path.c_str());
                continue;
            }
            segments_.push_back(seg);
        }

        uint64_t total_records = 0;
        for (const Segment& s : segments_) {
            total_records += s.records;
            stats_.disk_bytes += s.size;
        }
        head_offset_ = kSpoolSegmentHeaderBytes;
        head_consumed_ = 0;
        if (!segments_.empty() && cursor_found && segments_.front().id == cursor_id) {
            head_offset_ = cursor_off;
            head_consumed_ = cursor_consumed;
        }
        stats_.pending_records = total_records - head_consumed_;
        stats_.recovered = stats_.pending_records;
        stats_.segments = segments_.size();
        advance_past_consumed();
        while (stats_.disk_bytes > options_.max_bytes && segments_.size() > 1) {
            drop_front();
        }
        save_cursor();
        return SpoolError::kOk;
    } catch (...) {
        return SpoolError::kIo;
    }
}

}  // namespace tailor
