// Tag scanner, block scan: classifying 64 bytes at a time with AVX-512 (BW, VBMI).
//
// The AVX-512 copy of the walk (tag_scanner_simd_walk.inc, which explains
// the model), compiled under a target pragma like the AVX2 one in
// tag_scanner_simd.cpp; tag_scanner.cpp calls it only if the CPU has it.
#include "tailor/html/tag_scanner_simd.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "tailor/html/tag_scanner_simd_block.h"

namespace tailor::tag_scan::detail {

// AVX-512BW with VBMI: one 64-byte register per block. The byte classes
// come from table lookups (vpermb, vpermi2b) and are combined bytewise in
// vector registers; a mask is taken only for each bit set the walk reads.
// On Zen 4 the mask side is the narrow one, the operations between mask
// registers most of all: four more korq (and a kandq) per block made the
// product page 12 % slower, four more vptestmb ORed in with korq 14 %,
// four more kmovq ORed in general registers 6 % (tailor_scan_best). The
// constants live in registers for the whole loop.
namespace vbmi {

// Class bits of the bytes below 0x40, looked up at min(byte, 0x3f) ('?',
// 0x3f, is in no class). '<' has three bits, which line up with the bits
// of what may follow it (kAfterLetter, kAfterSlash) and with the three
// groups of names we act on, so that ANDing lookups keeps the '<'s that
// open a tag, or a tag we act on. '"' and '/' share a bit: the walk takes
// '"' from a compare, and '/' only needs to be in some class.
enum : unsigned char {
    kLt = 0x07,
    kGt = 0x08,
    kDqSl = 0x10,
    kSq = 0x20,
    kEq = 0x40,
    kWs = 0x80,
};
// Bits of the byte after, looked up at min(byte, 0x7f): kAfterLetter and
// kAfterSlash meet kLt, kAfterWs meets kEq (an '=' then whitespace, odd).
enum : unsigned char { kAfterLetter = 0x01, kAfterSlash = 0x02, kAfterWs = kEq };
// Bits of the second byte after: kAfterSlash for a letter, so that ANDed
// with the byte after it keeps "/ then a letter"; kAfterLetter always, so
// that it keeps "a letter" whatever follows.
enum : unsigned char { kThenAny = kAfterLetter, kThenLetter = kAfterSlash };

// The group (a bit of kLt) of a name we act on, by its first two letters:
// a candidate's three letters must all match names of one group. With one
// group, <strong>, <small>, <search>, <param> and <path> would match (s-t
// from style, r from script...); with style's and plaintext's apart, of
// the HTML and common SVG elements only <text> does, as with a bit for
// each pair of first letters.
constexpr unsigned char name_group(std::string_view name) {
    return name.substr(0, 2) == "st" ? 0x02 : name.substr(0, 2) == "pl" ? 0x04 : 0x01;
}

struct Tables {
    alignas(64) unsigned char classes[64] = {};
    alignas(64) unsigned char after[128] = {};
    alignas(64) unsigned char then[128] = {};
    // For each of the first three letters of a start tag, the groups of
    // the names we act on that have it there, in either case. The first
    // two are looked up at min(byte, 0x7f), as `after` and `then` are (one
    // index for two lookups), so only a letter finds a name there (the
    // candidates are '<'s that open a tag); the third at the low six bits
    // of byte | 0x20, where a few other bytes look like letters (the scalar
    // check drops them).
    alignas(64) unsigned char first_bits[128] = {};
    alignas(64) unsigned char second_bits[128] = {};
    alignas(64) unsigned char third_bits[64] = {};
    constexpr Tables() {
        classes[static_cast<int>('<')] = kLt;
        classes[static_cast<int>('>')] = kGt;
        classes[static_cast<int>('"')] = kDqSl;
        classes[static_cast<int>('\'')] = kSq;
        classes[static_cast<int>('=')] = kEq;
        classes[static_cast<int>('/')] = kDqSl;
        for (char c : {' ', '\t', '\n', '\f', '\r'}) {
            classes[static_cast<int>(c)] = kWs;
            after[static_cast<int>(c)] = kAfterWs;
        }
        after[static_cast<int>('/')] = kAfterSlash;
        for (int i = 0; i < 128; ++i) {
            const bool letter = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z');
            after[i] = static_cast<unsigned char>(after[i] | (letter ? kAfterLetter : 0));
            then[i] = static_cast<unsigned char>(kThenAny | (letter ? kThenLetter : 0));
        }
        add_name(kSlotTag);
        for (std::string_view raw : kRawNames) {
            add_name(raw);
        }
    }
    constexpr void add_name(std::string_view name) {
        const unsigned char group = name_group(name);
        for (int c : {name[0] & ~0x20, name[0] | 0x20}) {
            first_bits[c] |= group;
        }
        for (int c : {name[1] & ~0x20, name[1] | 0x20}) {
            second_bits[c] |= group;
        }
        third_bits[name[2] & 63] |= group;
    }
};
constexpr Tables kTables;

}  // namespace vbmi

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vbmi,pclmul,bmi"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vbmi,pclmul,bmi")
#endif
namespace avx512 {
namespace {

using namespace vbmi;

[[gnu::always_inline]] inline uint64_t prefix_xor(uint64_t x) {
    const __m128i product =
        _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<int64_t>(x)), _mm_set1_epi8(-1), 0);
    return static_cast<uint64_t>(_mm_cvtsi128_si64(product));
}

