// SlotRewriter's tokenizer: a resumable HTML tokenizer that only looks closely at tags it may act
// on.
//
// The tokenizer follows the HTML standard's states where they decide what is
// a tag (tag name, attributes and their quoting, comments, raw text) and
// collapses the rest: doctype, processing instructions and other "<!" forms
// are skipped to the next '>'. Text and the tags it never acts on are
// skipped by the scanner (tag_scanner.h); long runs inside the states
// (quoted values, comments, raw text) are skipped with memchr; the per-byte
// switch only runs inside tags. What a recognised tag does to the output
// (hold, fill, inject) lives in slot_rewriter.cpp. run() is one state
// machine over one switch and reads best whole.
#include <algorithm>
#include <cstring>

#include "tailor/html/slot_rewriter.h"
#include "tailor/html/tag_scanner.h"

namespace tailor {

using tag_scan::ends_tag_name;
using tag_scan::kBodyTag;
using tag_scan::kPlaintext;
using tag_scan::kRawNames;
using tag_scan::kSlotTag;

void SlotRewriter::begin_tag_name(bool end_tag, unsigned char first) noexcept {
    end_tag_ = end_tag;
    name_len_ = 0;
    self_closing_ = false;
    tag_kind_ = TagKind::kOther;
    // Decide from the first letter whether this name can matter at all, so
    // the common tags (div, a, span, li, img, meta, link) are skipped
    // without collecting their names.
    const char c = ascii_lower(first);
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
                const char* lt = tag_scan::skip_to_tag(
                    p, end,
                    tag_scan::TagInterest{mode_ != Mode::kTop,
                                          inject_pending_ || mode_ == Mode::kHolding});
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
                if (is_ascii_alpha(c)) {
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
                if (is_ascii_alpha(c)) {
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
                            name_[name_len_++] = ascii_lower(static_cast<unsigned char>(*p));
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
                while (p < end && is_html_space(static_cast<unsigned char>(*p))) {
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
                    if (is_html_space(c) || c == '/' || c == '=' || c == '>') {
                        break;
                    }
                    if (collect) {
                        if (attr_len_ < 4) {
                            attr_[attr_len_] = ascii_lower(c);
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
                while (p < end && is_html_space(static_cast<unsigned char>(*p))) {
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
                while (p < end && is_html_space(static_cast<unsigned char>(*p))) {
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
                while (p < end && *p != '>' && !is_html_space(static_cast<unsigned char>(*p))) {
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
                    if (ascii_lower(static_cast<unsigned char>(*p)) != want) {
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

}  // namespace tailor
