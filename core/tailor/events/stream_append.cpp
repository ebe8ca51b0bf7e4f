// StreamAppend: the shard script's (stream_script.cpp) EVALSHA argv.
#include "tailor/events/stream_append.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "tailor/store/script.h"

namespace tailor {

void StreamAppend::reset(std::string_view key, uint64_t maxlen, uint32_t ttl_seconds) noexcept {
    try {
        key_.assign(key);
    } catch (...) {
        key_.clear();  // finish() refuses
    }
    maxlen_ = maxlen;
    ttl_ = ttl_seconds;
    events_.clear();
    strings_.clear();
    argv_.clear();
    argvlen_.clear();
}

bool StreamAppend::add(std::string_view type, std::string_view vid, std::string_view src,
                       std::string_view seq, std::string_view blob) noexcept {
    try {
        events_.push_back({type, vid, src, seq, blob});
        return true;
    } catch (...) {
        return false;
    }
}

bool StreamAppend::finish() noexcept {
    if (key_.empty()) {
        return false;
    }
    try {
        using Span = std::pair<size_t, size_t>;
        auto number = [this](uint64_t v) {
            char buf[24];
            const auto r = std::to_chars(buf, buf + sizeof buf, v);
            const Span at{strings_.size(), static_cast<size_t>(r.ptr - buf)};
            strings_.append(buf, r.ptr);
            return at;
        };
        // one watermark key per producer, in order of first appearance
        std::vector<std::string_view> producers;
        std::vector<Span> marks;
        std::vector<Span> index(events_.size());
        for (size_t i = 0; i < events_.size(); ++i) {
            const Pending& p = events_[i];
            if (p.src.empty() || p.seq.empty()) {
                continue;
            }
            auto it = std::find(producers.begin(), producers.end(), p.src);
            size_t k = static_cast<size_t>(it - producers.begin());
            if (it == producers.end()) {
                producers.push_back(p.src);
                const size_t at = strings_.size();
                strings_.append(key_).append(":seq:").append(p.src);
                marks.emplace_back(at, strings_.size() - at);
            }
            index[i] = number(k + 2);  // KEYS[1] is the shard
        }
        const Span numkeys = number(1 + marks.size());
        const Span maxlen = number(maxlen_);
        const Span ttl = number(ttl_);
        const Span none = number(0);

        argv_.clear();
        argvlen_.clear();
        const size_t argc = 4 + marks.size() + kFixedArgs + kArgsPerEvent * events_.size();
        argv_.reserve(argc);
        argvlen_.reserve(argc);
        auto add = [&](std::string_view s) {
            argv_.push_back(s.data());
            argvlen_.push_back(s.size());
        };
        const std::string_view arena(strings_);
        auto from = [&](Span at) { add(arena.substr(at.first, at.second)); };
        add("EVALSHA");
        add(stream_script_sha1());
        from(numkeys);
        add(key_);
        for (const Span& m : marks) {
            from(m);
        }
        add("1");
        from(maxlen);
        from(ttl);
        for (size_t i = 0; i < events_.size(); ++i) {
            const Pending& p = events_[i];
            from(index[i].second != 0 ? index[i] : none);
            add(index[i].second != 0 ? p.seq : std::string_view());
            add(p.type);
            add(p.vid);
            add(p.blob);
        }
        return true;
    } catch (...) {
        argv_.clear();
        argvlen_.clear();
        return false;
    }
}

void StreamAppend::use_eval() noexcept {
    use_eval_source(argv_.data(), argvlen_.data(), argv_.size(), kStreamScript);
}

}  // namespace tailor
