// SlotRewriter: what the page's tags do to the output (holdback, fill, injection, emission).
//
// The tokenizer (slot_tokenizer.cpp) calls the on_* actions below when it
// recognises a slot or body tag; this file decides what leaves and when:
// bytes are emitted as pieces of the current chunk where it can, and only
// what cannot be decided yet is copied into carry_ between two writes.
#include "tailor/html/slot_rewriter.h"

#include <algorithm>
#include <cstring>

#include "tailor/html/tag_scanner.h"

namespace tailor {

using tag_scan::kBodyTag;
using tag_scan::kSlotTag;

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
