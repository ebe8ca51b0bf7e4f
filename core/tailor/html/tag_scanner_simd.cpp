// Tag scanner, block scan: classifying 64 bytes at a time with SSE2 or AVX2.
//
// Each instruction set gets a `classify` and its own copy of the walk
// (tag_scanner_simd_walk.inc, which explains the model; AVX-512 has its own
// file, tag_scanner_simd_avx512.cpp). The AVX2 and AVX-512 copies are
// compiled under target pragmas rather than with -mavx2 for the file, so nothing else in the module
// is built for them and the module still loads on any x86-64; tag_scanner.cpp calls them only if
// the CPU has them.
#include "tailor/html/tag_scanner_simd.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "tailor/html/tag_scanner_simd_block.h"

namespace tailor::tag_scan::detail {
namespace {

// Splatted constants, loaded from memory so compares take them as operands
// instead of rebuilding them in every block.
struct Splats {
    alignas(64) char lt[64] = {};
    alignas(64) char gt[64] = {};
    alignas(64) char dq[64] = {};
    alignas(64) char sq[64] = {};
    alignas(64) char eq[64] = {};
    alignas(64) char sl[64] = {};
    alignas(64) char case_bit[64] = {};
    alignas(64) char a[64] = {};
    alignas(64) char letters[64] = {};      // 26
    alignas(64) char to_alpha[64] = {};     // 'a'..'z' + this lands on -128..-103 (signed)
    alignas(64) char alpha_below[64] = {};  // -102
    alignas(64) char after_t[64] = {};      // 'a': </ta(ilor-slot
    alignas(64) char after_b[64] = {};      // 'o': </bo(dy
    constexpr Splats() {
        for (int i = 0; i < 64; ++i) {
            lt[i] = '<';
            gt[i] = '>';
            dq[i] = '"';
            sq[i] = '\'';
            eq[i] = '=';
            sl[i] = '/';
            case_bit[i] = 0x20;
            a[i] = 'a';
            letters[i] = 26;
            to_alpha[i] = 0x1f;
            alpha_below[i] = -102;
            after_t[i] = kSlotTag[1];
            after_b[i] = kBodyTag[1];
        }
    }
};
constexpr Splats kSplat;

// The compiler knows what the tables hold and would rebuild each constant
// (move an immediate, broadcast it) in every block; through a pointer it
// cannot see into, a compare reads the constant from memory instead.
[[gnu::always_inline]] inline const char* opaque(const char* table) {
    asm("" : "+r"(table));
    return table;
}

}  // namespace

// SSE2: four 16-byte lanes. No byte shuffle in SSE2, so whitespace and the
// first letters are one compare per byte value, and candidates are only
// checked for their first letter here (the scalar check does the second).
namespace sse2 {
namespace {

[[gnu::always_inline]] inline uint64_t prefix_xor(uint64_t x) {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

struct Consts {
    char slot;  // 't' if </tailor-slot matters, else 0 (no lower-cased byte is 0)
    char body;  // 'b' if </body matters
};

[[gnu::always_inline]] inline Consts consts_for(TagInterest interest) {
    return Consts{interest.slot_end ? 't' : '\0', interest.body_end ? 'b' : '\0'};
}

[[gnu::always_inline]] inline __m128i is(__m128i v, char c) {
    return _mm_cmpeq_epi8(v, _mm_set1_epi8(c));
}

[[gnu::always_inline]] inline __m128i load(const char* p) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

[[gnu::always_inline]] inline __m128i is_alpha(__m128i lower) {
    return _mm_cmplt_epi8(_mm_add_epi8(lower, _mm_set1_epi8(0x1f)), _mm_set1_epi8(-102));
}

[[gnu::always_inline]] inline __m128i is_ws(__m128i v) {
    return _mm_or_si128(_mm_or_si128(is(v, ' '), is(v, '\n')),
                        _mm_or_si128(_mm_or_si128(is(v, '\t'), is(v, '\r')), is(v, '\f')));
}

[[gnu::always_inline]] inline uint64_t bits(__m128i m, int lane) {
    return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(m))) << (16 * lane);
}

template <bool kEndTags>  // whether an end tag may matter (always checked here)
[[gnu::always_inline]] inline Block classify(const char* p, const Consts& k) {
    Block b{};
    uint64_t special = 0;  // not an attribute name byte
    const __m128i case_bit = _mm_set1_epi8(0x20);
    for (int lane = 0; lane < 4; ++lane) {
        const char* at = p + 16 * lane;
        const __m128i v = load(at);
        const __m128i v1 = load(at + 1);
        const __m128i l1 = _mm_or_si128(v1, case_bit);  // letters only stay letters
        const __m128i l2 = _mm_or_si128(load(at + 2), case_bit);
        const __m128i lt = is(v, '<');
        const __m128i sq = is(v, '\'');
        const __m128i eq = is(v, '=');
        const __m128i ws = is_ws(v);
        const __m128i slash1 = is(v1, '/');
        __m128i first = _mm_setzero_si128();
        for (char c : kFirstLetters) {
            first = _mm_or_si128(first, is(l1, c));
        }
        const __m128i end_tag = _mm_and_si128(slash1, _mm_or_si128(is(l2, k.slot), is(l2, k.body)));
        b.lt |= bits(lt, lane);
        b.gt |= bits(is(v, '>'), lane);
        b.dq |= bits(is(v, '"'), lane);
        b.eq |= bits(eq, lane);
        b.ws |= bits(ws, lane);
        special |= bits(
            _mm_or_si128(_mm_or_si128(_mm_or_si128(lt, is(v, '>')), _mm_or_si128(is(v, '"'), sq)),
                         _mm_or_si128(_mm_or_si128(eq, is(v, '/')), ws)),
            lane);
        b.opens |=
            bits(_mm_and_si128(lt, _mm_or_si128(is_alpha(l1), _mm_and_si128(slash1, is_alpha(l2)))),
                 lane);
        b.candidates |= bits(_mm_and_si128(lt, _mm_or_si128(first, end_tag)), lane);
        b.odd |= bits(_mm_or_si128(sq, _mm_and_si128(eq, is_ws(v1))), lane);
    }
    b.name = ~special;
    b.candidates &= b.opens;
    b.marks = b.opens | b.gt;
    b.tag_stops = b.gt | b.odd | b.candidates;
    return b;
}

[[gnu::always_inline]] inline bool has_byte(const char* p, char c) {
    const __m128i any = _mm_or_si128(_mm_or_si128(is(load(p), c), is(load(p + 16), c)),
                                     _mm_or_si128(is(load(p + 32), c), is(load(p + 48), c)));
    return _mm_movemask_epi8(any) != 0;
}
[[gnu::always_inline]] inline bool has_lt(const char* p, const Consts&) {
    return has_byte(p, '<');
}
[[gnu::always_inline]] inline bool has_dq(const char* p, const Consts&) {
    return has_byte(p, '"');
}

// Candidates are checked inside the block loop (its constants are
// rebuilt or read from memory anyway; a first-letter check lets many through).
constexpr bool kStopsInLoop = true;
// The loop's events are the marks outside quotes (see judge: taking all
// the marks helps AVX-512, not this copy).
constexpr bool kQuickEvents = false;

#include "tailor/html/tag_scanner_simd_walk.inc"

}  // namespace
}  // namespace sse2

