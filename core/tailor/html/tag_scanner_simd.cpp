// Tag scanner, block scan: classifying 64 bytes at a time with SSE2, AVX2 or AVX-512 (BW, VBMI).
//
// Each instruction set gets a `classify` and its own copy of the walk
// (tag_scanner_simd_walk.inc, which explains the model). The AVX2 and
// AVX-512 copies are compiled under target pragmas rather than with -mavx2
// for the file, so nothing else in the module is built for them and the
// module still loads on any x86-64; tag_scanner.cpp calls them only if the
// CPU has them.
#include "tailor/html/tag_scanner_simd.h"

#if defined(__x86_64__)

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tailor::tag_scan::detail {
namespace {

// One 64-byte block's classes; bit i is byte i. The last three look at the
// bytes after byte i (up to kReadAhead past the block).
struct Block {
    uint64_t lone;        // '<' followed by no letter nor by '/' and a letter: opens no tag
    uint64_t gt;          // '>'
    uint64_t dq;          // '"'
    uint64_t eq;          // '='
    uint64_t ws;          // HTML whitespace
    uint64_t special;     // any of < > " ' = / and whitespace: not an attribute name byte
    uint64_t opens;       // '<' then a letter, or "</" then a letter
    uint64_t candidates;  // of those, the ones followed by the first letters of a start tag
                          // we act on, or by those of an end tag of interest
    uint64_t odd;         // '\'', or '=' then whitespace: what the model rejects in a tag
};
constexpr size_t kReadAhead = 3;

// For the first letter of a name (lower case), the second letters (bit
// n: 'a' + n) of the names we act on: start tags, and the end tags
// </tailor-slot and </body. The scalar check of a candidate.
struct SecondLetters {
    uint32_t start[256] = {};
    uint32_t end[256] = {};
    constexpr SecondLetters() {
        add(start, kSlotTag);
        for (std::string_view raw : kRawNames) {
            add(start, raw);
        }
        add(end, kSlotTag);
        add(end, kBodyTag);
    }
    static constexpr void add(uint32_t* table, std::string_view name) {
        table[static_cast<unsigned char>(name[0])] |= 1u << (name[1] - 'a');
    }
};
constexpr SecondLetters kSecondLetters;
constexpr const uint32_t* kStartSecond = kSecondLetters.start;
constexpr const uint32_t* kEndSecond = kSecondLetters.end;

// Byte-shuffle tables, 16 entries repeated per 16-byte lane: a byte is in a
// set if it equals the set's entry at its low nibble (the byte shuffle
// gives 0 for bytes >= 0x80). Unused entries are 0, which no byte tested
// against them equals (only bytes >= 0x20 are tested, or those whose low
// nibble is not 0). For the two-letter check of start-tag names, each
// first letter gets a bit; a second letter's entry holds the bits of the
// first letters it follows in some name.
struct ShuffleTables {
    alignas(64) char ws[64] = {};          // ' ' \t \n \f \r
    alignas(64) char first_char[64] = {};  // first letters of start-tag names we act on
    alignas(64) char first_bit[64] = {};
    alignas(64) char second_char[64] = {};  // their second letters
    alignas(64) char second_bits[64] = {};
    bool clash = false;  // two bytes of one set share a low nibble
    constexpr ShuffleTables() {
        for (char c : {' ', '\t', '\n', '\f', '\r'}) {
            put(ws, c);
        }
        int bits = 0;
        add_name(kSlotTag, bits);
        for (std::string_view raw : kRawNames) {
            add_name(raw, bits);
        }
    }
    constexpr void put(char* table, char c) {
        const int i = c & 15;
        clash = clash || (table[i] != 0 && table[i] != c);
        for (int lane = 0; lane < 64; lane += 16) {
            table[lane + i] = c;
        }
    }
    constexpr void add_name(std::string_view name, int& bits) {
        const int f = name[0] & 15;
        if (first_char[f] == 0) {
            put(first_char, name[0]);
            for (int lane = 0; lane < 64; lane += 16) {
                first_bit[lane + f] = static_cast<char>(1 << bits);
            }
            ++bits;
        }
        put(second_char, name[1]);
        for (int lane = 0; lane < 64; lane += 16) {
            second_bits[lane + (name[1] & 15)] |= first_bit[f];
        }
    }
};
constexpr ShuffleTables kShuffle;
static_assert(!kShuffle.clash, "a byte-shuffle set needs distinct low nibbles");

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
        b.lone |= bits(lt, lane);
        b.gt |= bits(is(v, '>'), lane);
        b.dq |= bits(is(v, '"'), lane);
        b.eq |= bits(eq, lane);
        b.ws |= bits(ws, lane);
        b.special |= bits(
            _mm_or_si128(_mm_or_si128(_mm_or_si128(lt, is(v, '>')), _mm_or_si128(is(v, '"'), sq)),
                         _mm_or_si128(_mm_or_si128(eq, is(v, '/')), ws)),
            lane);
        b.opens |=
            bits(_mm_and_si128(lt, _mm_or_si128(is_alpha(l1), _mm_and_si128(slash1, is_alpha(l2)))),
                 lane);
        b.candidates |= bits(_mm_and_si128(lt, _mm_or_si128(first, end_tag)), lane);
        b.odd |= bits(_mm_or_si128(sq, _mm_and_si128(eq, is_ws(v1))), lane);
    }
    b.lone &= ~b.opens;
    b.candidates &= b.opens;
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
    b.lone = bits(lo.lt, hi.lt);
    b.gt = bits(lo.gt, hi.gt);
    b.dq = bits(lo.dq, hi.dq);
    b.eq = bits(lo.eq, hi.eq);
    b.ws = bits(lo.ws, hi.ws);
    b.special = bits(lo.special, hi.special);
    b.opens = bits(lo.opens, hi.opens);
    b.candidates = bits(lo.candidates, hi.candidates);
    b.odd = bits(lo.odd, hi.odd);
    b.lone &= ~b.opens;
    b.candidates &= b.opens;
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

#include "tailor/html/tag_scanner_simd_walk.inc"

}  // namespace
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

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
    b.gt = _mm512_test_epi8_mask(cls, k.gt_bit);
    b.eq = _mm512_test_epi8_mask(cls, k.eq_bit);
    b.ws = _mm512_test_epi8_mask(cls, k.ws_bit);
    b.special = _mm512_test_epi8_mask(cls, cls);
    const __mmask64 slash1 = _mm512_mask_cmpeq_epi8_mask(lt, v1, k.sl);
    const __mmask64 opens = _kor_mask64(is_alpha(lt, l1, k), is_alpha(slash1, l2, k));
    b.opens = _cvtmask64_u64(opens);
    b.lone = _cvtmask64_u64(_kandn_mask64(opens, lt));
    // Start tags by their first three letters (vpermb reads the low six
    // bits; the scalar check drops the few look-alikes left).
    const __m512i l3 = _mm512_or_si512(load(p + 3), k.case_bit);
    b.candidates = _mm512_mask_test_epi8_mask(
        opens, _mm512_and_si512(lookup(l1, k.first_bits), lookup(l2, k.second_bits)),
        lookup(l3, k.third_bits));
    if (kEndTags) {
        b.candidates |= _mm512_mask_cmpeq_epi8_mask(_mm512_mask_cmpeq_epi8_mask(slash1, l2, k.slot),
                                                    l3, k.after_t) |
                        _mm512_mask_cmpeq_epi8_mask(_mm512_mask_cmpeq_epi8_mask(slash1, l2, k.body),
                                                    l3, k.after_b);
    }
    b.odd = _mm512_test_epi8_mask(cls, k.sq_bit) |
            _mm512_mask_cmpeq_epi8_mask(b.eq, _mm512_shuffle_epi8(k.ws_table, v1), v1);
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

const char* skip_to_tag_sse2(const char* p, const char* end, TagInterest interest) noexcept {
    return sse2::skip_blocks(p, end, interest);
}

__attribute__((target("avx2,pclmul,bmi"))) const char* skip_to_tag_avx2(
    const char* p, const char* end, TagInterest interest) noexcept {
    return avx2::skip_blocks(p, end, interest);
}

__attribute__((target("avx512f,avx512bw,avx512vbmi,pclmul,bmi"))) const char* skip_to_tag_avx512(
    const char* p, const char* end, TagInterest interest) noexcept {
    return avx512::skip_blocks(p, end, interest);
}

}  // namespace tailor::tag_scan::detail

#endif  // __x86_64__
