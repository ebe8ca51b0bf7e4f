// Tag scanner fuzz: the SIMD paths and the scalar walk agree on every byte of every input.
//
// Input: byte 0 picks the fills (bits 0-3) and the injection (bit 4) for
// the rewriter pass; bytes 1-2 seed the split points and bound the chunk
// size; the rest is the page. Every choice comes from the input, so a
// crash replays.
// Invariants, for each path this CPU has (SSE2, AVX2, AVX-512) against the scalar walk:
//   - skip_to_tag returns the same pointer, for the whole page and for
//     sub-ranges cut at seeded points (each copied into a buffer of its own
//     size, so a read past its end shows under ASan), with every TagInterest;
//   - a SlotRewriter running on that path, fed the same seeded splits,
//     emits the same bytes, piece origins and stats as one on the scalar walk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_rewriter.h"
#include "tailor/html/tag_scanner.h"

namespace {

namespace ts = tailor::tag_scan;

struct Rng {
    uint32_t x;
    uint32_t next() {
        x ^= x << 13;  // xorshift32
        x ^= x >> 17;
        x ^= x << 5;
        return x;
    }
};

void check_scan(std::string_view bytes, ts::ScanPath path) {
    const std::vector<char> own(bytes.begin(), bytes.end());  // exactly sized, for ASan
    const char* p = own.data();
    const char* end = own.data() + own.size();
    for (int i = 0; i < 4; ++i) {
        const ts::TagInterest interest{(i & 1) != 0, (i & 2) != 0};
        if (ts::skip_to_tag_on(path, p, end, interest) !=
            ts::skip_to_tag_on(ts::ScanPath::kScalar, p, end, interest)) {
            std::abort();
        }
    }
}

struct Record {
    std::string out;
    std::string origins;  // one letter per piece
    void operator()(std::string_view b, tailor::PieceOrigin origin) {
        out.append(b);
        origins.push_back(static_cast<char>('0' + static_cast<int>(origin)));
    }
};

struct Run {
    Record rec;
    tailor::SlotRewriterStats stats;
};

Run rewrite(std::string_view page, const std::vector<tailor::SlotFill>& fills,
            std::string_view injection, uint32_t seed, size_t max_chunk) {
    Run r;
    tailor::SlotRewriter rw(fills, injection);
    Rng rng{seed | 1u};
    for (size_t at = 0; at < page.size();) {
        const size_t n = max_chunk == 0 ? page.size() : 1 + rng.next() % max_chunk;
        const std::string chunk(page.substr(at, n));  // dies after write(), as a recycled buffer
        rw.write(chunk, tailor::make_sink(r.rec));
        at += n;
    }
    rw.finish(tailor::make_sink(r.rec));
    r.stats = rw.stats();
    return r;
}

bool same(const Run& a, const Run& b) {
    return a.rec.out == b.rec.out && a.rec.origins == b.rec.origins &&
           a.stats.slots_seen == b.stats.slots_seen &&
           a.stats.slots_replaced == b.stats.slots_replaced &&
           a.stats.slots_bailed == b.stats.slots_bailed && a.stats.injected == b.stats.injected &&
           a.stats.bytes_held_max == b.stats.bytes_held_max;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 3) {
        return 0;
    }
    const uint8_t choice = data[0];
    const uint32_t seed = data[1] * 2654435761u;
    const size_t max_chunk = data[2];  // 0: the whole page in one write
    const std::string_view page(reinterpret_cast<const char*>(data + 3), size - 3);

    static const std::string_view kNames[] = {"hero", "a", "recommendations", "x"};
    std::vector<tailor::SlotFill> fills;
    for (int i = 0; i < 4; ++i) {
        if ((choice >> i) & 1) {
            fills.push_back({kNames[i], "<b>\x02fill\x02</b>"});
        }
    }
    const std::string_view injection = (choice & 0x10) ? std::string_view("\x01INJECT\x01") : "";

    std::vector<ts::ScanPath> paths;
    for (ts::ScanPath path : {ts::ScanPath::kSse2, ts::ScanPath::kAvx2, ts::ScanPath::kAvx512}) {
        if (ts::path_supported(path)) {
            paths.push_back(path);
        }
    }
    const ts::ScanPath before = ts::active_path();

    Rng rng{seed ^ 0x9e3779b9u};
    for (ts::ScanPath path : paths) {
        check_scan(page, path);
        for (int i = 0; i < 8 && !page.empty(); ++i) {
            const size_t from = rng.next() % page.size();
            const size_t len = rng.next() % (page.size() - from + 1);
            check_scan(page.substr(from, len), path);
        }
    }

    if (!ts::set_active_path(ts::ScanPath::kScalar)) {
        std::abort();
    }
    const Run scalar = rewrite(page, fills, injection, seed, max_chunk);
    for (ts::ScanPath path : paths) {
        ts::set_active_path(path);
        if (!same(rewrite(page, fills, injection, seed, max_chunk), scalar)) {
            std::abort();
        }
    }
    ts::set_active_path(before);
    return 0;
}
