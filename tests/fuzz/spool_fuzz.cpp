// Spool fuzz: recovery over arbitrary segment and cursor bytes never crashes and never yields a
// record that is not a whole, checksummed frame of the file.
//
// Input: byte 0 selects the layout (bit 0: write a cursor file from the next
// 20 bytes; bit 1: split the rest into two segments at byte 1's position);
// the rest is written as segment file(s) verbatim. Everything replays from
// the input alone. Invariant: the records replayed are exactly consecutive
// valid frames of the segments, in file order, starting at a frame boundary;
// and appending after recovery works and replays last.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/spool.h"

namespace {

namespace fs = std::filesystem;

const std::string& work_dir() {
    static const std::string dir = [] {
        std::string templ = (fs::temp_directory_path() / "tailor-spool-fuzz-XXXXXX").string();
        return std::string(::mkdtemp(templ.data()));
    }();
    return dir;
}

void write_file(const std::string& path, std::string_view bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

uint32_t le32(const std::string& s, size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) {
        v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<size_t>(i)]);
    }
    return v;
}

// True if `record` is a valid frame of `segment` starting at some boundary
// at or after `*from`; advances `*from` past it.
bool is_frame_of(const std::string& segment, size_t* from, std::string_view record) {
    for (size_t off = *from; off + tailor::kSpoolFrameHeaderBytes <= segment.size();) {
        const uint32_t len = le32(segment, off);
        const size_t end = off + tailor::kSpoolFrameHeaderBytes + len;
        if (len == 0 || end > segment.size()) {
            return false;
        }
        const uint32_t crc = tailor::crc32c(tailor::crc32c(0, segment.data() + off, 4),
                                            segment.data() + off + 8, len);
        if (crc != le32(segment, off + 4)) {
            return false;
        }
        if (std::string_view(segment).substr(off + 8, len) == record) {
            *from = end;
            return true;
        }
        off = end;  // an earlier frame skipped via the cursor
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return 0;
    }
    const std::string dir = work_dir() + "/s";
    fs::remove_all(dir);
    fs::create_directories(dir);
    const std::string_view in(reinterpret_cast<const char*>(data), size);
    const unsigned mode = static_cast<unsigned char>(in[0]);
    std::string_view rest = in.substr(2);
    if ((mode & 1) != 0 && rest.size() >= 20) {
        write_file(dir + "/cursor", rest.substr(0, 20));
        rest = rest.substr(20);
    }
    std::vector<std::string> segments;
    if ((mode & 2) != 0) {
        const size_t cut = std::min<size_t>(rest.size(), static_cast<unsigned char>(in[1]) * 4u);
        segments.emplace_back(rest.substr(0, cut));
        segments.emplace_back(rest.substr(cut));
    } else {
        segments.emplace_back(rest);
    }
    for (size_t i = 0; i < segments.size(); ++i) {
        char name[40];
        std::snprintf(name, sizeof name, "/%016zx.tspool", i + 1);
        write_file(dir + name, segments[i]);
    }

    tailor::SpoolOptions options;
    options.dir = dir;
    options.max_record_bytes = 4096;
    options.segment_bytes = 64 * 1024;
    options.max_bytes = 1024 * 1024;
    tailor::SpoolError error;
    auto spool = tailor::Spool::open(options, &error);
    if (!spool) {
        std::abort();  // any bytes must recover
    }
    size_t seg = 0;
    size_t from = tailor::kSpoolSegmentHeaderBytes;
    tailor::SpoolBatch batch;
    uint64_t replayed = 0;
    while (spool->peek(1 + (mode >> 4), 4096, &batch)) {
        for (std::string_view r : batch.records()) {
            // Records come from segment `seg` onwards, in file order.
            while (seg < segments.size() && !is_frame_of(segments[seg], &from, r)) {
                ++seg;
                from = tailor::kSpoolSegmentHeaderBytes;
            }
            if (seg == segments.size()) {
                std::abort();
            }
        }
        replayed += batch.records().size();
        if (!spool->commit(batch)) {
            std::abort();
        }
    }
    if (replayed != spool->stats().recovered - spool->stats().dropped) {
        std::abort();
    }
    if (spool->append("after").status != tailor::AppendStatus::kOk ||
        !spool->peek(10, 4096, &batch) || batch.records().back() != "after") {
        std::abort();
    }
    return 0;
}
