// LiveBatch's views of a finished batch: each event's blob and routing facts (ClusterBatch splits
// a batch by them), its visitors with their edits, its producers and the facts an edit applies
// (WatchedBatch commits a batch by them). The argv builder is live.cpp.
#include <charconv>
#include <optional>

#include "tailor/events/live.h"

namespace tailor {

LiveBatch::VisitorView LiveBatch::visitor(size_t v) const noexcept {
    const std::string_view arena(strings_);
    const Span live = keys_[2 * v];
    VisitorView out;
    out.live_key = arena.substr(live.first, live.second);
    if (carries_edit(v)) {
        out.edit = &edit_pool_[static_cast<size_t>(visitor_edit_[v])];
    }
    return out;
}

LiveBatch::ProducerView LiveBatch::producer(size_t j) const noexcept {
    const std::string_view arena(strings_);
    auto text = [&](Span at) { return arena.substr(at.first, at.second); };
    ProducerView out;
    if (j < marks_.size()) {
        out.mark_key = text(marks_[j]);
    }
    out.first_seq = text(seqs_[j][0]);
    out.last_seq = text(seqs_[j][1]);
    return out;
}

size_t LiveBatch::event_visitor(size_t i) const noexcept {
    const uint32_t key = events_[i].key;
    return key == 0 ? kNoVisitor : visitor_of(key);
}

LiveBatch::EditFacts LiveBatch::edit_facts(size_t i) const noexcept {
    const Pending& p = events_[i];
    const std::string_view arena(strings_);
    auto integer = [&](Span at) -> std::optional<int64_t> {
        const char* first = arena.data() + at.first;
        int64_t v = 0;
        const auto r = std::from_chars(first, first + at.second, v);
        if (at.second == 0 || r.ec != std::errc() || r.ptr != first + at.second) {
            return std::nullopt;
        }
        return v;
    };
    EditFacts out;
    out.type = p.type;
    out.time_s = integer(p.time).value_or(0);
    out.sku = p.sku;
    out.category = p.category;
    if (!p.sku.empty()) {
        out.price = integer(p.price);
    }
    return out;
}

LiveBatch::EventView LiveBatch::event(size_t i) const noexcept {
    const Pending& p = events_[i];
    const std::string_view arena(strings_);
    return {p.blob, p.type, p.vid, p.src, arena.substr(p.seq.first, p.seq.second)};
}

}  // namespace tailor