// AVX2 (with PCLMULQDQ, which every AVX2 CPU has): two 32-byte lanes, byte
// shuffles for the sets (tables above), constants read from memory.
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,pclmul,bmi"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,pclmul,bmi")
#endif
namespace avx2 {
namespace {

// Bit i = XOR of bits 0..i: a carry-less multiply by all ones.
[[gnu::always_inline]] inline uint64_t prefix_xor(uint64_t x) {
    const __m128i product =
        _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<int64_t>(x)), _mm_set1_epi8(-1), 0);
    return static_cast<uint64_t>(_mm_cvtsi128_si64(product));
}

struct Consts {
    __m256i slot;  // 't' if </tailor-slot matters, else 0 (no lower-cased byte is 0)
    __m256i body;  // 'b' if </body matters
};

[[gnu::always_inline]] inline Consts consts_for(TagInterest interest) {
    return Consts{_mm256_set1_epi8(interest.slot_end ? 't' : '\0'),
                  _mm256_set1_epi8(interest.body_end ? 'b' : '\0')};
}

[[gnu::always_inline]] inline __m256i load(const char* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

[[gnu::always_inline]] inline __m256i konst(const char* splat) {
    return _mm256_load_si256(reinterpret_cast<const __m256i*>(opaque(splat)));
}

// `v` is in the set whose shuffle table is `table`.
[[gnu::always_inline]] inline __m256i in_set(__m256i v, const char* table) {
    return _mm256_cmpeq_epi8(_mm256_shuffle_epi8(konst(table), v), v);
}

[[gnu::always_inline]] inline __m256i is_alpha(__m256i lower) {
    return _mm256_cmpgt_epi8(konst(kSplat.alpha_below),
                             _mm256_add_epi8(lower, konst(kSplat.to_alpha)));
}

struct Half {
    __m256i lt, gt, dq, eq, ws, special, opens, candidates, odd;
};

[[gnu::always_inline]] inline Half classify_half(const char* p, const Consts& k) {
    const __m256i case_bit = konst(kSplat.case_bit);
    const __m256i v = load(p);
    const __m256i v1 = load(p + 1);
    const __m256i l1 = _mm256_or_si256(v1, case_bit);  // letters only stay letters
    const __m256i l2 = _mm256_or_si256(load(p + 2), case_bit);
    Half h;
    h.lt = _mm256_cmpeq_epi8(v, konst(kSplat.lt));
    h.gt = _mm256_cmpeq_epi8(v, konst(kSplat.gt));
    h.dq = _mm256_cmpeq_epi8(v, konst(kSplat.dq));
    h.eq = _mm256_cmpeq_epi8(v, konst(kSplat.eq));
    h.ws = in_set(v, kShuffle.ws);
    const __m256i sq = _mm256_cmpeq_epi8(v, konst(kSplat.sq));
    h.special = _mm256_or_si256(
        _mm256_or_si256(_mm256_or_si256(h.lt, h.gt), _mm256_or_si256(h.dq, sq)),
        _mm256_or_si256(_mm256_or_si256(h.eq, _mm256_cmpeq_epi8(v, konst(kSplat.sl))), h.ws));
    const __m256i slash1 = _mm256_cmpeq_epi8(v1, konst(kSplat.sl));
    h.opens = _mm256_and_si256(
        h.lt, _mm256_or_si256(is_alpha(l1), _mm256_and_si256(slash1, is_alpha(l2))));
    // The first letter only: pairing it with the second in vectors costs
    // more than candidate_needs_tokenizer() does on the few it lets through.
    const __m256i end_tag = _mm256_and_si256(
        slash1, _mm256_or_si256(_mm256_cmpeq_epi8(l2, k.slot), _mm256_cmpeq_epi8(l2, k.body)));
    h.candidates =
        _mm256_and_si256(h.lt, _mm256_or_si256(in_set(l1, kShuffle.first_char), end_tag));
    h.odd = _mm256_or_si256(sq, _mm256_and_si256(h.eq, in_set(v1, kShuffle.ws)));
    return h;
}

[[gnu::always_inline]] inline uint64_t bits(__m256i lo, __m256i hi) {
    return static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(lo))) |
           static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(hi))) << 32;
}

