// EventLive: the live script's EVALSHA argv builder (the script is in live_script.cpp).
#include "tailor/events/live.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <functional>

#include "tailor/events/live_facts.h"
#include "tailor/store/keys.h"
#include "tailor/store/script.h"
#include "tailor/store/resp.h"
#include "tailor/visitor/visitor_id.h"

namespace tailor {
namespace {

// "0" to "9", then "10" to "99": LiveBatch::number()'s small numbers, at the arena's start.
constexpr std::string_view kSmallNumbers =
    "0123456789"
    "10111213141516171819202122232425262728293031323334353637383940414243444546474849"
    "50515253545556575859606162636465666768697071727374757677787980818283848586878889"
    "90919293949596979899";

}  // namespace

std::string live_key(std::string_view vid) {
    return visitor_key(vid, VisitorKeyKind::kLive);
}

std::string live_ev_key(std::string_view vid) {
    return visitor_key(vid, VisitorKeyKind::kEvents);
}

void LiveBatch::reset(const LiveConfig& config) noexcept {
    try {
        config_ = config;
    } catch (...) {
        config_.stream.key.clear();  // out of memory: finish() refuses
    }
    // numbers below 100 (visitor key indexes, "0" for no previous visitor, most
    // quantities) are views into this prefix, not written per event
    strings_.assign(kSmallNumbers.data(), kSmallNumbers.size());
    keys_.clear();
    if (++stamp_ == 0) {  // wrapped: no slot may look taken
        for (KeySlot& k : key_table_) {
            k.stamp = 0;
        }
        stamp_ = 1;
    }
    visitors_ = 0;
    cap_units_ = 0;
    cap_weight_.clear();
    full_ = false;
    last_vid_ = {};
    last_key_ = 0;
    events_.clear();
    visitor_edit_.clear();
    edits_used_ = 0;
    edit_keys_.clear();
    edited_events_ = 0;
    argv_.clear();
    argvlen_.clear();
    resp_.clear();
}

LiveBatch::KeySlot* LiveBatch::find_slot(std::string_view vid) noexcept {
    const size_t mask = key_table_.size() - 1;
    for (size_t i = std::hash<std::string_view>{}(vid)&mask;; i = (i + 1) & mask) {
        KeySlot& k = key_table_[i];
        if (k.stamp != stamp_ || k.vid == vid) {
            return &k;
        }
    }
}

void LiveBatch::grow_keys() {
    std::vector<KeySlot> old(key_table_.empty() ? 16 : key_table_.size() * 2);
    old.swap(key_table_);
    for (const KeySlot& k : old) {
        if (k.stamp == stamp_) {
            *find_slot(k.vid) = k;
        }
    }
}

bool LiveBatch::has_visitor(std::string_view vid) noexcept {
    if (last_key_ != 0 && vid == last_vid_) {
        return true;
    }
    return !key_table_.empty() && find_slot(vid)->stamp == stamp_;
}

// The KEYS index of a visitor the batch holds (has_visitor()).
uint32_t LiveBatch::find_key(std::string_view vid) noexcept {
    if (last_key_ != 0 && vid == last_vid_) {
        return last_key_;
    }
    return find_slot(vid)->index;
}

uint32_t LiveBatch::key_for(std::string_view vid) {
    // a batch is mostly runs of one visitor's events (a page view and its product view)
    if (last_key_ != 0 && vid == last_vid_) {
        return last_key_;
    }
    if (2 * (visitors_ + 1) > key_table_.size()) {
        grow_keys();
    }
    KeySlot* slot = find_slot(vid);
    if (slot->stamp != stamp_) {
        // KEYS is 1-based; the stream (when appended to) is KEYS[1].
        const auto index =
            static_cast<uint32_t>(keys_.size()) + 1 + (config_.append_to_stream ? 1 : 0);
        // all or nothing: visitor_edit_ is indexed by keys_.size() / 2 (visitor_of)
        const size_t keys_before = keys_.size();
        const size_t strings_before = strings_.size();
        visitor_edit_.push_back(kUndecided);
        try {
            for (VisitorKeyKind kind : {VisitorKeyKind::kLive, VisitorKeyKind::kEvents}) {
                const size_t at = strings_.size();
                strings_.resize(at + visitor_key_size(vid, kind));
                write_visitor_key(strings_.data() + at, vid, kind);
                keys_.emplace_back(at, strings_.size() - at);
            }
        } catch (...) {
            keys_.resize(keys_before);
            strings_.resize(strings_before);
            visitor_edit_.pop_back();
            throw;
        }
        *slot = KeySlot{vid, index, stamp_};
        visitors_++;
    }
    last_vid_ = vid;
    last_key_ = slot->index;
    return slot->index;
}

LiveBatch::Span LiveBatch::number(int64_t v) {
    if (v >= 0 && v < 10) {
        return {static_cast<size_t>(v), 1};
    }
    if (v >= 10 && v < 100) {
        return {10 + 2 * static_cast<size_t>(v - 10), 2};
    }
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    const Span at{strings_.size(), static_cast<size_t>(r.ptr - buf)};
    strings_.append(buf, r.ptr);
    return at;
}

LiveBatch::Span LiveBatch::number(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    const Span at{strings_.size(), static_cast<size_t>(r.ptr - buf)};
    strings_.append(buf, r.ptr);
    return at;
}

bool LiveBatch::add(std::string_view blob, const LiveFacts* facts,
                    std::string_view live_before) noexcept {
    const std::optional<LiveFacts> f =
        facts != nullptr ? std::optional<LiveFacts>(*facts) : live_facts(blob);
    if (!f || f->type.empty() || !is_valid_vid(f->vid) ||
        (!f->previous_vid.empty() && !is_valid_vid(f->previous_vid))) {
        return false;
    }
    if (config_.max_visitors != 0 && f->time_s && !events_.empty() &&
        cap_units_ + cap_need(*f, live_before) > 4 * static_cast<uint64_t>(config_.max_visitors)) {
        full_ = true;
        return false;
    }
    bool new_visitor = false;
    try {
        Pending p;
        p.blob = blob;
        p.type = f->type;
        p.vid = f->vid;
        if (!f->time_s) {
            events_.push_back(p);  // key 0: the script reports it invalid
            return true;
        }
        const size_t visitors_before = visitors_;
        p.key = key_for(f->vid);
        new_visitor = visitors_ != visitors_before;
        // without the stream (Redis Cluster) the previous visitor's keys are in another slot
        if (config_.append_to_stream && !f->previous_vid.empty() && f->type == "Identify" &&
            f->previous_vid != f->vid) {
            const size_t before_previous = visitors_;
            p.previous = key_for(f->previous_vid);
            if (visitors_ != before_previous) {  // the script loads its map whole: one visitor
                cap_weight_.resize(visitors_, 0);
                cap_weight_[visitor_of(p.previous)] = 4;
                cap_units_ += 4;
            }
        }
        p.time = number(*f->time_s);
        p.src = f->src;
        if (f->has_seq) {
            p.seq = f->seq_integer ? number(f->seq_int) : number(f->seq);
        }
        if (f->product_event()) {
            p.sku = f->product();
            p.category = f->category;
            if (const std::optional<int64_t> price = f->price_minor(config_.money_scale)) {
                p.price = number(*price);
            }
            p.qty = number(f->quantity());
        }
        events_.push_back(p);
        cap_weight_.resize(visitors_, 0);
    } catch (...) {
        return false;
    }
    // the merge reads the previous visitor's map as the batch left it at the Identify
    if (events_.back().previous != 0) {
        no_edit(events_.back().previous);
    }
    edit(events_.back(), *f, live_before);
    count_against_cap(visitor_of(events_.back().key), new_visitor);
    return true;
}

// The quarters an event would add to the cap, before add() takes it: a new visitor's (a
// quarter when it comes with its map read and the event is one nginx's edit can make), three
// more for a visitor counted a quarter whose event the edit cannot make (a cart change, an
// order, an Identify), and a whole one for an Identify's new previous visitor.
uint64_t LiveBatch::cap_need(const LiveFacts& f, std::string_view live_before) noexcept {
    const bool editable = f.type != "Product Added" && f.type != "Product Removed" &&
                          f.type != "Order Completed" && f.type != "Identify";
    uint64_t need = 0;
    if (!has_visitor(f.vid)) {
        need += !live_before.empty() && config_.append_to_stream && editable ? 1 : 4;
    } else if (!editable && cap_weight_[visitor_of(find_key(f.vid))] == 1) {
        need += 3;
    }
    if (!f.previous_vid.empty() && f.type == "Identify" && f.previous_vid != f.vid &&
        config_.append_to_stream && !has_visitor(f.previous_vid)) {
        need += 4;
    }
    return need;
}

// A visitor weighs a quarter while it carries nginx's edit, a whole one once it does not (an
// event the edit cannot make): the batch then takes fewer new visitors.
void LiveBatch::count_against_cap(size_t visitor, bool new_visitor) noexcept {
    const unsigned char weight = carries_edit(visitor) ? 1 : 4;
    unsigned char& counted = cap_weight_[visitor];
    if (new_visitor || (counted != 0 && counted < weight)) {
        cap_units_ += weight - counted;
        counted = weight;
    }
}

size_t LiveBatch::visitor_of(uint32_t key) const noexcept {
    return (key - 1 - (config_.append_to_stream ? 1 : 0)) / 2;
}

bool LiveBatch::carries_edit(size_t visitor) const noexcept {
    const int32_t e = visitor_edit_[visitor];
    return e >= 0 && edit_pool_[static_cast<size_t>(e)].ok();
}

void LiveBatch::no_edit(uint32_t key) noexcept {
    visitor_edit_[visitor_of(key)] = kNoEdit;
}

// The visitor's edit: started with its first event, applied with each (a void one stays so).
// Without the stream (Redis Cluster) the script never takes one.
void LiveBatch::edit(const Pending& p, const LiveFacts& f, std::string_view live_before) noexcept {
    int32_t& e = visitor_edit_[visitor_of(p.key)];
    if (e == kUndecided) {
        e = kNoEdit;
        if (live_before.empty() || !config_.append_to_stream) {
            return;
        }
        try {
            if (edits_used_ == edit_pool_.size()) {
                edit_pool_.emplace_back();
            }
        } catch (...) {
            return;
        }
        if (!edit_pool_[edits_used_].start(live_before, config_.session_gap_seconds,
                                           config_.viewed_cap)) {
            return;
        }
        e = static_cast<int32_t>(edits_used_++);
    }
    if (e >= 0) {
        const bool product = f.product_event();
        (void)edit_pool_[static_cast<size_t>(e)].apply(
            p.type, *f.time_s, p.sku, p.category,
            product ? f.price_minor(config_.money_scale) : std::nullopt);
    }
}

bool LiveBatch::same_facts(const Pending& a, const Pending& b) const noexcept {
    const std::string_view arena(strings_);
    auto text = [&](Span at) { return arena.substr(at.first, at.second); };
    return a.key == b.key && a.previous == b.previous && a.type == b.type &&
           text(a.time) == text(b.time) && a.sku == b.sku && a.category == b.category &&
           text(a.price) == text(b.price) && text(a.qty) == text(b.qty);
}

size_t LiveBatch::extra_args(std::string_view type) noexcept {
    if (type == "Product Viewed" || type == "Product Added" || type == "Product Removed") {
        return 3;
    }
    return type == "Identify" ? 1 : 0;
}

bool LiveBatch::finish() noexcept {
    if (config_.append_to_stream && config_.stream.key.empty()) {
        return false;
    }
    try {
        argv_.clear();
        argvlen_.clear();
        // Numbers go into the arena after the keys; offsets stay valid as
        // it grows, pointers are taken only at the end.
        const size_t stream_keys = config_.append_to_stream ? 1 : 0;
        // The producers of the events the script dedupes (a time, a producer and a seq), in
        // order of appearance: a batch has one but for a replayed spool. Per producer: its
        // first and last seq and its events' "<number> <seq>" list; with the stream, its
        // watermark key, after the visitors' (their indexes are taken already).
        std::vector<std::string_view>& seen = producers_;
        seen.clear();
        for (const Pending& p : events_) {
            if (p.key != 0 && !p.src.empty() && p.seq.second != 0 &&
                std::find(seen.begin(), seen.end(), p.src) == seen.end()) {
                seen.push_back(p.src);
            }
        }
        std::vector<Span>& marks = marks_;
        marks.clear();
        std::vector<std::array<Span, 3>>& seqs = seqs_;
        seqs.clear();
        for (std::string_view src : seen) {
            if (config_.append_to_stream) {
                const size_t at = strings_.size();
                strings_.append(config_.stream.key).append(":seq:").append(src);
                marks.emplace_back(at, strings_.size() - at);
            }
            std::array<Span, 3> s{};
            const size_t at = strings_.size();
            char buf[24];
            for (size_t i = 0; i < events_.size(); ++i) {
                const Pending& p = events_[i];
                if (p.key == 0 || p.src != src || p.seq.second == 0) {
                    continue;
                }
                if (s[0].second == 0) {
                    s[0] = p.seq;
                } else {
                    strings_.push_back(' ');
                }
                s[1] = p.seq;
                const auto r = std::to_chars(buf, buf + sizeof buf, i + 1);
                strings_.append(buf, r.ptr).push_back(' ');
                char seq[32];  // a copy: appending the arena to itself may move it first
                const size_t n =
                    strings_.copy(seq, std::min(sizeof seq, p.seq.second), p.seq.first);
                strings_.append(seq, n);
            }
            s[2] = Span{at, strings_.size() - at};
            seqs.push_back(s);
        }
        const Span fixed = number(static_cast<int64_t>(keys_.size() + stream_keys + marks.size()));
        const Span maxlen = number(static_cast<int64_t>(config_.stream.maxlen));
        const Span ttl = number(static_cast<int64_t>(config_.ttl_seconds));
        const Span viewed = number(static_cast<int64_t>(config_.viewed_cap));
        const Span cart = number(static_cast<int64_t>(config_.cart_cap));
        const Span gap = number(static_cast<int64_t>(config_.session_gap_seconds));
        const Span producers = number(static_cast<int64_t>(seen.size()));
        // the visitors whose every event applied to the map their first one's request read
        edit_keys_.clear();
        std::vector<Span>& edit_indexes = edit_indexes_;
        edit_indexes.clear();
        for (size_t v = 0; v < visitor_edit_.size(); ++v) {
            if (carries_edit(v)) {
                const auto key = static_cast<uint32_t>(2 * v + 1 + stream_keys);
                edit_keys_.push_back(key);
                edit_indexes.push_back(number(static_cast<int64_t>(key)));
            }
        }
        const Span edits = number(static_cast<int64_t>(edit_keys_.size()));
        edited_events_ = 0;
        for (const Pending& p : events_) {
            edited_events_ += p.key != 0 && carries_edit(visitor_of(p.key)) ? 1 : 0;
        }
        std::vector<std::pair<Span, Span>>& indexes = indexes_;
        indexes.clear();
        size_t per_event = 0;
        for (size_t i = 0; i < events_.size(); ++i) {
            Pending& p = events_[i];
            indexes.emplace_back(number(static_cast<int64_t>(p.key)),
                                 number(static_cast<int64_t>(p.previous)));
            p.repeats = i > 0 && same_facts(events_[i - 1], p);
            per_event += p.repeats ? 2 : 4 + extra_args(p.type);
        }

        const size_t argc = 3 + stream_keys + keys_.size() + marks.size() + kFixedArgs +
                            4 * seen.size() + 1 + 3 * edit_keys_.size() + per_event;
        argv_.reserve(argc);
        argvlen_.reserve(argc);
        auto add = [&](std::string_view s) {
            argv_.push_back(s.data());
            argvlen_.push_back(s.size());
        };
        const std::string_view arena(strings_);
        auto from = [&](Span at) { add(arena.substr(at.first, at.second)); };
        add("EVALSHA");
        add(live_script_sha1());
        from(fixed);
        if (stream_keys != 0) {
            add(config_.stream.key);
        }
        for (const Span& k : keys_) {
            from(k);
        }
        for (const Span& k : marks) {
            from(k);
        }
        add("6");
        add(config_.append_to_stream ? "s" : "-");
        for (const Span& at : {maxlen, ttl, viewed, cart, gap, producers}) {
            from(at);
        }
        for (size_t j = 0; j < seen.size(); ++j) {
            add(seen[j]);
            for (const Span& at : seqs[j]) {
                from(at);
            }
        }
        from(edits);
        for (size_t k = 0; k < edit_keys_.size(); ++k) {
            const LiveMapEdit& e =
                edit_pool_[static_cast<size_t>(visitor_edit_[visitor_of(edit_keys_[k])])];
            from(edit_indexes[k]);
            add(e.read_revision());
            add(e.changed() ? e.bytes() : std::string_view());  // "": unchanged, nothing to write
        }
        for (size_t i = 0; i < events_.size(); ++i) {
            const Pending& p = events_[i];
            if (p.repeats) {
                add("=");  // a run: the facts of the event before it, sent once
                add(p.blob);
                continue;
            }
            from(indexes[i].first);
            from(p.time);
            add(p.type);
            add(p.blob);
            switch (extra_args(p.type)) {
                case 3:
                    add(p.sku);
                    if (p.type == "Product Viewed") {
                        add(p.category);
                        from(p.price);
                    } else {
                        from(p.price);
                        from(p.qty);
                    }
                    break;
                case 1:
                    from(indexes[i].second);
                    break;
                default:
                    break;
            }
        }
        return true;
    } catch (...) {
        argv_.clear();
        argvlen_.clear();
        return false;
    }
}

std::string_view LiveBatch::resp() noexcept {
    const int argc = static_cast<int>(argv_.size());
    try {
        resp_.clear();
        (void)append_resp_command(&resp_, argc, argv_.data(), argvlen_.data());
    } catch (...) {
        resp_.clear();
    }
    return resp_;
}

void LiveBatch::use_eval() noexcept {
    use_eval_source(argv_.data(), argvlen_.data(), argv_.size(), kLiveScript);
}

}  // namespace tailor
