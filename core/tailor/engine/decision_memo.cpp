// DecisionMemo: the key of a request's facts, lookup by facts and draws, LRU eviction.
#include "tailor/engine/decision_memo.h"

#include <functional>
#include <utility>

namespace tailor {

namespace {

// Every fact a rule can see is in the key; a new member of RequestFacts
// changes its size and stops the build here until key() says how it is
// handled (in the key, or why not).
static_assert(sizeof(void*) != 8 || sizeof(RequestFacts) == 144,
              "RequestFacts changed: put the new fact in DecisionMemo::key()");

void append_field(std::string& out, std::string_view v) {
    auto n = static_cast<uint32_t>(v.size());
    out.append(reinterpret_cast<const char*>(&n), sizeof(n));
    out.append(v);
}

size_t decision_bytes(const Decision& d) {
    size_t n = d.directives_html().size();
    for (const SlotFill& f : d.fills()) {
        n += f.name.size() + f.html.size();
    }
    for (const auto& [name, value] : d.variables()) {
        n += name.size() + value.size();
    }
    for (const Exposure& e : d.exposures()) {
        n += e.rule_id.size() + e.experiment.size() + e.variant.size();
    }
    return n;
}

}  // namespace

DecisionMemo::DecisionMemo(size_t max_entries, uint64_t generation) noexcept
    : max_entries_(max_entries), generation_(generation) {}

bool DecisionMemo::key(const RequestFacts& f, std::string* out) const {
    if (max_entries_ == 0) {
        return false;
    }
    size_t size = sizeof(generation_) + 2 + f.path.size() + f.query.size() +
                  f.referrer_source.size() + f.device_class.size() + f.popup_runtime_path.size() +
                  f.popup_beacon_path.size() + 7 * 4;
    for (size_t i = 0; i < f.cookie_count; ++i) {
        size += f.cookies[i].name.size() + f.cookies[i].value.size() + 8;
    }
    if (size > kMaxKeyBytes) {
        return false;
    }
    out->clear();
    out->reserve(size);
    out->append(reinterpret_cast<const char*>(&generation_), sizeof(generation_));
    // visitor_id: through the draws only; now: through EvalSummary::read_clock
    out->push_back(f.logged_in ? '1' : '0');
    out->push_back(f.consent_personalization ? '1' : '0');
    append_field(*out, f.path);
    append_field(*out, f.query);
    append_field(*out, f.referrer_source);
    append_field(*out, f.device_class);
    append_field(*out, f.popup_runtime_path);
    append_field(*out, f.popup_beacon_path);
    auto cookies = static_cast<uint32_t>(f.cookie_count);
    out->append(reinterpret_cast<const char*>(&cookies), sizeof(cookies));
    for (size_t i = 0; i < f.cookie_count; ++i) {
        append_field(*out, f.cookies[i].name);
        append_field(*out, f.cookies[i].value);
    }
    return true;
}

const DecisionMemo::Entry* DecisionMemo::find(std::string_view key, int64_t now, DrawFn draw,
                                              void* ctx) {
    if (max_entries_ == 0) {
        return nullptr;
    }
    uint64_t hash = std::hash<std::string_view>{}(key);
    auto [first, last] = index_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
        Entry& e = entries_[it->second];
        if (e.key != key || (e.clock && e.now != now)) {
            continue;
        }
        bool same = true;
        for (const ExperimentDraw& d : e.draws) {
            if (draw(ctx, d.experiment) != d.variant) {
                same = false;
                break;
            }
        }
        if (same) {
            e.last_used = ++tick_;
            return &e;
        }
    }
    return nullptr;
}

// The least recently used entry, or among those of `key` when it already
// has kMaxPerFacts (`*same` counts them).
size_t DecisionMemo::least_recent(uint64_t hash, std::string_view key, size_t* same) const {
    size_t oldest = entries_.size();
    size_t oldest_same = entries_.size();
    *same = 0;
    auto [first, last] = index_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
        const Entry& e = entries_[it->second];
        if (e.key == key) {
            ++*same;
            if (oldest_same == entries_.size() || e.last_used < entries_[oldest_same].last_used) {
                oldest_same = it->second;
            }
        }
    }
    if (*same >= kMaxPerFacts) {
        return oldest_same;
    }
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (oldest == entries_.size() || entries_[i].last_used < entries_[oldest].last_used) {
            oldest = i;
        }
    }
    return oldest;
}

void DecisionMemo::erase(size_t i) {
    auto drop = [this](uint64_t hash, size_t pos) {
        auto [first, last] = index_.equal_range(hash);
        for (auto it = first; it != last; ++it) {
            if (it->second == pos) {
                index_.erase(it);
                return;
            }
        }
    };
    drop(entries_[i].hash, i);
    size_t back = entries_.size() - 1;
    if (i != back) {
        drop(entries_[back].hash, back);
        entries_[i] = std::move(entries_[back]);
        index_.emplace(entries_[i].hash, i);
    }
    entries_.pop_back();
}

bool DecisionMemo::insert(std::string key, int64_t now, const EvalSummary& summary,
                          const std::vector<ExperimentDraw>& draws, const Decision& decision,
                          std::vector<RuleCountsDelta> counts) {
    if (max_entries_ == 0 || !summary.ok || summary.failures != 0 ||
        key.size() + decision_bytes(decision) > kMaxEntryBytes) {
        return false;
    }
    uint64_t hash = std::hash<std::string_view>{}(key);
    // the same facts and draws: a newer second of a clock-reading decision
    auto [first, last] = index_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
        Entry& e = entries_[it->second];
        if (e.key != key || e.draws.size() != draws.size()) {
            continue;
        }
        bool same = true;
        for (size_t i = 0; i < draws.size() && same; ++i) {
            same = e.draws[i].experiment == draws[i].experiment &&
                   e.draws[i].variant == draws[i].variant;
        }
        if (same) {
            e.clock = summary.read_clock;
            e.now = now;
            e.decision = decision;
            e.counts = std::move(counts);
            e.last_used = ++tick_;
            return true;
        }
    }
    size_t same = 0;
    size_t victim = least_recent(hash, key, &same);
    if ((same >= kMaxPerFacts || entries_.size() >= max_entries_) && victim < entries_.size()) {
        erase(victim);
    }
    Entry e;
    e.key = std::move(key);
    e.hash = hash;
    e.clock = summary.read_clock;
    e.now = now;
    e.draws = draws;
    e.decision = decision;
    e.counts = std::move(counts);
    e.last_used = ++tick_;
    entries_.push_back(std::move(e));
    index_.emplace(hash, entries_.size() - 1);
    return true;
}

}  // namespace tailor
