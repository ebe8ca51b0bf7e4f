// Tag scanner: the scalar walk over text and boring tags, and the choice of path (see
// tag_scanner.h).
#include "tailor/html/tag_scanner.h"

#include <atomic>
#include <cstring>

#include "tailor/html/tag_scanner_simd.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tailor::tag_scan {
namespace {

// Byte classes for the fast path, one table lookup per byte.
enum : uint8_t {
    kClassWs = 1,
    kClassTagNameEnd = 2,
    kClassAttrNameEnd = 4,
    kClassUnquotedEnd = 8,
    kClassTagStop = 16,  // '>', '"', '\'', '=': where the fast tag walk looks closer
};
struct ByteClasses {
    uint8_t of[256] = {};
    constexpr ByteClasses() {
        for (unsigned c : {' ', '\n', '\t', '\r', '\f'}) {
            of[c] = kClassWs | kClassTagNameEnd | kClassAttrNameEnd | kClassUnquotedEnd;
        }
        of[static_cast<unsigned char>('>')] =
            kClassTagNameEnd | kClassAttrNameEnd | kClassUnquotedEnd | kClassTagStop;
        of[static_cast<unsigned char>('/')] = kClassTagNameEnd | kClassAttrNameEnd;
        of[static_cast<unsigned char>('=')] = kClassAttrNameEnd | kClassTagStop;
        of[static_cast<unsigned char>('"')] = kClassTagStop;
        of[static_cast<unsigned char>('\'')] = kClassTagStop;
    }
};
constexpr ByteClasses kBytes;
inline bool has_class(char c, uint8_t cls) {
    return (kBytes.of[static_cast<unsigned char>(c)] & cls) != 0;
}

// find_byte: memchr tuned for the short gaps of HTML (text between tags,
// attribute values: tens of bytes). The first 64 bytes are searched inline
// with SSE2, which saves memchr's call and setup on every tag; longer runs
// (scripts, styles, long text) go to memchr's wider loop.
inline const char* find_byte(const char* p, const char* end, char c) {
#if defined(__SSE2__)
    const __m128i needle = _mm_set1_epi8(c);
    for (int block = 0; block < 4 && end - p >= 16; ++block, p += 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(bytes, needle));
        if (mask != 0) {
            return p + __builtin_ctz(static_cast<unsigned>(mask));
        }
    }
    if (end - p < 16) {
        for (; p < end; ++p) {
            if (*p == c) {
                return p;
            }
        }
        return nullptr;
    }
#endif
    return static_cast<const char*>(std::memchr(p, c, static_cast<size_t>(end - p)));
}

// find_class: the first byte at or after `p` in one of the classes `cls`,
// or `end`. Unrolled by four so most bytes cost a load, a test and a
// branch. (SIMD searches ran fewer instructions but more cycles here: tag
// and attribute names are short, and a data-dependent search result delays
// the next one, where a predicted byte loop does not.)
inline const char* find_class(const char* p, const char* end, uint8_t cls) {
    for (; end - p >= 4; p += 4) {
        if (has_class(p[0], cls)) {
            return p;
        }
        if (has_class(p[1], cls)) {
            return p + 1;
        }
        if (has_class(p[2], cls)) {
            return p + 2;
        }
        if (has_class(p[3], cls)) {
            return p + 3;
        }
    }
    while (p < end && !has_class(*p, cls)) {
        ++p;
    }
    return p;
}

// find_tag_stop: the first '>', '"', '\'' or '=' at or after `p`, or null.
inline const char* find_tag_stop(const char* p, const char* end) {
    p = find_class(p, end, kClassTagStop);
    return p == end ? nullptr : p;
}

// For each first letter, the lengths (as bits) of the start-tag names we act
// on; one lookup rejects span, section, strong, img, input, p and the rest.
struct NameGate {
    uint32_t lengths[256] = {};
    constexpr void add(char first, size_t n) {
        lengths[static_cast<unsigned char>(first)] |= 1u << n;
        lengths[static_cast<unsigned char>(first - 'a' + 'A')] |= 1u << n;
    }
    constexpr NameGate() {
        add('t', kSlotTag.size());
        for (std::string_view raw : kRawNames) {
            add(raw[0], raw.size());
        }
    }
};
constexpr NameGate kStartGate;

// ASCII case-insensitive `p[0..lit.size())` == `lit`; `lit` is lower case.
inline bool equals_lower(const char* p, std::string_view lit) {
    for (size_t i = 0; i < lit.size(); ++i) {
        if (ascii_lower(static_cast<unsigned char>(p[i])) != lit[i]) {
            return false;
        }
    }
    return true;
}

