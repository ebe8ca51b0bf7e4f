// SlotRewriter: the streaming rewriter that fills <tailor-slot> elements and injects before
// </body>.
//
// The nginx body filter hands it one buffer at a time; the scanner
// (tag_scanner.h) skips text and the tags it never acts on, a small HTML
// tokenizer state machine (slot_tokenizer.cpp) runs only near a tag that may
// matter, and slot_rewriter.cpp emits output as it goes, as pieces that say where their bytes live
// so the glue can forward them without copying. Everything it does not understand it passes through
// unchanged: with no fill and no injection the output is byte-identical to the input, however the
// input is split. docs/tags.md is the frontend-facing reference for what counts as a slot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/html/piece_origin.h"
#include "tailor/html/slot_fill.h"

namespace tailor {

// kMaxSlotDefaultBytes
//
// The most default content (the children of a slot that has a fill) held
// back while waiting for the slot's close tag. A slot whose children grow
// past this is left unmodified ("bailed"), so a forgotten </tailor-slot>
// never swallows the page. A close tag that straddles two buffers may add
// its own few bytes on top while it is being recognised.
inline constexpr size_t kMaxSlotDefaultBytes = 64 * 1024;

// kMaxHeldTagBytes
//
// Outside a slot being filled, the most the rewriter holds back between two
// write() calls: a possible "</body" split across buffers, held only while
// an injection is pending so the fragment can go in front of it. Every
// other tag, slot tags included, is emitted as soon as it is seen.
inline constexpr size_t kMaxHeldTagBytes = 6;

// kMaxSlotNameBytes
//
// Slot names longer than this never match a fill (the tag passes through).
inline constexpr size_t kMaxSlotNameBytes = 128;

// SlotRewriterSink
//
// Receives output in order. `emit` is called with a non-empty view and its
// origin; it must not throw and must not call back into the rewriter. A
// plain function pointer plus context, so the hot path has no std::function
// and no virtual call. make_sink() builds one from any callable.
struct SlotRewriterSink {
    void (*emit)(void* ctx, std::string_view bytes, PieceOrigin origin);
    void* ctx;
};

// make_sink
//
// Wraps a callable `f(std::string_view bytes, PieceOrigin origin)` as a
// sink. `f` must outlive the sink.
//
// Example:
//   std::string out;
//   auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
//   rewriter.write(chunk, make_sink(append));
template <typename F>
[[nodiscard]] SlotRewriterSink make_sink(F& f) noexcept {
    return SlotRewriterSink{[](void* ctx, std::string_view bytes, PieceOrigin origin) {
                                (*static_cast<F*>(ctx))(bytes, origin);
                            },
                            static_cast<void*>(&f)};
}

// SlotRewriterStats
//
// What one page's rewrite did, for the glue's counters and debug log.
struct SlotRewriterStats {
    uint32_t slots_seen = 0;      // <tailor-slot> start tags (outside comments, script, ...)
    uint32_t slots_replaced = 0;  // slots whose children became their fill
    uint32_t slots_bailed = 0;    // slots with a fill left unmodified: no close tag before
                                  // the end, children over kMaxSlotDefaultBytes, </body>
                                  // inside, or out of memory
    bool injected = false;        // the injection went in before </body>
    size_t bytes_held_max = 0;    // the largest carry-over kept between two calls
};

// SlotRewriter
//
// One per response. Construct with the fills and the injection, call write()
// once per buffer in order, then finish() once. Fill names are compared
// with the slot's `name` attribute byte for byte (ASCII case-sensitive, no
// character-reference decoding); the first fill with a given name wins; an
// empty name never matches. An empty injection means none. The fills array,
// its strings and the injection must outlive the rewriter.
//
// Never throws; on any limit or allocation failure it degrades to passing
// the original bytes through and counts it in stats().
//
// Example:
//   const SlotFill fills[] = {{"hero", "<p>Hi Ann</p>"}};
//   SlotRewriter rw(fills, 1, "<script id=\"tailor-directives\">{}</script>");
//   std::string out;
//   auto append = [&out](std::string_view b, PieceOrigin) { out.append(b); };
//   rw.write("<tailor-slot name=hero>Welcome</tai", make_sink(append));
//   rw.write("lor-slot></body>", make_sink(append));
//   rw.finish(make_sink(append));
//   // out == "<tailor-slot name=hero><p>Hi Ann</p></tailor-slot>"
//   //        "<script id=\"tailor-directives\">{}</script></body>"
class SlotRewriter {
  public:
    SlotRewriter(const SlotFill* fills, size_t count, std::string_view injection = {}) noexcept;
    explicit SlotRewriter(const std::vector<SlotFill>& fills,
                          std::string_view injection = {}) noexcept;