template <bool kEndTags>  // whether an end tag may matter (always checked here)
[[gnu::always_inline]] inline Block classify(const char* p, const Consts& k) {
    const Half lo = classify_half(p, k);
    const Half hi = classify_half(p + 32, k);
    Block b;
    b.lt = bits(lo.lt, hi.lt);
    b.gt = bits(lo.gt, hi.gt);
    b.dq = bits(lo.dq, hi.dq);
    b.eq = bits(lo.eq, hi.eq);
    b.ws = bits(lo.ws, hi.ws);
    b.name = ~bits(lo.special, hi.special);
    b.opens = bits(lo.opens, hi.opens);
    b.candidates = bits(lo.candidates, hi.candidates);
    b.odd = bits(lo.odd, hi.odd);
    b.candidates &= b.opens;
    b.marks = b.opens | b.gt;
    b.tag_stops = b.gt | b.odd | b.candidates;
    return b;
}

[[gnu::always_inline]] inline bool has_byte(const char* p, const char* splat) {
    const __m256i c = konst(splat);
    return !_mm256_testz_si256(
        _mm256_or_si256(_mm256_cmpeq_epi8(load(p), c), _mm256_cmpeq_epi8(load(p + 32), c)),
        _mm256_or_si256(_mm256_cmpeq_epi8(load(p), c), _mm256_cmpeq_epi8(load(p + 32), c)));
}
[[gnu::always_inline]] inline bool has_lt(const char* p, const Consts&) {
    return has_byte(p, kSplat.lt);
}
[[gnu::always_inline]] inline bool has_dq(const char* p, const Consts&) {
    return has_byte(p, kSplat.dq);
}

// Candidates are checked inside the block loop (its constants are
// read from memory anyway; a first-letter check lets many through).
constexpr bool kStopsInLoop = true;
// The loop's events are the marks outside quotes (see judge: taking all
// the marks helps AVX-512, not this copy).
constexpr bool kQuickEvents = false;

#include "tailor/html/tag_scanner_simd_walk.inc"

}  // namespace
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

const char* skip_to_tag_sse2(const char* p, const char* end, TagInterest interest) noexcept {
    return sse2::skip_blocks(p, end, interest);
}

__attribute__((target("avx2,pclmul,bmi"))) const char* skip_to_tag_avx2(
    const char* p, const char* end, TagInterest interest) noexcept {
    return avx2::skip_blocks(p, end, interest);
}

}  // namespace tailor::tag_scan::detail

#endif  // __x86_64__