// Whether the tag whose name is `name[0..n)` needs the tokenizer.
inline bool name_matters(const char* name, size_t n, bool end_tag, TagInterest interest) {
    const char first = ascii_lower(static_cast<unsigned char>(name[0]));
    if (end_tag) {
        return (first == 't' && n == kSlotTag.size() && interest.slot_end &&
                equals_lower(name, kSlotTag)) ||
               (first == 'b' && n == kBodyTag.size() && interest.body_end &&
                equals_lower(name, kBodyTag));
    }
    if (n >= 32 || (kStartGate.lengths[static_cast<unsigned char>(first)] & (1u << n)) == 0) {
        return false;
    }
    if (n == kSlotTag.size()) {
        return equals_lower(name, kSlotTag);
    }
    for (std::string_view raw : kRawNames) {
        if (raw.size() == n && raw[0] == first && equals_lower(name, raw)) {
            return true;
        }
    }
    return false;
}

// The exact walk over a boring tag's attributes, from `s` in the state
// "before attribute name" (also: on the whitespace or '/' that ended the
// tag name, or just after a quoted value). Returns the byte after the tag's
// '>', or null if the chunk ends first.
const char* skip_attributes(const char* s, const char* end) noexcept {
    for (;;) {
        // before attribute name (also after a quoted value)
        while (s < end && has_class(*s, kClassWs)) {
            ++s;
        }
        if (s == end) {
            return nullptr;
        }
        if (*s == '>') {
            return s + 1;
        }
        if (*s == '/') {  // self-closing start: '>' ends, anything else is rescanned
            if (++s == end) {
                return nullptr;
            }
            if (*s == '>') {
                return s + 1;
            }
            continue;
        }
        // attribute name; its first byte may be '=' or a quote
        s = find_class(s + 1, end, kClassAttrNameEnd);
        while (s < end && has_class(*s, kClassWs)) {
            ++s;
        }
        if (s == end) {
            return nullptr;
        }
        if (*s == '>') {
            return s + 1;
        }
        if (*s != '=') {
            continue;  // '/' or the next attribute's name
        }
        // before attribute value
        ++s;
        while (s < end && has_class(*s, kClassWs)) {
            ++s;
        }
        if (s == end) {
            return nullptr;
        }
        const char c = *s;
        if (c == '"' || c == '\'') {
            const char* q = find_byte(s + 1, end, c);
            if (q == nullptr) {
                return nullptr;
            }
            s = q + 1;
            continue;
        }
        s = find_class(s, end, kClassUnquotedEnd);
        if (s == end) {
            return nullptr;
        }
        if (*s == '>') {
            return s + 1;
        }
    }
}

// The end of the name of the tag at `lt` when it is a boring one (a start or
// end tag whose name is complete in the buffer and does not matter to the
// tokenizer), else nullptr.
__attribute__((always_inline)) inline const char* boring_tag_name_end(const char* lt,
                                                                      const char* end,
                                                                      TagInterest interest) {
    const char* s = lt + 1;
    bool end_tag = false;
    if (s < end && *s == '/') {
        end_tag = true;
        ++s;
    }
    if (s >= end || !is_ascii_alpha(static_cast<unsigned char>(*s))) {
        return nullptr;
    }
    const char* name = s;
    s = find_class(s + 1, end, kClassTagNameEnd);
    if (s == end || name_matters(name, static_cast<size_t>(s - name), end_tag, interest)) {
        return nullptr;
    }
    return s;
}

// The fast path: given the '<' at `lt`, walks a whole start or end tag that
// needs no action and returns the byte after its '>'. Returns null, having
// changed nothing, for anything else (a tag we act on, a comment, text, or a
// tag cut by the chunk's end); run() then takes it byte by byte.
//
// Inside the tag only '>', the quotes and '=' can change where it ends, so
// it jumps from one to the next (find_tag_stop). With no '=' or quote since
// the last point where the state is known (the end of the name, a closing
// quote, the end of an unquoted value), the tokenizer can only be before,
// in or after an attribute name there, where '>' ends the tag; and an '='
// right after a name byte (not whitespace, '/' or a control byte) is that
// attribute's '=', so a quote right after it opens its value. Anything else
// ("a = 'b'", a quote in a name, "==") goes to skip_attributes from the
// last known point, which follows the standard's states byte by byte.
__attribute__((always_inline)) inline const char* skip_boring_tag(const char* lt, const char* end,
                                                                  TagInterest interest) {
    const char* s = boring_tag_name_end(lt, end, interest);
    if (s == nullptr) {
        return nullptr;
    }
    if (*s == '>') {
        return s + 1;
    }
    for (;;) {
        // `s`: a known point (see above); the byte at `s` is not '>'.
        const char* x = find_tag_stop(s, end);
        if (x == nullptr) {
            return nullptr;
        }
        if (*x == '>') {
            return x + 1;
        }
        if (*x != '=' || x == s || static_cast<unsigned char>(x[-1]) <= 0x20 || x[-1] == '/') {
            return skip_attributes(s, end);
        }
        const char* v = x + 1;  // before attribute value
        if (v == end) {
            return nullptr;
        }
        const char c = *v;
        if (c == '"' || c == '\'') {
            const char* q = find_byte(v + 1, end, c);
            if (q == nullptr) {
                return nullptr;
            }
            s = q + 1;  // after attribute value (quoted)
            continue;
        }
        if (c == '>') {
            return v + 1;
        }
        if (has_class(c, kClassWs)) {
            return skip_attributes(s, end);
        }
        s = find_class(v + 1, end, kClassUnquotedEnd);
        if (s == end) {
            return nullptr;
        }
        if (*s == '>') {
            return s + 1;
        }
        // whitespace after an unquoted value: before attribute name
    }
}

