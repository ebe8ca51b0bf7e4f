// SlotRewriter: a resumable HTML tokenizer that only looks closely at tags it may act on.
//
// The tokenizer follows the HTML standard's states where they decide what is
// a tag (tag name, attributes and their quoting, comments, raw text) and
// collapses the rest: doctype, processing instructions and other "<!" forms
// are skipped to the next '>'. Long runs (text, quoted values, comments, raw
// text) are skipped with memchr; the per-byte switch only runs inside tags.
#include "tailor/html/slot_rewriter.h"

#include <algorithm>
#include <cstring>
#include <new>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tailor {
namespace {

// Elements whose content is text up to the matching end tag (raw text and
// RCDATA in the standard). noscript is raw text when scripting is on, which
// is how browsers parse it. plaintext never ends.
constexpr std::string_view kRawNames[] = {"script", "style",   "textarea", "title",    "xmp",
                                          "iframe", "noembed", "noframes", "noscript", "plaintext"};
constexpr uint8_t kPlaintext = 9;

constexpr std::string_view kSlotTag = "tailor-slot";
constexpr std::string_view kBodyTag = "body";

inline bool is_ws(unsigned char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
}
inline bool is_alpha(unsigned char c) {
    return static_cast<unsigned>((c | 0x20) - 'a') < 26u;
}
inline char to_lower(unsigned char c) {
    return static_cast<char>(static_cast<unsigned>(c - 'A') < 26u ? c | 0x20 : c);
}
inline bool ends_tag_name(unsigned char c) {
    return c == '>' || c == '/' || is_ws(c);
}

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
        if (to_lower(static_cast<unsigned char>(p[i])) != lit[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

SlotRewriter::SlotRewriter(const SlotFill* fills, size_t count, std::string_view injection) noexcept
    : fills_(fills),
      fill_count_(fills == nullptr ? 0 : count),
      injection_(injection),
      inject_pending_(!injection.empty()) {}

SlotRewriter::SlotRewriter(const std::vector<SlotFill>& fills, std::string_view injection) noexcept
    : SlotRewriter(fills.data(), fills.size(), injection) {}

const SlotFill* SlotRewriter::find_fill(std::string_view name) const noexcept {
    for (size_t i = 0; i < fill_count_; ++i) {
        if (fills_[i].name == name) {
            return &fills_[i];
        }
    }
    return nullptr;
}

void SlotRewriter::emit_upto(uint64_t to) noexcept {
    if (to <= emit_from_) {
        return;
    }
    if (emit_from_ < cur_base_) {
        const uint64_t stop = std::min(to, cur_base_);
        emit(std::string_view(carry_.data() + (emit_from_ - carry_base_), stop - emit_from_),
             PieceOrigin::kCarry);
        emit_from_ = stop;
    }
    if (to > emit_from_) {
        emit(std::string_view(cur_ + (emit_from_ - cur_base_), to - emit_from_),
             PieceOrigin::kInput);
        emit_from_ = to;
    }
}

void SlotRewriter::write(std::string_view chunk, SlotRewriterSink sink) noexcept {
    if (chunk.empty()) {
        return;
    }
    sink_ = sink;
    if (finished_) {
        emit(chunk, PieceOrigin::kInput);
        return;
    }
    cur_ = chunk.data();
    cur_end_ = chunk.data() + chunk.size();
    carry_base_ = cur_base_ - carry_.size();
    run(cur_, cur_end_);
    end_of_write();
    cur_base_ += chunk.size();
    cur_ = cur_end_ = nullptr;
}

void SlotRewriter::finish(SlotRewriterSink sink) noexcept {
    if (finished_) {
        return;
    }
    sink_ = sink;
    finished_ = true;
    if (mode_ == Mode::kHolding) {
        ++stats_.slots_bailed;  // never closed: the default stays
    }
    mode_ = Mode::kTop;
    inject_pending_ = false;  // no </body>: a fragment, maybe; never append
    cur_ = cur_end_ = nullptr;
    carry_base_ = cur_base_ - carry_.size();
    emit_upto(cur_base_);
    carry_.clear();
}

// True while the tokenizer sits in a tag that may still turn out to be the
// end tag `target` ("</body", "</tailor-slot"), whose '<' is tag_start_.
bool SlotRewriter::tag_prefix_pending(std::string_view target) const noexcept {
    switch (state_) {
        case State::kTagOpen:
        case State::kEndTagOpen:
            return true;
        case State::kTagName:
            return end_tag_ && !boring_ && name_len_ <= target.size() &&
                   target.compare(0, name_len_, std::string_view(name_, name_len_)) == 0;
        default:
            return false;
    }
}

void SlotRewriter::end_of_write() noexcept {
    const uint64_t end_abs = abs(cur_end_);
    uint64_t keep_from = end_abs;
    if (mode_ == Mode::kHolding) {
        // Measure only the children seen so far: a close tag that is still
        // being recognised is not a child, so the cap triggers at the same
        // byte however the page is split.
        const bool closing = tag_prefix_pending(kSlotTag) || tag_prefix_pending(kBodyTag);
        const uint64_t children_end = closing ? tag_start_ : end_abs;
        if (children_end - emit_from_ > kMaxSlotDefaultBytes) {
            mode_ = Mode::kBailed;
            ++stats_.slots_bailed;
        } else {
            keep_from = emit_from_;
        }
    }
    if (mode_ != Mode::kHolding && inject_pending_ && tag_prefix_pending(kBodyTag)) {
        keep_from = tag_start_;
    }
    emit_upto(keep_from);

    const uint64_t keep = end_abs - emit_from_;
    if (keep == 0) {
        carry_.clear();
        return;
    }
    try {
        carry_.reserve(keep);  // the only allocation; erase and append below cannot throw
    } catch (...) {
        // Fail open: send everything now. An injection whose "</body" prefix
        // goes out here is skipped later (on_body_close checks).
        if (mode_ == Mode::kHolding) {
            mode_ = Mode::kBailed;
            ++stats_.slots_bailed;
        }
        emit_upto(end_abs);
        carry_.clear();
        return;
    }
    if (emit_from_ < cur_base_) {
        carry_.erase(0, emit_from_ - carry_base_);
        carry_.append(cur_, static_cast<size_t>(cur_end_ - cur_));
    } else {
        carry_.assign(cur_ + (emit_from_ - cur_base_), keep);
    }
    stats_.bytes_held_max = std::max(stats_.bytes_held_max, carry_.size());
}

void SlotRewriter::begin_tag_name(bool end_tag, unsigned char first) noexcept {
    end_tag_ = end_tag;
    name_len_ = 0;
    self_closing_ = false;
    tag_kind_ = TagKind::kOther;
    // Decide from the first letter whether this name can matter at all, so
    // the common tags (div, a, span, li, img, meta, link) are skipped
    // without collecting their names.
    const char c = to_lower(first);
    if (end_tag) {
        boring_ = !((c == 't' && mode_ != Mode::kTop) ||
                    (c == 'b' && (inject_pending_ || mode_ == Mode::kHolding)));
    } else {
        boring_ = !(c == 't' || c == 's' || c == 'x' || c == 'i' || c == 'n' || c == 'p');
    }
}

void SlotRewriter::classify_tag_name() noexcept {
    if (boring_) {
        return;
    }
    const std::string_view name(name_, name_len_);
    if (end_tag_) {
        if (name == kSlotTag) {
            on_slot_close();
        } else if (name == kBodyTag) {
            on_body_close();
        }
        return;
    }
    if (name == kSlotTag) {
        tag_kind_ = TagKind::kSlotOpen;
        have_name_ = false;
        in_name_attr_ = false;
        slot_name_long_ = false;
        slot_name_len_ = 0;
        return;
    }
    for (uint8_t i = 0; i < sizeof(kRawNames) / sizeof(kRawNames[0]); ++i) {
        if (name == kRawNames[i]) {
            tag_kind_ = TagKind::kRawOpen;
            raw_kind_ = i;
            return;
        }
    }
}

void SlotRewriter::on_slot_close() noexcept {
    if (mode_ == Mode::kTop) {
        return;
    }
    if (depth_ > 0) {
        --depth_;
        return;
    }
    if (mode_ == Mode::kHolding) {
        if (tag_start_ - emit_from_ > kMaxSlotDefaultBytes) {
            ++stats_.slots_bailed;  // emitted unmodified as the page flows on
        } else {
            emit_from_ = tag_start_;  // drop the default children
            emit(fill_->html, PieceOrigin::kFill);
            ++stats_.slots_replaced;
        }
    }
    mode_ = Mode::kTop;
}

void SlotRewriter::on_body_close() noexcept {
    if (mode_ == Mode::kHolding) {
        // The slot's close tag should have come first; replacing now would
        // drop the end of the page along with the default.
        mode_ = Mode::kBailed;
        ++stats_.slots_bailed;
    }
    if (!inject_pending_) {
        return;
    }
    inject_pending_ = false;
    if (emit_from_ <= tag_start_) {  // else the prefix already left (out of memory)
        emit_upto(tag_start_);
        emit(injection_, PieceOrigin::kFill);
        stats_.injected = true;
    }
}

void SlotRewriter::on_tag_end(const char* after_gt) noexcept {
    state_ = State::kData;
    if (tag_kind_ == TagKind::kRawOpen) {
        state_ = State::kRawText;  // a '/' before '>' is ignored here, as browsers do
        return;
    }
    if (tag_kind_ != TagKind::kSlotOpen) {
        return;
    }
    ++stats_.slots_seen;
    if (mode_ != Mode::kTop) {
        ++depth_;  // browsers ignore "/>" on custom elements, so it still opens one
        return;
    }
    if (self_closing_ || !have_name_ || slot_name_long_ || slot_name_len_ == 0) {
        return;
    }
    const SlotFill* f = find_fill(std::string_view(slot_name_, slot_name_len_));
    if (f == nullptr) {
        return;
    }
    emit_upto(abs(after_gt));  // the wrapper stays as written
    fill_ = f;
    depth_ = 0;
    mode_ = Mode::kHolding;
}

void SlotRewriter::end_attr_name() noexcept {
    in_name_attr_ = false;
    if (tag_kind_ == TagKind::kSlotOpen && !have_name_ && attr_len_ == 4 &&
        std::memcmp(attr_, "name", 4) == 0) {
        have_name_ = true;  // the first `name` wins, as in the DOM
        in_name_attr_ = true;
    }
}

void SlotRewriter::capture_value(const char* p, size_t n) noexcept {
    if (!in_name_attr_ || n == 0) {
        return;
    }
    if (slot_name_len_ + n > kMaxSlotNameBytes) {
        slot_name_long_ = true;
        return;
    }
    std::memcpy(slot_name_ + slot_name_len_, p, n);
    slot_name_len_ += n;
}

void SlotRewriter::push_tail(const char* p, size_t n) noexcept {
    if (n >= 3) {
        std::memcpy(tail_, p + n - 3, 3);
    } else {
        for (size_t i = 0; i < n; ++i) {
            tail_[0] = tail_[1];
            tail_[1] = tail_[2];
            tail_[2] = p[i];
        }
    }
    tail_len_ = static_cast<uint8_t>(std::min<size_t>(3, tail_len_ + n));
}

inline bool SlotRewriter::name_matters(const char* name, size_t n, bool end_tag) const noexcept {
    const char first = to_lower(static_cast<unsigned char>(name[0]));
    if (end_tag) {
        return (first == 't' && n == kSlotTag.size() && mode_ != Mode::kTop &&
                equals_lower(name, kSlotTag)) ||
               (first == 'b' && n == kBodyTag.size() &&
                (inject_pending_ || mode_ == Mode::kHolding) && equals_lower(name, kBodyTag));
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

namespace {

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

}  // namespace

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
__attribute__((always_inline)) inline const char* SlotRewriter::skip_boring_tag(
    const char* lt, const char* end) const noexcept {
    const char* s = lt + 1;
    bool end_tag = false;
    if (s < end && *s == '/') {
        end_tag = true;
        ++s;
    }
    if (s >= end || !is_alpha(static_cast<unsigned char>(*s))) {
        return nullptr;
    }
    const char* name = s;
    s = find_class(s + 1, end, kClassTagNameEnd);
    if (s == end || name_matters(name, static_cast<size_t>(s - name), end_tag)) {
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

// Skips text and boring tags from `p`; returns the '<' of the first tag
// run() must tokenize, or null if the chunk ends in text.
const char* SlotRewriter::skip_to_tag(const char* p, const char* end) const noexcept {
    for (;;) {
        const char* lt = find_byte(p, end, '<');
        if (lt == nullptr) {
            return nullptr;
        }
        const char* after = skip_boring_tag(lt, end);
        if (after == nullptr) {
            return lt;
        }
        p = after;
    }
}

// After a tag name, or after "/name" closing raw text: `*p` is the delimiter.
const char* SlotRewriter::after_name_delimiter(const char* p) noexcept {
    const unsigned char c = static_cast<unsigned char>(*p++);
    if (c == '>') {
        on_tag_end(p);
    } else if (c == '/') {
        state_ = State::kSelfClosingStart;
    } else {
        state_ = State::kBeforeAttrName;
    }
    return p;
}

void SlotRewriter::run(const char* p, const char* const end) noexcept {
    while (p < end) {
        switch (state_) {
            case State::kData: {
                // Most tags are whole inside the chunk and none of our
                // business: skip them without leaving this loop.
                const char* lt = skip_to_tag(p, end);
                if (lt == nullptr) {
                    return;
                }
                tag_start_ = abs(lt);
                p = lt + 1;
                state_ = State::kTagOpen;
                break;
            }
            case State::kTagOpen: {
                const unsigned char c = static_cast<unsigned char>(*p);
                if (is_alpha(c)) {
                    begin_tag_name(false, c);
                    state_ = State::kTagName;
                } else if (c == '/') {
                    ++p;
                    state_ = State::kEndTagOpen;
                } else if (c == '!') {
                    ++p;
                    decl_len_ = 0;
                    state_ = State::kMarkupDecl;
                } else if (c == '?') {
                    ++p;
                    state_ = State::kBogusComment;
                } else {
                    state_ = State::kData;  // a lone '<' is text; rescan this byte
                }
                break;
            }
            case State::kEndTagOpen: {
                const unsigned char c = static_cast<unsigned char>(*p);
                if (is_alpha(c)) {
                    begin_tag_name(true, c);
                    state_ = State::kTagName;
                } else if (c == '>') {
                    ++p;  // "</>" is dropped by browsers; for us it is just bytes
                    state_ = State::kData;
                } else {
                    state_ = State::kBogusComment;
                }
                break;
            }
            case State::kTagName: {
                if (boring_) {
                    while (p < end && !ends_tag_name(static_cast<unsigned char>(*p))) {
                        ++p;
                    }
                } else {
                    while (p < end && !ends_tag_name(static_cast<unsigned char>(*p))) {
                        if (name_len_ < kNameCap) {
                            name_[name_len_++] = to_lower(static_cast<unsigned char>(*p));
                        } else {
                            boring_ = true;  // longer than any name we act on
                        }
                        ++p;
                    }
                }
                if (p == end) {
                    return;
                }
                classify_tag_name();
                p = after_name_delimiter(p);
                break;
            }
            case State::kBeforeAttrName: {
                while (p < end && is_ws(static_cast<unsigned char>(*p))) {
                    ++p;
                }
                if (p == end) {
                    return;
                }
                const char c = *p;
                if (c == '>') {
                    on_tag_end(++p);
                } else if (c == '/') {
                    ++p;
                    state_ = State::kSelfClosingStart;
                } else {
                    attr_len_ = 0;
                    in_name_attr_ = false;
                    state_ = State::kAttrName;
                    if (c ==
                        '=') {  // a name may start with '=' (standard: "before attribute name")
                        attr_len_ = 5;
                        ++p;
                    }
                }
                break;
            }
            case State::kAttrName: {
                const bool collect = tag_kind_ == TagKind::kSlotOpen;
                while (p < end) {
                    const unsigned char c = static_cast<unsigned char>(*p);
                    if (is_ws(c) || c == '/' || c == '=' || c == '>') {
                        break;
                    }
                    if (collect) {
                        if (attr_len_ < 4) {
                            attr_[attr_len_] = to_lower(c);
                        }
                        attr_len_ = static_cast<uint8_t>(std::min(5, attr_len_ + 1));
                    }
                    ++p;
                }
                if (p == end) {
                    return;
                }
                end_attr_name();
                const char c = *p++;
                if (c == '=') {
                    state_ = State::kBeforeAttrValue;
                } else if (c == '>') {
                    on_tag_end(p);
                } else if (c == '/') {
                    state_ = State::kSelfClosingStart;
                } else {
                    state_ = State::kAfterAttrName;
                }
                break;
            }
            case State::kAfterAttrName: {
                while (p < end && is_ws(static_cast<unsigned char>(*p))) {
                    ++p;
                }
                if (p == end) {
                    return;
                }
                const char c = *p;
                if (c == '=') {
                    ++p;
                    state_ = State::kBeforeAttrValue;
                } else if (c == '>') {
                    in_name_attr_ = false;
                    on_tag_end(++p);
                } else if (c == '/') {
                    ++p;
                    in_name_attr_ = false;
                    state_ = State::kSelfClosingStart;
                } else {
                    attr_len_ = 0;
                    in_name_attr_ = false;
                    state_ = State::kAttrName;
                }
                break;
            }
            case State::kBeforeAttrValue: {
                while (p < end && is_ws(static_cast<unsigned char>(*p))) {
                    ++p;
                }
                if (p == end) {
                    return;
                }
                const char c = *p;
                if (c == '"') {
                    ++p;
                    state_ = State::kAttrValueDq;
                } else if (c == '\'') {
                    ++p;
                    state_ = State::kAttrValueSq;
                } else if (c == '>') {
                    in_name_attr_ = false;
                    on_tag_end(++p);
                } else {
                    state_ = State::kAttrValueUnquoted;
                }
                break;
            }
            case State::kAttrValueDq:
            case State::kAttrValueSq: {
                const char quote = state_ == State::kAttrValueDq ? '"' : '\'';
                const void* q = std::memchr(p, quote, static_cast<size_t>(end - p));
                const char* stop = q == nullptr ? end : static_cast<const char*>(q);
                capture_value(p, static_cast<size_t>(stop - p));
                if (q == nullptr) {
                    return;
                }
                p = stop + 1;
                in_name_attr_ = false;
                state_ = State::kBeforeAttrName;  // "after attribute value (quoted)" acts the same
                break;
            }
            case State::kAttrValueUnquoted: {
                const char* start = p;
                while (p < end && *p != '>' && !is_ws(static_cast<unsigned char>(*p))) {
                    ++p;
                }
                capture_value(start, static_cast<size_t>(p - start));
                if (p == end) {
                    return;
                }
                in_name_attr_ = false;
                if (*p++ == '>') {
                    on_tag_end(p);
                } else {
                    state_ = State::kBeforeAttrName;
                }
                break;
            }
            case State::kSelfClosingStart: {
                if (*p == '>') {
                    self_closing_ = true;
                    on_tag_end(++p);
                } else {
                    state_ = State::kBeforeAttrName;  // rescan this byte
                }
                break;
            }
            case State::kMarkupDecl: {
                const char c = *p;
                if (decl_len_ == 0) {
                    if (c == '-' || c == '[') {
                        decl_cdata_ = c == '[';
                        decl_len_ = 1;
                        ++p;
                    } else {
                        state_ = State::kBogusComment;  // <!DOCTYPE ...> and friends
                    }
                } else if (!decl_cdata_) {
                    if (c == '-') {
                        ++p;
                        tail_len_ = 0;
                        state_ = State::kComment;
                    } else {
                        state_ = State::kBogusComment;
                    }
                } else {
                    static constexpr char kCdataOpen[] = "[CDATA[";
                    if (c != kCdataOpen[decl_len_]) {
                        state_ = State::kBogusComment;
                    } else {
                        ++p;
                        if (++decl_len_ == 7) {
                            tail_len_ = 0;
                            state_ = State::kCdata;
                        }
                    }
                }
                break;
            }
            case State::kComment:
            case State::kCdata: {
                const void* gt = std::memchr(p, '>', static_cast<size_t>(end - p));
                if (gt == nullptr) {
                    push_tail(p, static_cast<size_t>(end - p));
                    return;
                }
                const char* q = static_cast<const char*>(gt);
                push_tail(p, static_cast<size_t>(q - p));
                bool closes;
                if (state_ == State::kComment) {
                    // "-->", "--!>", and the abrupt "<!-->" and "<!--->".
                    closes =
                        tail_len_ == 0 || (tail_len_ == 1 && tail_[2] == '-') ||
                        (tail_len_ >= 2 && tail_[1] == '-' && tail_[2] == '-') ||
                        (tail_len_ >= 3 && tail_[0] == '-' && tail_[1] == '-' && tail_[2] == '!');
                } else {
                    closes = tail_len_ >= 2 && tail_[1] == ']' && tail_[2] == ']';
                }
                p = q + 1;
                if (closes) {
                    state_ = State::kData;
                } else {
                    push_tail(q, 1);
                }
                break;
            }
            case State::kBogusComment: {
                const void* gt = std::memchr(p, '>', static_cast<size_t>(end - p));
                if (gt == nullptr) {
                    return;
                }
                p = static_cast<const char*>(gt) + 1;
                state_ = State::kData;
                break;
            }
            case State::kRawText: {
                if (raw_kind_ == kPlaintext) {
                    return;  // the rest of the page is text
                }
                const void* lt = std::memchr(p, '<', static_cast<size_t>(end - p));
                if (lt == nullptr) {
                    return;
                }
                p = static_cast<const char*>(lt);
                tag_start_ = abs(p);
                ++p;
                raw_match_ = 0;
                state_ = State::kRawTextEnd;
                break;
            }
            case State::kRawTextEnd: {
                const std::string_view name = kRawNames[raw_kind_];
                bool mismatch = false;
                while (p < end && raw_match_ <= name.size()) {
                    const char want = raw_match_ == 0 ? '/' : name[raw_match_ - 1];
                    if (to_lower(static_cast<unsigned char>(*p)) != want) {
                        mismatch = true;
                        break;
                    }
                    ++p;
                    ++raw_match_;
                }
                if (mismatch) {
                    state_ = State::kRawText;  // rescan this byte: it may be '<'
                    break;
                }
                if (p == end) {
                    return;
                }
                if (!ends_tag_name(static_cast<unsigned char>(*p))) {
                    state_ = State::kRawText;  // "</scripts" does not end a script
                    break;
                }
                end_tag_ = true;
                boring_ = true;
                self_closing_ = false;
                tag_kind_ = TagKind::kOther;
                p = after_name_delimiter(p);
                break;
            }
        }
    }
}

std::string rewrite_slots(std::string_view page, const std::vector<SlotFill>& fills,
                          std::string_view injection, SlotRewriterStats* stats) {
    std::string out;
    out.reserve(page.size());
    auto append = [&out](std::string_view bytes, PieceOrigin) { out.append(bytes); };
    SlotRewriter rw(fills, injection);
    rw.write(page, make_sink(append));
    rw.finish(make_sink(append));
    if (stats != nullptr) {
        *stats = rw.stats();
    }
    return out;
}

}  // namespace tailor
