// SlotRewriter fuzz: any bytes, split anywhere, with and without fills; output stays the page's
// own.
//
// Input: byte 0 picks which of four slot names get fills (bits 0-3) and
// whether to inject (bit 4); bytes 1-2 seed and bound the chunk sizes; the
// rest is the page. Every choice comes from the input, so a crash replays.
// Invariants:
//   - no fills, no injection: output == input, however it is split;
//   - the output does not depend on where the input is split;
//   - a page without "tailor-slot" (any case) gets at most the injection;
//   - with fills, the non-fill pieces are the input in order with some
//     ranges left out (slot children), and only when a slot was replaced.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_rewriter.h"

namespace {

constexpr std::string_view kInjection = "\x01INJECT\x01";

struct Collect {
    std::string all;
    std::string page_bytes;  // kInput and kCarry pieces only

    void operator()(std::string_view b, tailor::PieceOrigin origin) {
        if (b.empty()) {
            std::abort();
        }
        all.append(b);
        if (origin != tailor::PieceOrigin::kFill) {
            page_bytes.append(b);
        }
    }
};

struct Result {
    Collect out;
    tailor::SlotRewriterStats stats;
};

Result rewrite(std::string_view page, const std::vector<tailor::SlotFill>& fills,
               std::string_view injection, uint32_t seed, size_t max_chunk) {
    Result r;
    tailor::SlotRewriter rw(fills, injection);
    uint32_t x = seed | 1u;
    for (size_t at = 0; at < page.size();) {
        x ^= x << 13;  // xorshift32: split points from the input's own bytes
        x ^= x >> 17;
        x ^= x << 5;
        const size_t n = max_chunk == 0 ? page.size() : 1 + x % max_chunk;
        const std::string chunk(page.substr(at, n));  // dies after write(), as a recycled buffer
        rw.write(chunk, tailor::make_sink(r.out));
        at += n;
        if (rw.held_bytes() > tailor::kMaxSlotDefaultBytes + 16) {
            std::abort();
        }
    }
    rw.finish(tailor::make_sink(r.out));
    r.stats = rw.stats();
    return r;
}

bool mentions_slot(std::string_view page) {
    constexpr std::string_view kTag = "tailor-slot";
    for (size_t i = 0; i + kTag.size() <= page.size(); ++i) {
        size_t j = 0;
        while (j < kTag.size() && (page[i + j] | 0x20) == (kTag[j] | 0x20)) {
            ++j;
        }
        if (j == kTag.size()) {
            return true;
        }
    }
    return false;
}

bool is_subsequence(std::string_view small, std::string_view big) {
    size_t j = 0;
    for (size_t i = 0; i < big.size() && j < small.size(); ++i) {
        j += big[i] == small[j] ? 1 : 0;
    }
    return j == small.size();
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
    const std::string_view injection = (choice & 0x10) ? kInjection : std::string_view();

    // Pass-through is exact.
    const Result plain = rewrite(page, {}, "", seed, max_chunk);
    if (plain.out.all != page || plain.stats.slots_replaced != 0 || plain.stats.injected) {
        std::abort();
    }

    // The split never matters.
    const Result split = rewrite(page, fills, injection, seed, max_chunk);
    const Result whole = rewrite(page, fills, injection, 0, 0);
    if (split.out.all != whole.out.all ||
        split.stats.slots_replaced != whole.stats.slots_replaced ||
        split.stats.slots_bailed != whole.stats.slots_bailed ||
        split.stats.injected != whole.stats.injected) {
        std::abort();
    }
    const tailor::SlotRewriterStats& st = whole.stats;
    if (st.slots_replaced + st.slots_bailed > st.slots_seen) {
        std::abort();
    }

    // Only the page's bytes, in order; some left out only if a slot was filled.
    const std::string& kept = whole.out.page_bytes;
    if (st.slots_replaced == 0 ? kept != page : !is_subsequence(kept, page)) {
        std::abort();
    }
    if (!mentions_slot(page) && st.slots_seen != 0) {
        std::abort();
    }
    // The injection goes in whole, and only when asked for.
    const size_t fill_bytes = whole.out.all.size() - kept.size();
    if ((st.injected && whole.out.all.find(kInjection) == std::string::npos) ||
        (st.injected && injection.empty())) {
        std::abort();
    }
    if (st.slots_replaced == 0 && fill_bytes != (st.injected ? injection.size() : 0)) {
        std::abort();
    }
    return 0;
}