const char* skip_to_tag_scalar(const char* p, const char* end, TagInterest interest) noexcept {
    for (;;) {
        const char* lt = find_byte(p, end, '<');
        if (lt == nullptr) {
            return nullptr;
        }
        const char* after = skip_boring_tag(lt, end, interest);
        if (after == nullptr) {
            return lt;
        }
        p = after;
    }
}

using ScanFn = const char* (*)(const char*, const char*, TagInterest) noexcept;

ScanFn scan_fn(ScanPath path) noexcept {
    switch (path) {
#if defined(__x86_64__)
        case ScanPath::kSse2:
            return &detail::skip_to_tag_sse2;
        case ScanPath::kAvx2:
            return &detail::skip_to_tag_avx2;
        case ScanPath::kAvx512:
            return &detail::skip_to_tag_avx512;
#endif
        default:
            return &skip_to_tag_scalar;
    }
}

// The path in use. It starts as a stub that picks the best path on the
// first scan, so no static initializer runs before main() and a scan from
// another static initializer still works. A relaxed load is a plain load.
const char* pick_and_scan(const char* p, const char* end, TagInterest interest) noexcept;
std::atomic<ScanFn> g_scan{&pick_and_scan};

const char* pick_and_scan(const char* p, const char* end, TagInterest interest) noexcept {
    const ScanFn fn = scan_fn(best_path());
    g_scan.store(fn, std::memory_order_relaxed);
    return fn(p, end, interest);
}

}  // namespace

const char* skip_to_tag(const char* p, const char* end, TagInterest interest) noexcept {
    return g_scan.load(std::memory_order_relaxed)(p, end, interest);
}

bool path_supported(ScanPath path) noexcept {
    switch (path) {
        case ScanPath::kScalar:
            return true;
#if defined(__x86_64__)
        case ScanPath::kSse2:
            return true;  // part of x86-64
        case ScanPath::kAvx2:
            __builtin_cpu_init();  // may run before the constructors that would call it
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") &&
                   __builtin_cpu_supports("bmi");
        case ScanPath::kAvx512:
            __builtin_cpu_init();
            return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi") &&
                   __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("bmi");
#endif
        default:
            return false;
    }
}

ScanPath best_path() noexcept {
#if defined(__x86_64__)
    // 512-bit integer work lowers the clock of older AVX-512 CPUs (Skylake
    // servers) for everything else the worker does; from Ice Lake and Zen 4
    // on (both have VBMI2) it does not.
    __builtin_cpu_init();
    if (path_supported(ScanPath::kAvx512) && __builtin_cpu_supports("avx512vbmi2")) {
        return ScanPath::kAvx512;
    }
#endif
    // SSE2 alone classifies too slowly to beat the scalar walk
    // (docs/benchmarks.md); it stays as the tested baseline of the block scan.
    return path_supported(ScanPath::kAvx2) ? ScanPath::kAvx2 : ScanPath::kScalar;
}

ScanPath active_path() noexcept {
    const ScanFn fn = g_scan.load(std::memory_order_relaxed);
    for (ScanPath path : {ScanPath::kAvx512, ScanPath::kAvx2, ScanPath::kSse2, ScanPath::kScalar}) {
        if (path_supported(path) && fn == scan_fn(path)) {
            return path;
        }
    }
    return best_path();  // not picked yet
}

bool set_active_path(ScanPath path) noexcept {
    if (!path_supported(path)) {
        return false;
    }
    g_scan.store(scan_fn(path), std::memory_order_relaxed);
    return true;
}

const char* skip_to_tag_on(ScanPath path, const char* p, const char* end,
                           TagInterest interest) noexcept {
    return scan_fn(path_supported(path) ? path : ScanPath::kScalar)(p, end, interest);
}

namespace detail {

bool start_needs_tokenizer(const char* lt, const char* end, TagInterest interest) noexcept {
    return boring_tag_name_end(lt, end, interest) == nullptr;
}

const char* walk_until(const char* q, const char* until, const char* end, TagInterest interest,
                       bool* done) noexcept {
    *done = true;
    while (q < until) {
        const char* lt = find_byte(q, end, '<');
        if (lt == nullptr) {
            return nullptr;
        }
        const char* after = skip_boring_tag(lt, end, interest);
        if (after == nullptr) {
            return lt;
        }
        q = after;
    }
    *done = false;
    return q;
}

}  // namespace detail
}  // namespace tailor::tag_scan