    SlotRewriter(const SlotRewriter&) = delete;
    SlotRewriter& operator=(const SlotRewriter&) = delete;

    // write
    //
    // Consumes all of `chunk` (any size, split anywhere, empty allowed) and
    // emits through `sink` every byte that is final. Bytes it cannot decide
    // on yet (a possible "</body" prefix while an injection is pending, or a
    // filled slot's children until its close tag) are copied into the
    // rewriter and re-emitted later as kCarry, so the caller may recycle
    // `chunk` once the kInput pieces pointing into it are sent. After
    // finish(), write() passes `chunk` through unchanged.
    //
    // Example:
    //   rw.write("<p>plain text", sink);  // one kInput piece "<p>plain text"
    void write(std::string_view chunk, SlotRewriterSink sink) noexcept;

    // finish
    //
    // Marks the end of the page: emits whatever is held, unmodified (a slot
    // still waiting for its close tag is bailed). An injection still pending
    // (the page had no </body> outside comments and raw text) is dropped,
    // never appended, because the response may be a fragment. Idempotent.
    //
    // Example:
    //   rw.write("<tailor-slot name=hero>never closed", sink);
    //   rw.finish(sink);  // emits "never closed"; stats().slots_bailed == 1
    void finish(SlotRewriterSink sink) noexcept;

    // stats
    //
    // Counters so far; complete after finish().
    //
    // Example:
    //   if (rw.stats().slots_bailed != 0) { /* log why at debug level */ }
    [[nodiscard]] const SlotRewriterStats& stats() const noexcept { return stats_; }

    // held_bytes
    //
    // How many input bytes the rewriter holds right now (the glue sets its
    // r->buffered bit while this is non-zero).
    //
    // Example:
    //   rw.write("<p>a</bo", sink);  // injection pending: held_bytes() == 4
    [[nodiscard]] size_t held_bytes() const noexcept { return carry_.size(); }

  private:
    enum class State : uint8_t {
        kData,               // text: memchr for '<'
        kTagOpen,            // after '<'
        kEndTagOpen,         // after "</"
        kTagName,            // inside a tag name
        kBeforeAttrName,     // also "after a quoted value"
        kAttrName,           //
        kAfterAttrName,      //
        kBeforeAttrValue,    // after '='
        kAttrValueDq,        // memchr for '"'
        kAttrValueSq,        // memchr for '\''
        kAttrValueUnquoted,  //
        kSelfClosingStart,   // after '/' inside a tag
        kMarkupDecl,         // after "<!": comment, CDATA or a bogus comment
        kComment,            // after "<!--": memchr for '>', then look back for "--"
        kCdata,              // after "<![CDATA[": memchr for '>', look back for "]]"
        kBogusComment,       // <?...>, <!DOCTYPE ...>, </ x>: memchr for '>'
        kRawText,            // inside script, style, textarea, title, ...: memchr for '<'
        kRawTextEnd,         // after '<' in raw text: matching "/name"
    };
    enum class Mode : uint8_t {
        kTop,      // passing through
        kHolding,  // inside a slot with a fill: holding its children
        kBailed,   // inside a slot given up on: passing through, still counting depth
    };
    enum class TagKind : uint8_t { kOther, kSlotOpen, kRawOpen };

    static constexpr size_t kNameCap = 12;  // longer than any tag name we look for

