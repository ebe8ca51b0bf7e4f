// SlotRewriter benches: a real ~50 KB product page through the body filter's hot path.
//
// The sink only adds up piece sizes, as the nginx glue only links buffers
// for pass-through bytes; BM_Memcpy copies the same page once, the floor any
// filter that touches every byte is measured against. The rewriter benches
// use the scan path the CPU picks (tag_scan::best_path()); the _Scan
// benches run the slot-free page through each path in the same run.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_rewriter.h"
#include "tailor/html/tag_scanner.h"

namespace {

std::string read_page(const char* name) {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/data/pages/" + name,
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct CountingSink {
    size_t bytes = 0;
    void operator()(std::string_view b, tailor::PieceOrigin) { bytes += b.size(); }
};

void rewrite_page(benchmark::State& state, const std::string& page,
                  const std::vector<tailor::SlotFill>& fills, std::string_view injection) {
    const size_t chunk = static_cast<size_t>(state.range(0));
    for (auto _ : state) {
        CountingSink counter;
        tailor::SlotRewriter rw(fills, injection);
        for (size_t at = 0; at < page.size(); at += chunk) {
            rw.write(std::string_view(page).substr(at, chunk), tailor::make_sink(counter));
        }
        rw.finish(tailor::make_sink(counter));
        benchmark::DoNotOptimize(counter.bytes);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(page.size()));
}

void BM_SlotRewriter_NoSlots(benchmark::State& state) {
    static const std::string page = read_page("product_noslots.html");
    const std::vector<tailor::SlotFill> fills = {{"hero", "<p>Hi Ann</p>"}};
    rewrite_page(state, page, fills, "");
}
BENCHMARK(BM_SlotRewriter_NoSlots)->Arg(4096)->Arg(16384);

void BM_SlotRewriter_ThreeSlots(benchmark::State& state) {
    static const std::string page = read_page("product.html");
    const std::vector<tailor::SlotFill> fills = {
        {"hero", "<h2>Welcome back, Ann</h2>"},
        {"recommendations", "<ul class=\"grid\"><li>Picks for you</li></ul>"},
        {"reward-reminder", "<p>You have 1,200 points</p>"}};
    rewrite_page(state, page, fills,
                 "<script type=\"application/json\" id=\"tailor-directives\">"
                 "{\"popups\":[{\"id\":\"welcome10\",\"trigger\":\"exit\"}]}</script>");
}
BENCHMARK(BM_SlotRewriter_ThreeSlots)->Arg(4096)->Arg(16384);

// The slot-free page, 16 KiB chunks, through one scan path; and 54 KB of
// dense boring markup (the block scan's best case: no candidates, no
// rejected blocks).
void on_path(benchmark::State& state, tailor::tag_scan::ScanPath path, bool dense) {
    namespace ts = tailor::tag_scan;
    if (!ts::set_active_path(path)) {
        state.SkipWithError("this CPU lacks the scan path");
        return;
    }
    if (dense) {
        static const std::string page = [] {
            std::string s;
            while (s.size() < 54000) {
                s += "<div class=\"card x\" data-id=7><a href=\"/p?a=1&b=2\" hidden>Go</a></div> ";
            }
            return s;
        }();
        rewrite_page(state, page, {}, "");
    } else {
        BM_SlotRewriter_NoSlots(state);
    }
    ts::set_active_path(ts::best_path());
}
void BM_SlotRewriter_NoSlots_ScalarScan(benchmark::State& state) {
    on_path(state, tailor::tag_scan::ScanPath::kScalar, false);
}
void BM_SlotRewriter_NoSlots_Sse2Scan(benchmark::State& state) {
    on_path(state, tailor::tag_scan::ScanPath::kSse2, false);
}
void BM_SlotRewriter_NoSlots_Avx2Scan(benchmark::State& state) {
    on_path(state, tailor::tag_scan::ScanPath::kAvx2, false);
}
void BM_SlotRewriter_NoSlots_Avx512Scan(benchmark::State& state) {
    on_path(state, tailor::tag_scan::ScanPath::kAvx512, false);
}
void BM_SlotRewriter_DenseMarkup_ScalarScan(benchmark::State& state) {
    on_path(state, tailor::tag_scan::ScanPath::kScalar, true);
}
void BM_SlotRewriter_DenseMarkup_Avx2Scan(benchmark::State& state) {
    on_path(state, tailor::tag_scan::ScanPath::kAvx2, true);
}
void BM_SlotRewriter_DenseMarkup_Avx512Scan(benchmark::State& state) {
    on_path(state, tailor::tag_scan::ScanPath::kAvx512, true);
}
BENCHMARK(BM_SlotRewriter_NoSlots_ScalarScan)->Arg(16384);
BENCHMARK(BM_SlotRewriter_NoSlots_Sse2Scan)->Arg(16384);
BENCHMARK(BM_SlotRewriter_NoSlots_Avx2Scan)->Arg(16384);
BENCHMARK(BM_SlotRewriter_NoSlots_Avx512Scan)->Arg(16384);
BENCHMARK(BM_SlotRewriter_DenseMarkup_ScalarScan)->Arg(16384);
BENCHMARK(BM_SlotRewriter_DenseMarkup_Avx2Scan)->Arg(16384);
BENCHMARK(BM_SlotRewriter_DenseMarkup_Avx512Scan)->Arg(16384);

void BM_Memcpy(benchmark::State& state) {
    static const std::string page = read_page("product_noslots.html");
    std::vector<char> out(page.size());
    for (auto _ : state) {
        std::memcpy(out.data(), page.data(), page.size());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(page.size()));
}
BENCHMARK(BM_Memcpy);

}  // namespace
