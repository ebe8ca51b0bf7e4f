// Scan best-of: the slot-free page through the rewriter, timed one pass at a time, per scan path.
//
// tailor_bench reports CPU time averaged over many passes, which on a
// shared machine also counts the caches and cores other processes take.
// This times 3000 single passes of the same work as
// BM_SlotRewriter_NoSlots_*Scan/16384 (the page in 16 KiB writes) and of the
// dense markup, and prints the best and the 10th-percentile pass as GB/s,
// for every path this CPU runs: what a pass costs when nothing else gets in
// its way, steady enough to compare two builds on a loaded machine.
//
//   ./build/tailor_scan_best [PASSES]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_rewriter.h"
#include "tailor/html/tag_scanner.h"

namespace {

namespace ts = tailor::tag_scan;

struct CountingSink {
    size_t bytes = 0;
    void operator()(std::string_view b, tailor::PieceOrigin) { bytes += b.size(); }
};

std::string product_page() {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/data/pages/product_noslots.html",
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string dense_markup() {  // as in slot_rewriter_bench.cpp
    std::string s;
    while (s.size() < 54000) {
        s += "<div class=\"card x\" data-id=7><a href=\"/p?a=1&b=2\" hidden>Go</a></div> ";
    }
    return s;
}

// Seconds per pass, sorted.
std::vector<double> time_passes(const std::string& page, int passes, size_t* sink) {
    const std::vector<tailor::SlotFill> fills = {{"hero", "<p>Hi Ann</p>"}};
    std::vector<double> seconds;
    seconds.reserve(static_cast<size_t>(passes));
    for (int i = 0; i < passes; ++i) {
        const auto start = std::chrono::steady_clock::now();
        CountingSink counter;
        tailor::SlotRewriter rw(fills, "");
        for (size_t at = 0; at < page.size(); at += 16384) {
            rw.write(std::string_view(page).substr(at, 16384), tailor::make_sink(counter));
        }
        rw.finish(tailor::make_sink(counter));
        const auto stop = std::chrono::steady_clock::now();
        *sink += counter.bytes;
        seconds.push_back(std::chrono::duration<double>(stop - start).count());
    }
    std::sort(seconds.begin(), seconds.end());
    return seconds;
}

}  // namespace

int main(int argc, char** argv) {
    const int passes = argc > 1 ? std::max(10, std::atoi(argv[1])) : 3000;
    const std::string pages[] = {product_page(), dense_markup()};
    const char* const page_names[] = {"product page", "dense markup"};
    const std::pair<ts::ScanPath, const char*> paths[] = {{ts::ScanPath::kScalar, "scalar"},
                                                          {ts::ScanPath::kSse2, "sse2"},
                                                          {ts::ScanPath::kAvx2, "avx2"},
                                                          {ts::ScanPath::kAvx512, "avx512"}};
    const ts::ScanPath before = ts::active_path();
    size_t sink = 0;
    std::printf("%-8s %-13s %10s %10s   (%d passes each)\n", "path", "page", "best", "p10", passes);
    for (const auto& [path, name] : paths) {
        if (!ts::set_active_path(path)) {
            std::printf("%-8s not on this CPU\n", name);
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            const std::vector<double> s = time_passes(pages[i], passes, &sink);
            const double bytes = static_cast<double>(pages[i].size());
            std::printf("%-8s %-13s %6.2f GB/s %6.2f GB/s\n", name, page_names[i],
                        bytes / s.front() / 1e9, bytes / s[s.size() / 10] / 1e9);
        }
    }
    ts::set_active_path(before);
    return sink == 0 ? 1 : 0;
}