    // slot_tokenizer.cpp: the tokenizer, which calls the on_* actions.
    void run(const char* p, const char* end) noexcept;
    void begin_tag_name(bool end_tag, unsigned char first) noexcept;
    void classify_tag_name() noexcept;
    const char* after_name_delimiter(const char* p) noexcept;
    void end_attr_name() noexcept;
    void capture_value(const char* p, size_t n) noexcept;
    void push_tail(const char* p, size_t n) noexcept;

    // slot_rewriter.cpp: holdback, the actions and emission.
    void end_of_write() noexcept;
    void on_tag_end(const char* after_gt) noexcept;
    void on_slot_close() noexcept;
    void on_body_close() noexcept;
    [[nodiscard]] bool tag_prefix_pending(std::string_view target) const noexcept;
    [[nodiscard]] const SlotFill* find_fill(std::string_view name) const noexcept;
    [[nodiscard]] uint64_t abs(const char* p) const noexcept {
        return cur_base_ + static_cast<uint64_t>(p - cur_);
    }
    void emit(std::string_view bytes, PieceOrigin origin) noexcept {
        if (!bytes.empty()) {
            sink_.emit(sink_.ctx, bytes, origin);
        }
    }
    void emit_upto(uint64_t to) noexcept;

    // What the page asked for.
    const SlotFill* fills_;
    size_t fill_count_;
    std::string_view injection_;

    // Tokenizer.
    State state_ = State::kData;
    TagKind tag_kind_ = TagKind::kOther;
    bool end_tag_ = false;
    bool boring_ = false;  // a tag name we never act on: skip without collecting
    bool self_closing_ = false;
    uint8_t name_len_ = 0;
    char name_[kNameCap] = {};
    uint8_t raw_kind_ = 0;   // index into the raw-text element table
    uint8_t raw_match_ = 0;  // bytes of "/name" matched after '<' in raw text
    uint8_t decl_len_ = 0;   // bytes of "--" or "[CDATA[" matched after "<!"
    bool decl_cdata_ = false;
    uint8_t tail_len_ = 0;  // comment/CDATA bytes seen, saturating at 3
    char tail_[3] = {};     // the last three of them, to spot "-->", "--!>", "]]>"

    // The `name` attribute of the <tailor-slot> being read.
    uint8_t attr_len_ = 0;  // bytes of the current attribute name, saturating at 5
    char attr_[4] = {};
    bool in_name_attr_ = false;
    bool have_name_ = false;
    bool slot_name_long_ = false;
    size_t slot_name_len_ = 0;
    char slot_name_[kMaxSlotNameBytes] = {};

    // Rewriting.
    Mode mode_ = Mode::kTop;
    uint32_t depth_ = 0;  // slots open inside the held or bailed one
    const SlotFill* fill_ = nullptr;
    bool inject_pending_ = false;
    bool finished_ = false;
    uint64_t tag_start_ = 0;  // stream offset of the current tag's '<'

    // Emission. Stream offsets count bytes since the start of the page.
    // Invariant: carry_ holds exactly the bytes [emit_from_, cur_base_) when
    // a write() starts, so any range of not-yet-emitted bytes is a piece of
    // carry_ followed by a piece of the current chunk.
    uint64_t emit_from_ = 0;
    uint64_t cur_base_ = 0;  // stream offset of cur_[0]
    const char* cur_ = nullptr;
    const char* cur_end_ = nullptr;
    uint64_t carry_base_ = 0;  // stream offset of carry_[0]
    std::string carry_;
    SlotRewriterSink sink_{nullptr, nullptr};
    SlotRewriterStats stats_;
};

// rewrite_slots
//
// Runs a SlotRewriter over a whole page in one call and returns the output;
// for tailorctl, tests and other cold paths. `stats` may be null.
//
// Example:
//   rewrite_slots("<tailor-slot name=a>x</tailor-slot>", {{"a", "y"}}, "")
//       == "<tailor-slot name=a>y</tailor-slot>"
[[nodiscard]] std::string rewrite_slots(std::string_view page, const std::vector<SlotFill>& fills,
                                        std::string_view injection,
                                        SlotRewriterStats* stats = nullptr);

}  // namespace tailor
