// SpoolFrame: the spool's bytes on disk (see spool.h for the layout): CRC-32C, little-endian
// integers, the frame checksum, segment file names, and the read/write loops that retry
// short and interrupted system calls. Split from spool.cpp, which keeps the queue logic.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tailor {

inline constexpr size_t kSpoolSegmentHeaderBytes = 8;
inline constexpr size_t kSpoolFrameHeaderBytes = 8;

// crc32c
//
// CRC-32C (Castagnoli, reflected, as in iSCSI, ext4 and LevelDB), continuing
// from `crc` (0 to start).
//
// Example:
//   crc32c(0, "123456789", 9) == 0xE3069283
[[nodiscard]] uint32_t crc32c(uint32_t crc, const void* data, size_t size) noexcept;

namespace spool_frame {

inline constexpr char kSegmentMagic[kSpoolSegmentHeaderBytes] = {'T', 'S', 'P', 'O',
                                                                 'O', 'L', 1,   '\n'};
inline constexpr std::string_view kSegmentSuffix = ".tspool";
inline constexpr size_t kCursorBytes = 20;

void put_u32(unsigned char* p, uint32_t v) noexcept;
void put_u64(unsigned char* p, uint64_t v) noexcept;
[[nodiscard]] uint32_t get_u32(const unsigned char* p) noexcept;
[[nodiscard]] uint64_t get_u64(const unsigned char* p) noexcept;

// The CRC32C of a frame: its 4 length bytes, then the payload.
[[nodiscard]] uint32_t frame_crc(const unsigned char len_le[4], const void* payload,
                                 size_t size) noexcept;

// "0000000000000007.tspool" -> 7; false for any other name.
[[nodiscard]] bool parse_segment_name(const char* name, uint64_t* id) noexcept;

// pread(2) / writev(2) until done; false on an error or end of file.
[[nodiscard]] bool pread_full(int fd, void* buf, size_t n, uint64_t off) noexcept;
[[nodiscard]] bool write_full(int fd, struct iovec* iov, int iovcnt) noexcept;

// fsync(2) of a directory, best effort (a rename or unlink in it is durable).
void sync_dir(const std::string& dir) noexcept;

}  // namespace spool_frame
}  // namespace tailor
