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

void WatchedBatch::command(std::string* out, std::vector<size_t>* lengths,
                           std::initializer_list<std::string_view> args) {
    const char* argv[16];
    size_t argvlen[16];
    int argc = 0;
    for (std::string_view a : args) {
        argv[argc] = a.data();
        argvlen[argc] = a.size();
        ++argc;
    }
    const size_t bytes = resp_command_bytes(argc, argvlen);
    const size_t at = out->size();
    out->resize(at + bytes);
    const size_t n = write_resp_command(out->data() + at, bytes, argc, argv, argvlen);
    out->resize(at + n);
    lengths->push_back(n);
}

bool WatchedBatch::plan(const LiveBatch& batch) noexcept {
    batch_ = &batch;
    const LiveConfig& config = batch.config();
    if (!config.append_to_stream || config.stream.key.empty() || batch.events() == 0 ||
        batch.visitor_count() == 0) {
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
    std::vector<const char*> argv;
    std::vector<size_t> argvlen;
    argv.reserve(1 + 3 * visitors_ + 2 * marks_);
    argvlen.reserve(argv.capacity());
    auto add = [&](std::string_view s) {
        argv.push_back(s.data());
        argvlen.push_back(s.size());
    };
    auto flush = [&] {
        const size_t bytes = resp_command_bytes(static_cast<int>(argv.size()), argvlen.data());
        const size_t at = check_.size();
        check_.resize(at + bytes);
        const size_t n = write_resp_command(
            check_.data() + at, bytes, static_cast<int>(argv.size()), argv.data(), argvlen.data());
        check_.resize(at + n);
        check_lengths_.push_back(n);
        argv.clear();
        argvlen.clear();
        return n != 0;
    };
    check_.clear();
    check_lengths_.clear();
    add("WATCH");
    for (size_t v = 0; v < visitors_; ++v) {
        add(batch.visitor(v).live_key);
    }
    for (size_t j = 0; j < marks_; ++j) {
        add(batch.producer(j).mark_key);
    }
    if (!flush()) {
        return false;
    }
    add("MGET");
    for (size_t v = 0; v < visitors_; ++v) {
        add(batch.visitor(v).live_key);
    }
    for (size_t v = 0; v < visitors_; ++v) {
        add(tombstones_[v]);
    }
    for (size_t j = 0; j < marks_; ++j) {
        add(batch.producer(j).mark_key);
    }
    return flush();
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
            high = seq_number(mark.bytes).value_or(-1);
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
            } else if (!edit_again(v, stored.bytes)) {
                return false;
            }
        }
        return build_commit();
    } catch (...) {
        return false;
    }
}

// Another batch wrote the visitor's map after its request read it: its events again, on the
// map stored now (which WATCH holds until EXEC).
bool WatchedBatch::edit_again(size_t v, std::string_view stored) {
    const LiveBatch& batch = *batch_;
    const LiveConfig& config = batch.config();
    if (reedited_ == again_.size()) {
        again_.emplace_back();
    }
    LiveMapEdit& e = again_[reedited_];
    if (!e.start(stored, config.session_gap_seconds, config.viewed_cap)) {
        return false;
    }
    for (size_t i = 0; i < batch.events(); ++i) {
        if (batch.event_visitor(i) != v) {
            continue;
        }
        const LiveBatch::EditFacts f = batch.edit_facts(i);
        if (!e.apply(f.type, f.time_s, f.sku, f.category, f.price)) {
            return false;
        }
        ++reedited_events_;
    }
    ++reedited_;
    maps_[v] = e.changed() ? e.bytes() : std::string_view();
    return true;
}

bool WatchedBatch::build_commit() {
    const LiveBatch& batch = *batch_;
    const LiveConfig& config = batch.config();
    const std::string_view stream = config.stream.key;
    ttl_ = decimal(config.ttl_seconds);
    maxlen_ = decimal(config.stream.maxlen);
    commit_.clear();
    commit_lengths_.clear();
    command(&commit_, &commit_lengths_, {"MULTI"});
    for (size_t i = 0; i < batch.events(); ++i) {
        const LiveBatch::EventView e = batch.event(i);
        command(&commit_, &commit_lengths_,
                {"XADD", stream, "*", "type", e.type, "vid", e.vid, "e", e.blob});
    }
    for (size_t v = 0; v < visitors_; ++v) {
        if (!maps_[v].empty()) {
            command(&commit_, &commit_lengths_,
                    {"SET", batch.visitor(v).live_key, maps_[v], "EX", ttl_});
        }
    }
    for (size_t j = 0; j < marks_; ++j) {
        const LiveBatch::ProducerView p = batch.producer(j);
        command(&commit_, &commit_lengths_, {"SET", p.mark_key, p.last_seq, "EX", ttl_});
    }
    if (config.stream.maxlen > 0) {
        command(&commit_, &commit_lengths_, {"XTRIM", stream, "MAXLEN", "~", maxlen_});
    }
    command(&commit_, &commit_lengths_, {"EXEC"});
    queued_ = commit_lengths_.size() - 2;
    for (size_t len : commit_lengths_) {
        if (len == 0) {
            return false;
        }
    }
    return true;
}

WatchedBatch::Outcome WatchedBatch::committed(bool nil, const WatchedReply* elements,
                                              size_t n) const noexcept {
    using Kind = WatchedReply::Kind;
    if (nil) {
        return Outcome::kConflict;
    }
    if (batch_ == nullptr || elements == nullptr || n != queued_) {
        return Outcome::kFailed;
    }
    for (size_t k = 0; k < n; ++k) {
        const bool xadd = k < batch_->events();
        if (elements[k].kind == Kind::kError || elements[k].kind == Kind::kOther ||
            (xadd && elements[k].kind != Kind::kBytes)) {
            return Outcome::kFailed;
        }
    }
    return Outcome::kCommitted;
}

}  // namespace tailor
