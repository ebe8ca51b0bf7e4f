// WatchedBatch: a LiveBatch as WATCH, MGET and MULTI/EXEC (model: watched_batch.h).
#include "tailor/events/watched_batch.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <optional>

#include "tailor/store/keys.h"
#include "tailor/store/resp.h"

namespace tailor {
namespace {

// A seq or a watermark as the script's tonumber() reads it; nullopt: not a number.
std::optional<double> seq_number(std::string_view s) {
    if (s.empty() || s.size() > 32) {
        return std::nullopt;
    }
    char buf[33];
    s.copy(buf, s.size());
    buf[s.size()] = '\0';
    char* end = nullptr;
    const double v = std::strtod(buf, &end);
    if (end != buf + s.size() || v != v) {
        return std::nullopt;
    }
    return v;
}

std::string decimal(uint64_t v) {
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

}  // namespace

void WatchedBatch::Commands::clear() noexcept {
    bytes.clear();
    lengths.clear();
    argv_.clear();
    argvlen_.clear();
}

void WatchedBatch::Commands::arg(std::string_view a) {
    argv_.push_back(a.data());
    argvlen_.push_back(a.size());
}

bool WatchedBatch::Commands::end() {
    const size_t n =
        append_resp_command(&bytes, static_cast<int>(argv_.size()), argv_.data(), argvlen_.data());
    lengths.push_back(n);
    argv_.clear();
    argvlen_.clear();
    return n != 0;
}

bool WatchedBatch::Commands::add(std::initializer_list<std::string_view> args) {
    for (std::string_view a : args) {
        arg(a);
    }
    return end();
}

bool WatchedBatch::plan(const LiveBatch& batch, size_t max_commands) noexcept {
    batch_ = &batch;
    const LiveConfig& config = batch.config();
    if (!config.append_to_stream || config.stream.key.empty() || batch.events() == 0 ||
        batch.visitor_count() == 0) {
        return false;
    }
    // MULTI (open()), an XADD per event, a SET per map and watermark, XTRIM, EXEC
    if (batch.events() + batch.visitor_count() + batch.producer_count() + 3 > max_commands ||
        batch.visitor_count() + batch.producer_count() > kMaxVisitors) {
        return false;
    }
    for (size_t v = 0; v < batch.visitor_count(); ++v) {
        if (batch.visitor(v).edit == nullptr) {
            return false;  // an event LiveMapEdit cannot make, or no map read: the script's
        }
    }
    for (size_t i = 0; i < batch.events(); ++i) {
        if (batch.event_visitor(i) == LiveBatch::kNoVisitor || batch.event_merges(i)) {
            return false;
        }
    }
    visitors_ = batch.visitor_count();
    marks_ = batch.producer_count();
    try {
        return build_check();
    } catch (...) {
        return false;
    }
}

bool WatchedBatch::build_check() {
    const LiveBatch& batch = *batch_;
    tombstones_.resize(visitors_);
    for (std::string& t : tombstones_) {
        t.clear();
    }
    for (size_t i = 0; i < batch.events(); ++i) {
        std::string& t = tombstones_[batch.event_visitor(i)];
        if (t.empty()) {
            t = visitor_key(batch.event(i).vid, VisitorKeyKind::kErased);
        }
    }
    check_.clear();
    // A Redis that refuses MULTI or EXEC (an ACL, a proxy) fails the check here, before any
    // WATCH, and counts toward turning the commands off (the commit itself waits for open()'s
    // +OK). EXEC, not DISCARD: a refused EXEC aborts the transaction, a refused DISCARD would
    // leave the connection in it. The empty EXEC also lets go of any WATCH left over.
    if (!check_.add({"MULTI"}) || !check_.add({"EXEC"})) {
        return false;
    }
    // Not the tombstones: Redis 7.0 checks each watched key against all the others a client
    // watches, so the keys cost their square, and the maps are enough. An erase sets the
    // tombstone, then deletes the keys: a commit after the DEL finds its map gone (EXEC does
    // nothing), one between the two ran before the erase (its map is deleted with the rest,
    // its events precede the erase's Profile Erased on the stream), and one whose check saw
    // the tombstone is not made.
    check_.arg("WATCH");
    for (size_t v = 0; v < visitors_; ++v) {
        check_.arg(batch.visitor(v).live_key);
    }
    for (size_t j = 0; j < marks_; ++j) {
        check_.arg(batch.producer(j).mark_key);
    }
    if (!check_.end()) {
        return false;
    }
    // a stream key of another type fails every XADD inside EXEC, after the maps were stored:
    // XLEN fails here instead, and the script's batch fails whole
    if (!check_.add({"XLEN", batch.config().stream.key})) {
        return false;
    }
    check_.arg("MGET");
    for (size_t v = 0; v < visitors_; ++v) {
        check_.arg(batch.visitor(v).live_key);
    }
    for (size_t v = 0; v < visitors_; ++v) {
        check_.arg(tombstones_[v]);
    }
    for (size_t j = 0; j < marks_; ++j) {
        check_.arg(batch.producer(j).mark_key);
    }
    return check_.end();
}

bool WatchedBatch::decide(const WatchedReply* elements, size_t n) noexcept {
    using Kind = WatchedReply::Kind;
    if (batch_ == nullptr || elements == nullptr || n != check_elements()) {
        return false;
    }
    const LiveBatch& batch = *batch_;
    for (size_t v = 0; v < visitors_; ++v) {
        if (elements[visitors_ + v].kind != Kind::kNil) {
            return false;  // erased (tailorctl profile erase): the script writes nothing of it
        }
    }
    for (size_t j = 0; j < marks_; ++j) {
        const WatchedReply& mark = elements[2 * visitors_ + j];
        double high = -1;
        if (mark.kind == Kind::kBytes) {
            const std::optional<double> stored = seq_number(mark.bytes);
            if (!stored) {
                return false;  // not as this code writes it: the script reads it its own way
            }
            high = *stored;
        } else if (mark.kind != Kind::kNil) {
            return false;
        }
        const std::optional<double> first = seq_number(batch.producer(j).first_seq);
        if (!first || *first <= high) {
            return false;  // a replay: the script skips what was applied
        }
    }
    try {
        maps_.assign(visitors_, std::string_view());
        again_of_.assign(visitors_, kNotAgain);
        reedited_ = 0;
        reedited_events_ = 0;
        for (size_t v = 0; v < visitors_; ++v) {
            const WatchedReply& stored = elements[v];
            if (stored.kind != Kind::kBytes) {
                return false;  // gone (expired): the script makes a first visit's map
            }
            const LiveMapEdit& edit = *batch.visitor(v).edit;
            if (stored.bytes.substr(0, kLiveRevisionBytes) == edit.read_revision()) {
                maps_[v] = edit.changed() ? edit.bytes() : std::string_view();
            } else if (!start_again(v, stored.bytes)) {
                return false;
            }
        }
        return (reedited_ == 0 || edit_again()) && build_commit();
    } catch (...) {
        return false;
    }
}

// Another batch wrote the visitor's map after its request read it: its events go again, on
// the map stored now (which WATCH holds until EXEC), in edit_again().
bool WatchedBatch::start_again(size_t v, std::string_view stored) {
    const LiveConfig& config = batch_->config();
    if (reedited_ == again_.size()) {
        again_.emplace_back();
    }
    if (!again_[reedited_].start(stored, config.session_gap_seconds, config.viewed_cap)) {
        return false;
    }
    again_of_[v] = reedited_++;
    return true;
}

// One pass over the events for every map started again.
bool WatchedBatch::edit_again() {
    const LiveBatch& batch = *batch_;
    for (size_t i = 0; i < batch.events(); ++i) {
        const size_t k = again_of_[batch.event_visitor(i)];
        if (k == kNotAgain) {
            continue;
        }
        const LiveBatch::EditFacts f = batch.edit_facts(i);
        if (!again_[k].apply(f.type, f.time_s, f.sku, f.category, f.price)) {
            return false;
        }
        ++reedited_events_;
    }
    for (size_t v = 0; v < visitors_; ++v) {
        const size_t k = again_of_[v];
        if (k != kNotAgain) {
            maps_[v] = again_[k].changed() ? again_[k].bytes() : std::string_view();
        }
    }
    return true;
}

bool WatchedBatch::build_commit() {
    const LiveBatch& batch = *batch_;
    const LiveConfig& config = batch.config();
    const std::string_view stream = config.stream.key;
    ttl_ = decimal(config.ttl_seconds);
    maxlen_ = decimal(config.stream.maxlen);
    commit_.clear();
    bool ok = true;  // MULTI went with the check (open())
    for (size_t i = 0; i < batch.events(); ++i) {
        const LiveBatch::EventView e = batch.event(i);
        ok = ok && commit_.add({"XADD", stream, "*", "type", e.type, "vid", e.vid, "e", e.blob});
    }
    for (size_t v = 0; v < visitors_; ++v) {
        if (!maps_[v].empty()) {
            ok = ok && commit_.add({"SET", batch.visitor(v).live_key, maps_[v], "EX", ttl_});
        }
    }
    for (size_t j = 0; j < marks_; ++j) {
        const LiveBatch::ProducerView p = batch.producer(j);
        ok = ok && commit_.add({"SET", p.mark_key, p.last_seq, "EX", ttl_});
    }
    if (config.stream.maxlen > 0) {
        ok = ok && commit_.add({"XTRIM", stream, "MAXLEN", "~", maxlen_});
    }
    ok = ok && commit_.add({"EXEC"});
    queued_ = commit_.lengths.size() - 1;
    return ok;
}

WatchedBatch::Outcome WatchedBatch::committed(bool nil, const WatchedReply* elements, size_t n,
                                              std::vector<LiveResult>* results) const {
    using Kind = WatchedReply::Kind;
    if (nil) {
        return Outcome::kConflict;
    }
    if (batch_ == nullptr || elements == nullptr || n != queued_) {
        return Outcome::kFailed;
    }
    bool all = true;
    for (size_t k = 0; k < n; ++k) {
        const bool xadd = k < batch_->events();
        all = all && elements[k].kind != Kind::kError && elements[k].kind != Kind::kOther &&
              (!xadd || elements[k].kind == Kind::kBytes);
    }
    results->clear();
    for (size_t i = 0; i < batch_->events(); ++i) {
        results->push_back(elements[i].kind == Kind::kBytes ? LiveResult::kApplied
                                                            : LiveResult::kInvalid);
    }
    return all ? Outcome::kCommitted : Outcome::kPartial;
}

}  // namespace tailor
