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

// AVX-512BW with VBMI: one 64-byte register per block; compares give the
// 64-bit masks directly, and masked compares AND them on the way. The byte
// classes come from one 64-entry table lookup (vpermb) over the bytes below
// 0x40, where every byte the model names lives; the first two letters of a
// name from two more. The constants live in registers for the whole loop.
namespace vbmi {

// Class bits of the bytes below 0x40.
enum : char { kLt = 1, kGt = 2, kDq = 4, kSq = 8, kEq = 16, kSl = 32, kWs = 64 };

struct Tables {
    alignas(64) char classes[64] = {};
    // Indexed by a lower-cased letter's low six bits: for each of the first
    // three letters of a start tag, the names we act on (a bit each) that
    // have it there. Names that share their first two letters share a bit;
    // past eight bits they wrap (a shared bit only lets more candidates
    // through to the scalar check).
    alignas(64) char first_bits[64] = {};
    alignas(64) char second_bits[64] = {};
    alignas(64) char third_bits[64] = {};
    std::string_view keys[16] = {};
    int key_count = 0;
    constexpr Tables() {
        classes[static_cast<int>('<')] = kLt;
        classes[static_cast<int>('>')] = kGt;
        classes[static_cast<int>('"')] = kDq;
        classes[static_cast<int>('\'')] = kSq;
        classes[static_cast<int>('=')] = kEq;
        classes[static_cast<int>('/')] = kSl;
        for (char c : {' ', '\t', '\n', '\f', '\r'}) {
            classes[static_cast<int>(c)] = kWs;
        }
        add_name(kSlotTag);
        for (std::string_view raw : kRawNames) {
            add_name(raw);
        }
    }
    constexpr void add_name(std::string_view name) {
        int key = 0;
        while (key < key_count && keys[key] != name.substr(0, 2)) {
            ++key;
        }
        if (key == key_count) {
            keys[key_count++] = name.substr(0, 2);
        }
        const char bit = static_cast<char>(1 << (key % 8));
        for (int i = 0; i < 3; ++i) {
            char* t = i == 0 ? first_bits : i == 1 ? second_bits : third_bits;
            t[name[i] & 63] = static_cast<char>(t[name[i] & 63] | bit);
        }
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

[[gnu::always_inline]] inline __m512i table(const char* t) {
    return kept(_mm512_load_si512(t));
}

struct Consts {
    __m512i classes, first_bits, second_bits, third_bits, ws_table;
    __m512i below_classes, lt, dq, gt_bit, eq_bit, sq_bit, ws_bit, sl;
    __m512i case_bit, a, letters;
    __m512i slot;     // 't' if </tailor-slot matters, else 0 (no lower-cased byte is 0)
    __m512i body;     // 'b' if </body matters
    __m512i after_t;  // 'a': </ta(ilor-slot
    __m512i after_b;  // 'o': </bo(dy
};

[[gnu::always_inline]] inline Consts consts_for(TagInterest interest) {
    return Consts{table(kTables.classes),
                  table(kTables.first_bits),
                  table(kTables.second_bits),
                  table(kTables.third_bits),
                  table(kShuffle.ws),
                  kept(_mm512_set1_epi8(0x40)),
                  kept(_mm512_set1_epi8('<')),
                  kept(_mm512_set1_epi8('"')),
                  kept(_mm512_set1_epi8(kGt)),
                  kept(_mm512_set1_epi8(kEq)),
                  kept(_mm512_set1_epi8(kSq)),
                  kept(_mm512_set1_epi8(kWs)),
                  kept(_mm512_set1_epi8('/')),
                  kept(_mm512_set1_epi8(0x20)),
                  kept(_mm512_set1_epi8('a')),
                  kept(_mm512_set1_epi8(26)),
                  kept(_mm512_set1_epi8(interest.slot_end ? 't' : '\0')),
                  kept(_mm512_set1_epi8(interest.body_end ? 'b' : '\0')),
                  kept(_mm512_set1_epi8(kSlotTag[1])),
                  kept(_mm512_set1_epi8(kBodyTag[1]))};
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

[[gnu::always_inline]] inline __mmask64 is_alpha(__mmask64 where, __m512i lower, const Consts& k) {
    return _mm512_mask_cmplt_epu8_mask(where, _mm512_sub_epi8(lower, k.a), k.letters);
}

template <bool kEndTags>
[[gnu::always_inline]] inline Block classify(const char* p, const Consts& k) {
    const __m512i v = load(p);
    const __m512i v1 = load(p + 1);
    const __m512i l1 = _mm512_or_si512(v1, k.case_bit);  // letters only stay letters
    const __m512i l2 = _mm512_or_si512(load(p + 2), k.case_bit);
    const __m512i cls =
        _mm512_maskz_permutexvar_epi8(_mm512_cmplt_epu8_mask(v, k.below_classes), v, k.classes);
    Block b;
    const __mmask64 lt = _mm512_cmpeq_epi8_mask(v, k.lt);
    b.dq = _mm512_cmpeq_epi8_mask(v, k.dq);
    const __mmask64 gt = _mm512_test_epi8_mask(cls, k.gt_bit);
    b.gt = gt;
    b.eq = _mm512_test_epi8_mask(cls, k.eq_bit);
    b.ws = _mm512_test_epi8_mask(cls, k.ws_bit);
    b.name = _mm512_testn_epi8_mask(cls, cls);
    const __mmask64 slash1 = _mm512_mask_cmpeq_epi8_mask(lt, v1, k.sl);
    const __mmask64 opens = _kor_mask64(is_alpha(lt, l1, k), is_alpha(slash1, l2, k));
    b.opens = _cvtmask64_u64(opens);
    b.lt = _cvtmask64_u64(lt);
    // Start tags by their first three letters (vpermb reads the low six
    // bits; the scalar check drops the few look-alikes left).
    const __m512i l3 = _mm512_or_si512(load(p + 3), k.case_bit);
    __mmask64 candidates = _mm512_mask_test_epi8_mask(
        opens, _mm512_and_si512(lookup(l1, k.first_bits), lookup(l2, k.second_bits)),
        lookup(l3, k.third_bits));
    if (kEndTags) {
        candidates = _kor_mask64(
            candidates,
            _kor_mask64(_mm512_mask_cmpeq_epi8_mask(_mm512_mask_cmpeq_epi8_mask(slash1, l2, k.slot),
                                                    l3, k.after_t),
                        _mm512_mask_cmpeq_epi8_mask(_mm512_mask_cmpeq_epi8_mask(slash1, l2, k.body),
                                                    l3, k.after_b)));
    }
    const __mmask64 odd =
        _kor_mask64(_mm512_test_epi8_mask(cls, k.sq_bit),
                    _mm512_mask_cmpeq_epi8_mask(b.eq, _mm512_shuffle_epi8(k.ws_table, v1), v1));
    b.candidates = candidates;
    b.odd = odd;
    b.marks = _kor_mask64(opens, gt);
    b.tag_stops = _kor_mask64(_kor_mask64(gt, odd), candidates);
    return b;
}

// Candidates (few, with three letters checked) leave the block loop, so
// no call clobbers the constants it keeps in vector registers.
constexpr bool kStopsInLoop = false;

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
