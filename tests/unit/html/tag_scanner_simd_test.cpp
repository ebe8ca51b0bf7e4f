// Tag scanner, block scan: every SIMD path stops where the scalar walk stops, at every offset.
//
// Each case runs on every path this CPU has (SSE2, AVX2, AVX-512BW) and is
// compared with the scalar walk; the random HTML soup prints its seed once
// per run, pinned with TAILOR_SCAN_SEED=<n>.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/slot_rewriter.h"
#include "tailor/html/tag_scanner.h"
#include "tailor/html/tag_scanner_simd.h"

namespace tailor::tag_scan {
namespace {

std::vector<ScanPath> simd_paths() {
    std::vector<ScanPath> paths;
    for (ScanPath p : {ScanPath::kSse2, ScanPath::kAvx2, ScanPath::kAvx512}) {
        if (path_supported(p)) {
            paths.push_back(p);
        }
    }
    return paths;
}

const char* path_name(ScanPath p) {
    switch (p) {
        case ScanPath::kScalar:
            return "scalar";
        case ScanPath::kSse2:
            return "sse2";
        case ScanPath::kAvx2:
            return "avx2";
        case ScanPath::kAvx512:
            return "avx512";
    }
    return "?";
}

// The offset `path` stops at in `s` (copied into a buffer of its exact
// size, so a read past the end shows under ASan), or -1.
long stop_on(ScanPath path, std::string_view s, TagInterest interest = {}) {
    const std::vector<char> own(s.begin(), s.end());
    const char* p = skip_to_tag_on(path, own.data(), own.data() + own.size(), interest);
    return p == nullptr ? -1 : static_cast<long>(p - own.data());
}

// Every SIMD path agrees with the scalar walk on `s`, for every interest;
// returns the scalar answer for `interest`.
long agreed_stop(std::string_view s, TagInterest interest = {}) {
    for (int i = 0; i < 4; ++i) {
        const TagInterest each{(i & 1) != 0, (i & 2) != 0};
        const long want = stop_on(ScanPath::kScalar, s, each);
        for (ScanPath path : simd_paths()) {
            EXPECT_EQ(stop_on(path, s, each), want)
                << path_name(path) << " slot_end=" << each.slot_end << " body_end=" << each.body_end
                << " on: " << s;
        }
    }
    return stop_on(ScanPath::kScalar, s, interest);
}

// Boring HTML: tags with quoted, unquoted and valueless attributes, text.
std::string filler(size_t n) {
    static const std::string kUnit =
        "<div class=\"card x\" data-id=7><a href=\"/p?a=1&b=2\" hidden>Go</a></div> text ";
    std::string s;
    while (s.size() < n) {
        s += kUnit;
    }
    s.resize(n);
    // never end inside a tag: close whatever the cut left open
    const size_t lt = s.rfind('<');
    if (lt != std::string::npos && s.find('>', lt) == std::string::npos) {
        s.resize(lt);
        s.append(n - lt, ' ');
    }
    return s;
}

TEST(TagScannerSimd, FirstLettersCoverEveryNameWeActOn) {
    auto covered = [](char c) {
        for (char f : detail::kFirstLetters) {
            if (f == c) {
                return true;
            }
        }
        return false;
    };
    EXPECT_TRUE(covered(kSlotTag[0]));
    for (std::string_view raw : kRawNames) {
        EXPECT_TRUE(covered(raw[0])) << raw;
    }
}

TEST(TagScannerSimd, PathsAreChosenOnceAndCanBePinned) {
    EXPECT_TRUE(path_supported(ScanPath::kScalar));
    EXPECT_TRUE(path_supported(best_path()));
    const ScanPath before = active_path();
    EXPECT_TRUE(set_active_path(ScanPath::kScalar));
    EXPECT_EQ(active_path(), ScanPath::kScalar);
    EXPECT_TRUE(set_active_path(before));
    EXPECT_EQ(active_path(), before);
}

TEST(TagScannerSimd, HeaderExamplesAgree) {
    EXPECT_EQ(agreed_stop("<p class=a>hi</p><tailor-slot name=x>"), 17);
    EXPECT_EQ(agreed_stop("plain text"), -1);
    EXPECT_EQ(agreed_stop(""), -1);
    EXPECT_EQ(agreed_stop("<div id=\"a>b\" class='c' data-x=y>text</div><img src=x/>"), -1);
    EXPECT_EQ(agreed_stop("a<!-- <tailor-slot> -->"), 1);
    EXPECT_EQ(agreed_stop("x</body>", TagInterest{false, true}), 1);
    EXPECT_EQ(agreed_stop("x</tailor-slot>", TagInterest{true, false}), 1);
}

// A tag that matters, placed at every offset from 0 to 200: across the
// 16-, 32- and 64-byte lanes and blocks, right after and before a boundary.
TEST(TagScannerSimd, CandidateAtEveryOffsetAroundLaneBoundaries) {
    const std::string_view kTags[] = {"<tailor-slot name=x>",
                                      "<TAILOR-SLOT NAME=x>",
                                      "<script>",
                                      "<StYlE>",
                                      "<!-- c -->",
                                      "< b",
                                      "<?x?>",
                                      "</ x>",
                                      "<plaintext>"};
    for (std::string_view tag : kTags) {
        for (size_t at = 0; at <= 200; ++at) {
            const std::string page = filler(at) + std::string(tag) + filler(150);
            EXPECT_EQ(agreed_stop(page), static_cast<long>(at)) << tag << " at " << at;
        }
    }
}

TEST(TagScannerSimd, EndTagsOfInterestAtEveryOffset) {
    for (size_t at = 0; at <= 140; ++at) {
        const std::string slot = filler(at) + "</tailor-slot>" + filler(80);
        EXPECT_EQ(agreed_stop(slot, TagInterest{true, false}), static_cast<long>(at));
        EXPECT_EQ(agreed_stop(slot, TagInterest{false, true}), -1);
        const std::string body = filler(at) + "</BODY>" + filler(80);
        EXPECT_EQ(agreed_stop(body, TagInterest{false, true}), static_cast<long>(at));
        EXPECT_EQ(agreed_stop(body, TagInterest{true, false}), -1);
    }
}

// Names that share the first letters of names we act on are skipped.
TEST(TagScannerSimd, LookAlikeNamesAreSkippedAtEveryOffset) {
    for (size_t at = 0; at <= 130; ++at) {
        const std::string page = filler(at) +
                                 "<strong>a</strong><time>b</time><table><tr><td>c</td></tr>"
                                 "</table><span>d</span><tailor-slots>e</tailor-slots><scripts>" +
                                 filler(70);
        EXPECT_EQ(agreed_stop(page), -1) << at;
    }
}

// "<t" and every longer prefix of a tag, ending the chunk at every offset.
TEST(TagScannerSimd, TagCutByTheChunkEndAtEveryOffset) {
    const std::string_view kTag = "<tailor-slot name=\"hero\">";
    for (size_t at = 0; at <= 140; at += 7) {
        for (size_t len = 1; len < kTag.size(); ++len) {
            const std::string page = filler(at) + std::string(kTag.substr(0, len));
            EXPECT_EQ(agreed_stop(page), static_cast<long>(at)) << at << " " << len;
        }
    }
    for (size_t at = 0; at <= 140; ++at) {
        EXPECT_EQ(agreed_stop(filler(at) + "<div class=\"a>b"), static_cast<long>(at)) << at;
        EXPECT_EQ(agreed_stop(filler(at) + "<"), static_cast<long>(at)) << at;
        EXPECT_EQ(agreed_stop(filler(at) + "</"), static_cast<long>(at)) << at;
        EXPECT_EQ(agreed_stop(filler(at) + "<t"), static_cast<long>(at)) << at;
    }
}

// What the block model rejects (and hands to the scalar walk) or must read
// exactly, with a slot tag after it, at every offset.
TEST(TagScannerSimd, QuotingEdgeCasesAgreeAtEveryOffset) {
    const std::string_view kCases[] = {
        "<div title=\"a > b <script>\">x</div>",        // '>' and a tag inside a value
        "<div class='a>b' data-x='{\"k\":1}'>x</div>",  // single-quoted values
        "<p>He said \"hi\" and 6'1\" tall</p>",         // quotes in text
        "<nav>Home > Shop</nav>",                       // '>' in text
        "<p>\"a\" > \"b\" 'c' > d</p><i>\"</i>",        // several in a row
        "<a b = \"x>y\">x</a>",                         // '=' then whitespace
        "<a b=c\"d>e\">x</a><a b=c=\"d>e\">x</a>",      // quotes in unquoted values
        "<a b=/c=\"x>y\">z</a><a/b=\"x>y\">z</a>",      // '/' before an attribute
        "<a=\"x>y\">z</a><a<b c=\"d>e\">f</a>",         // quotes in tag names
        "<a =\"x>y\">z</a>",                            // a name that starts with '='
        "<a b=\"x\"c=\"y>z\">w</a>",                    // no space after a value
        "<img alt=\"Women's shirt\" src=x>",            // apostrophe in a value
        // a tag across a block's end, then text and a quote in it (the walk
        // starts after the tag's '>')
        "<div data-x=\"0123456789012345678901234567890123456789012345678901234567890123\">"
        "a <i>b</i> 6'1\" <b>c</b></div>",
    };
    for (std::string_view c : kCases) {
        for (size_t at = 0; at <= 130; ++at) {
            const std::string page =
                filler(at) + std::string(c) + "<tailor-slot name=x>" + filler(40);
            agreed_stop(page);
            for (size_t cut = at; cut <= at + c.size() + 4; ++cut) {
                agreed_stop(std::string_view(page).substr(0, cut));
            }
        }
    }
}

// Whole blocks of text without '<' (with what the model rejects in a tag:
// '>', quotes) and whole blocks inside a quoted value without '"' (with
// '<', '>', '\'' and tags), which the block loop skips in one compare,
// followed by a tag that matters or a tag cut by the chunk's end.
TEST(TagScannerSimd, BlocksSkippedWholeAgreeAtEveryOffset) {
    std::string text;
    std::string value;
    while (text.size() < 300) {
        text += "Size > M, \"linen\" 6'1 & more; ";
        value += "a<b>c <script> d='e' </tailor-slot> ";
    }
    for (size_t at = 0; at <= 140; ++at) {
        for (size_t len : {size_t{63}, size_t{64}, size_t{65}, size_t{130}, size_t{260}}) {
            const std::string before = filler(at);
            const std::string in_text = before + text.substr(0, len) + "<script>" + filler(40);
            EXPECT_EQ(agreed_stop(in_text), static_cast<long>(before.size() + len)) << at;
            const std::string in_value =
                before + "<div title=\"" + value.substr(0, len) + "\">x</div><style>" + filler(40);
            EXPECT_EQ(agreed_stop(in_value), static_cast<long>(in_value.size() - 40 - 7)) << at;
            agreed_stop(std::string_view(in_value).substr(0, before.size() + 12 + len / 2),
                        TagInterest{true, true});
            EXPECT_EQ(agreed_stop(before + text.substr(0, len) + "<tail"),
                      static_cast<long>(before.size() + len))
                << at;
        }
    }
}

uint64_t scan_seed() {
    static const uint64_t seed = [] {
        const char* env = std::getenv("TAILOR_SCAN_SEED");
        const uint64_t s =
            env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
        std::cout << "[ TagScannerSimd ] TAILOR_SCAN_SEED=" << s << "\n";
        return s;
    }();
    return seed;
}

// Random soup of HTML pieces, scanned from random starts to random ends.
TEST(TagScannerSimd, RandomHtmlSoupAgrees) {
    const std::string_view kPieces[] = {"<div class=\"a\">",
                                        "</div>",
                                        "<p>",
                                        "</p>",
                                        "text ",
                                        "\"",
                                        "'",
                                        "=",
                                        ">",
                                        "<",
                                        "<tailor-slot name=hero>",
                                        "</tailor-slot>",
                                        "</body>",
                                        "<script>",
                                        "</script>",
                                        "<!--",
                                        "-->",
                                        " ",
                                        "\n",
                                        "<a href=x>",
                                        "<img alt='b'>",
                                        "<span title=\"x>y\">",
                                        "/",
                                        "<TiTlE>",
                                        "<strong>",
                                        "<t",
                                        "</",
                                        "a=\"",
                                        "b= ",
                                        "<?",
                                        "<!x>",
                                        "</ >"};
    std::mt19937_64 rng(scan_seed());
    for (int round = 0; round < 400; ++round) {
        std::string page;
        const size_t pieces = rng() % 120;
        for (size_t i = 0; i < pieces; ++i) {
            page += kPieces[rng() % (sizeof(kPieces) / sizeof(kPieces[0]))];
        }
        for (int cut = 0; cut < 8; ++cut) {
            const size_t from = page.empty() ? 0 : rng() % page.size();
            const size_t len = rng() % (page.size() - from + 1);
            agreed_stop(std::string_view(page).substr(from, len));
        }
        agreed_stop(page);
        if (HasFailure()) {
            ADD_FAILURE() << "round " << round << " page: " << page;
            return;
        }
    }
}

// The rewriter on each path, over real pages cut at random points, emits
// what it emits on the scalar walk.
TEST(TagScannerSimd, RewriterOutputIsTheSameOnEveryPath) {
    std::ifstream in(std::string(TAILOR_SOURCE_DIR) + "/tests/data/pages/product.html",
                     std::ios::binary);
    const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(page.size(), 10000u);
    const std::vector<SlotFill> fills = {{"hero", "<h2>Hi</h2>"}, {"recommendations", "<ul></ul>"}};
    const std::string_view injection = "<script id=\"tailor-directives\">{}</script>";
    std::mt19937_64 rng(scan_seed());
    auto run = [&](ScanPath path, uint64_t seed) {
        EXPECT_TRUE(set_active_path(path));
        std::mt19937_64 cuts(seed);
        std::string out;
        auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
        SlotRewriter rw(fills, injection);
        for (size_t at = 0; at < page.size();) {
            const size_t n = 1 + cuts() % 3000;
            const std::string chunk = page.substr(at, n);  // dies after write()
            rw.write(chunk, make_sink(append));
            at += n;
        }
        rw.finish(make_sink(append));
        EXPECT_EQ(rw.stats().slots_replaced, 2u);
        EXPECT_TRUE(rw.stats().injected);
        return out;
    };
    const ScanPath before = active_path();
    for (int round = 0; round < 5; ++round) {
        const uint64_t seed = rng();
        const std::string want = run(ScanPath::kScalar, seed);
        for (ScanPath path : simd_paths()) {
            EXPECT_EQ(run(path, seed), want) << path_name(path) << " cut seed " << seed;
        }
    }
    set_active_path(before);
}

}  // namespace
}  // namespace tailor::tag_scan