// Hidden from the optimizer, so it keeps the value in a register instead
// of rebuilding the constant in every block.
[[gnu::always_inline]] inline __m512i kept(__m512i x) {
    asm("" : "+v"(x));
    return x;
}

// A mask, moved to a general register here. g++ would otherwise fold the
// AND that judge() applies to `eq` into a masked vptestmb late in the
// block, moving the other operand into a mask register and back.
[[gnu::always_inline]] inline uint64_t in_gpr(__mmask64 m) {
    uint64_t x = _cvtmask64_u64(m);
    asm("" : "+r"(x));
    return x;
}

[[gnu::always_inline]] inline __m512i table(const unsigned char* t) {
    return kept(_mm512_load_si512(t));
}

[[gnu::always_inline]] inline __m512i splat(unsigned char c) {
    return kept(_mm512_set1_epi8(static_cast<char>(c)));
}

struct Consts {
    __m512i classes, after_lo, after_hi, then_lo, then_hi;
    __m512i first_lo, first_hi, second_lo, second_hi, third_bits;
    __m512i below_classes, ascii, lt, dq, gt_bit, eq_bit, ws_bit, after_ws, gt_sq, sq_bit, sl;
    __m512i case_bit;
    __m512i slot;     // 't' if </tailor-slot matters, else 0 (no lower-cased byte is 0)
    __m512i body;     // 'b' if </body matters
    __m512i after_t;  // 'a': </ta(ilor-slot
    __m512i after_b;  // 'o': </bo(dy
};

[[gnu::always_inline]] inline Consts consts_for(TagInterest interest) {
    return Consts{table(kTables.classes),
                  table(kTables.after),
                  table(kTables.after + 64),
                  table(kTables.then),
                  table(kTables.then + 64),
                  table(kTables.first_bits),
                  table(kTables.first_bits + 64),
                  table(kTables.second_bits),
                  table(kTables.second_bits + 64),
                  table(kTables.third_bits),
                  splat(0x3f),
                  splat(0x7f),
                  splat('<'),
                  splat('"'),
                  splat(kGt),
                  splat(kEq),
                  splat(kWs),
                  splat(kAfterWs),
                  splat(kGt | kSq),
                  splat(kSq),
                  splat('/'),
                  splat(0x20),
                  splat(interest.slot_end ? 't' : '\0'),
                  splat(interest.body_end ? 'b' : '\0'),
                  splat(kSlotTag[1]),
                  splat(kBodyTag[1])};
}

[[gnu::always_inline]] inline __m512i load(const char* p) {
    return _mm512_loadu_si512(p);
}

// vpermb: the entries of `table` at the low six bits of each byte of `index`.
// (The maskz form with every bit set is plain vpermb; GCC warns on the
// unmasked intrinsic's undefined fill.)
[[gnu::always_inline]] inline __m512i lookup(__m512i index, __m512i table) {
    return _mm512_maskz_permutexvar_epi8(~__mmask64{0}, index, table);
}

[[gnu::always_inline]] inline bool has_lt(const char* p, const Consts& k) {
    return _mm512_cmpeq_epi8_mask(load(p), k.lt) != 0;
}

[[gnu::always_inline]] inline bool has_dq(const char* p, const Consts& k) {
    return _mm512_cmpeq_epi8_mask(load(p), k.dq) != 0;
}

// vpermi2b: the entries of the 128-byte table (lo, hi) at `index`, a
// byte below 0x80.
[[gnu::always_inline]] inline __m512i lookup128(__m512i index, __m512i lo, __m512i hi) {
    return _mm512_permutex2var_epi8(lo, index, hi);
}

