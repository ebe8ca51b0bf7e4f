// The SlotRewriter tests' harness: every case runs whole, byte by byte, and at
// random split points, each chunk a fresh copy, checking the piece contract.
//
// The random splits come from a seed printed once per run; pin it with
// TAILOR_CHUNK_SEED=<n> to replay a failure (lol-html's CHUNK_SIZE habit).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_rewriter.h"

namespace tailor::slot_rewriter_testing {

inline uint64_t chunk_seed() {
    static const uint64_t seed = [] {
        const char* env = std::getenv("TAILOR_CHUNK_SEED");
        const uint64_t s =
            env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
        std::cout << "[ SlotRewriter ] TAILOR_CHUNK_SEED=" << s << "\n";
        return s;
    }();
    return seed;
}

struct RewriteRun {
    std::string out;
    SlotRewriterStats stats;
    std::string problem;  // a broken piece contract, if any
};

struct Pieces {
    std::string_view chunk;  // the chunk of the write() in progress
    const std::vector<SlotFill>* fills;
    std::string_view injection;
    RewriteRun* run;

    static bool within(std::string_view piece, std::string_view buffer) {
        return !buffer.empty() && piece.data() >= buffer.data() &&
               piece.data() + piece.size() <= buffer.data() + buffer.size();
    }

    void operator()(std::string_view bytes, PieceOrigin origin) {
        if (bytes.empty()) {
            run->problem = "empty piece";
        }
        if (origin == PieceOrigin::kInput && !within(bytes, chunk)) {
            run->problem = "kInput piece outside the current chunk";
        }
        if (origin == PieceOrigin::kFill) {
            bool found = within(bytes, injection);
            for (const auto& f : *fills) {
                found = found || within(bytes, f.html);
            }
            if (!found) {
                run->problem = "kFill piece outside the fills and the injection";
            }
        }
        run->out.append(bytes);
    }
};

// Feeds `page` cut at `cuts` (ascending offsets); each chunk is a fresh copy
// that dies after its write(), so a kInput view kept too long would show.
inline RewriteRun rewrite_cut(std::string_view page, const std::vector<SlotFill>& fills,
                              std::string_view injection, const std::vector<size_t>& cuts) {
    RewriteRun run;
    SlotRewriter rw(fills, injection);
    Pieces pieces{{}, &fills, injection, &run};
    size_t from = 0;
    auto feed = [&](size_t to) {
        const std::string chunk(page.substr(from, to - from));
        pieces.chunk = chunk;
        rw.write(chunk, make_sink(pieces));
        from = to;
    };
    for (size_t cut : cuts) {
        feed(cut);
    }
    feed(page.size());
    pieces.chunk = {};
    rw.finish(make_sink(pieces));
    run.stats = rw.stats();
    return run;
}

inline std::vector<size_t> every_byte(size_t n) {
    std::vector<size_t> cuts;
    for (size_t i = 1; i < n; ++i) {
        cuts.push_back(i);
    }
    return cuts;
}

inline std::vector<size_t> random_cuts(size_t n, std::mt19937_64& rng) {
    std::vector<size_t> cuts;
    const size_t max_chunk = 1 + rng() % 64;
    for (size_t at = 0;;) {
        at += 1 + rng() % max_chunk;
        if (at >= n) {
            return cuts;
        }
        cuts.push_back(at);
    }
}

inline void expect_same_stats(const SlotRewriterStats& want, const SlotRewriterStats& got,
                              const std::string& how) {
    EXPECT_EQ(want.slots_seen, got.slots_seen) << how;
    EXPECT_EQ(want.slots_replaced, got.slots_replaced) << how;
    EXPECT_EQ(want.slots_bailed, got.slots_bailed) << how;
    EXPECT_EQ(want.injected, got.injected) << how;
}

// Runs `page` whole, byte by byte and at random splits; every run must give
// `expected` and the same stats. Returns the whole run's stats.
inline SlotRewriterStats expect_rewrite(std::string_view page, const std::vector<SlotFill>& fills,
                                        std::string_view injection, std::string_view expected,
                                        int random_runs = 20) {
    const RewriteRun whole = rewrite_cut(page, fills, injection, {});
    EXPECT_EQ(expected, whole.out) << "whole";
    EXPECT_EQ("", whole.problem) << "whole";
    const RewriteRun bytes = rewrite_cut(page, fills, injection, every_byte(page.size()));
    EXPECT_EQ(expected, bytes.out) << "byte by byte";
    EXPECT_EQ("", bytes.problem) << "byte by byte";
    expect_same_stats(whole.stats, bytes.stats, "byte by byte");
    std::mt19937_64 rng(chunk_seed());
    for (int i = 0; i < random_runs; ++i) {
        const RewriteRun r = rewrite_cut(page, fills, injection, random_cuts(page.size(), rng));
        const std::string how = "random split #" + std::to_string(i) +
                                ", TAILOR_CHUNK_SEED=" + std::to_string(chunk_seed());
        EXPECT_EQ(expected, r.out) << how;
        EXPECT_EQ("", r.problem) << how;
        expect_same_stats(whole.stats, r.stats, how);
    }
    return whole.stats;
}

inline const std::vector<SlotFill> kHero = {{"hero", "<p>Hi Ann</p>"}};
inline constexpr std::string_view kInject =
    "<script type=\"application/json\" id=\"tailor-directives\">{}</script>";

inline std::string read_page(const char* name) {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/data/pages/" + name,
                     std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace tailor::slot_rewriter_testing