// vpternlogd immediates, from the operands' truth columns 0xf0, 0xcc, 0xaa.
constexpr int kAAndBOrC = (0xf0 & 0xcc) | 0xaa;
constexpr int kAAndBAndC = 0xf0 & 0xcc & 0xaa;

template <bool kEndTags>
[[gnu::always_inline]] inline Block classify(const char* p, const Consts& k) {
    const __m512i v = load(p);
    const __m512i v1 = load(p + 1);
    const __m512i v2 = load(p + 2);
    const __m512i cls = lookup(_mm512_min_epu8(v, k.below_classes), k.classes);
    const __m512i ascii1 = _mm512_min_epu8(v1, k.ascii);
    const __m512i ascii2 = _mm512_min_epu8(v2, k.ascii);
    const __m512i after = lookup128(ascii1, k.after_lo, k.after_hi);
    const __m512i then = lookup128(ascii2, k.then_lo, k.then_hi);
    // Per byte: kLt's bits where a letter, or '/' then a letter, follows.
    const __m512i open_bits = _mm512_and_si512(after, then);
    const __mmask64 lt = _mm512_cmpeq_epi8_mask(v, k.lt);
    Block b;
    b.lt = lt;
    b.dq = _mm512_cmpeq_epi8_mask(v, k.dq);
    b.gt = _mm512_test_epi8_mask(cls, k.gt_bit);
    b.eq = in_gpr(_mm512_test_epi8_mask(cls, k.eq_bit));
    b.ws = _mm512_test_epi8_mask(cls, k.ws_bit);
    b.name = _mm512_testn_epi8_mask(cls, cls);
    b.opens = _mm512_test_epi8_mask(cls, open_bits);
    b.marks =
        _mm512_test_epi8_mask(cls, _mm512_ternarylogic_epi32(then, after, k.gt_bit, kAAndBOrC));
    // A '\'', or an '=' then whitespace.
    b.odd = _mm512_test_epi8_mask(
        cls, _mm512_ternarylogic_epi32(after, k.after_ws, k.sq_bit, kAAndBOrC));
    // Start tags by their first three letters (the first exactly, so only
    // '<'s that open a tag pass).
    const __m512i l3 = _mm512_or_si512(load(p + 3), k.case_bit);
    const __m512i name_bits = _mm512_ternarylogic_epi32(lookup128(ascii1, k.first_lo, k.first_hi),
                                                        lookup128(ascii2, k.second_lo, k.second_hi),
                                                        lookup(l3, k.third_bits), kAAndBAndC);
    uint64_t candidates = _mm512_test_epi8_mask(cls, name_bits);
    uint64_t end_candidates = 0;
    if (kEndTags) {
        const __m512i l2 = _mm512_or_si512(v2, k.case_bit);
        const __mmask64 slash1 = _mm512_mask_cmpeq_epi8_mask(lt, v1, k.sl);
        end_candidates =
            _kor_mask64(_mm512_mask_cmpeq_epi8_mask(_mm512_mask_cmpeq_epi8_mask(slash1, l2, k.slot),
                                                    l3, k.after_t),
                        _mm512_mask_cmpeq_epi8_mask(_mm512_mask_cmpeq_epi8_mask(slash1, l2, k.body),
                                                    l3, k.after_b));
    }
    b.candidates = candidates | end_candidates;
    // '>', '\'', '=' then whitespace, and the candidates for start tags: one
    // mask (the end tags' join it in a general register: an OR there is
    // cheaper than korq).
    b.tag_stops = _mm512_test_epi8_mask(
                      cls, _mm512_or_si512(name_bits, _mm512_ternarylogic_epi32(
                                                          after, k.after_ws, k.gt_sq, kAAndBOrC))) |
                  end_candidates;
    return b;
}

// Candidates (few, with three letters checked) leave the block loop, so
// no call clobbers the constants it keeps in vector registers.
constexpr bool kStopsInLoop = false;
// The loop takes all the marks for its events (see judge).
constexpr bool kQuickEvents = true;

#include "tailor/html/tag_scanner_simd_walk.inc"

}  // namespace
}  // namespace avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

__attribute__((target("avx512f,avx512bw,avx512vbmi,pclmul,bmi"))) const char* skip_to_tag_avx512(
    const char* p, const char* end, TagInterest interest) noexcept {
    return avx512::skip_blocks(p, end, interest);
}

}  // namespace tailor::tag_scan::detail

#endif  // __x86_64__
