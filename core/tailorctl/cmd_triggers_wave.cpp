// TriggerEvaluator::apply_in_waves: a batch's events applied with two round trips a wave.
//
// One event at a time costs a round trip each (an HGETALL when the state is not
// cached, then the EVALSHA that writes it), and the round trip, not Redis or
// this process, bounded the evaluator (docs/benchmarks.md). Visitors are
// independent, so a wave takes the next event of every visitor in the batch:
// the states it lacks are read in one pipeline, the new states written in
// another. A visitor's events keep their order (its k-th event is in wave k),
// and each wave starts from what the replies of the one before said (a
// duplicate or an erased visitor drops the cached state). An Identify, which
// also writes the state it links from, is applied alone between waves.
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cmd_triggers.h"
#include "tailor/store/keys.h"
#include "tailor/triggers/apply.h"

namespace tailorctl {

bool TriggerEvaluator::apply_in_waves(std::vector<tailor::DecodedEvent> events) {
    size_t next = 0;  // the events before it are applied
    while (next < events.size()) {
        if (events[next].type == tailor::EventType::kIdentify) {
            if (!process_event(events[next])) {
                return false;
            }
            next++;
            continue;
        }
        size_t end = next;  // up to the next Identify
        while (end < events.size() && events[end].type != tailor::EventType::kIdentify) {
            end++;
        }
        std::vector<bool> applied(end - next, false);
        for (size_t left = end - next; left > 0;) {
            // the first event not yet applied of each visitor, in stream order
            std::vector<size_t> wave;
            std::unordered_set<std::string_view> visitors;
            for (size_t i = next; i < end; i++) {
                if (!applied[i - next] && visitors.insert(events[i].vid).second) {
                    wave.push_back(i);
                }
            }
            if (!apply_wave(events, wave)) {
                return false;
            }
            for (size_t i : wave) {
                applied[i - next] = true;
            }
            left -= wave.size();
        }
        next = end;
    }
    return true;
}

bool TriggerEvaluator::apply_wave(const std::vector<tailor::DecodedEvent>& events,
                                  const std::vector<size_t>& wave) {
    // the states not cached, in one round trip
    std::vector<std::vector<std::string>> reads;
    std::vector<const std::string*> read_for;
    for (size_t i : wave) {
        if (!cached(events[i].vid)) {
            reads.push_back(
                {"HGETALL", tailor::visitor_key(events[i].vid, tailor::VisitorKeyKind::kTriggers)});
            read_for.push_back(&events[i].vid);
        }
    }
    std::unordered_map<std::string_view, tailor::TriggerState> loaded;
    if (!reads.empty()) {
        std::optional<std::vector<Reply>> replies = conn_->pipeline(reads);
        if (!replies) {
            return false;
        }
        for (size_t k = 0; k < replies->size(); k++) {
            std::optional<Reply> r(std::move((*replies)[k]));
            if (!ok(r, Reply::Type::kArray)) {
                return false;
            }
            TriggerFields f;
            for (size_t j = 0; j + 1 < r->elements.size(); j += 2) {
                f.emplace_back(r->elements[j].str, r->elements[j + 1].str);
            }
            loaded.emplace(*read_for[k], tailor::trigger_state_from_fields(f));
        }
    }

    // each visitor's new state, then every write in one round trip
    std::vector<std::vector<std::string>> writes;
    std::vector<tailor::TriggerState> states;
    writes.reserve(wave.size());
    states.reserve(wave.size());
    for (size_t i : wave) {
        const tailor::DecodedEvent& e = events[i];
        std::optional<tailor::TriggerState> c = cached(e.vid);
        tailor::TriggerState st = c ? std::move(*c) : loaded[e.vid];
        tailor::ApplyOutcome out = tailor::apply_trigger_event(e, &st);
        if (!out.link_prev.empty()) {
            return false;  // only an Identify links, and it is never in a wave
        }
        writes.push_back(
            state_write(e.vid, st, e.id, tailor::next_trigger_check_ms(st, config_, e.ts_ms)));
        states.push_back(std::move(st));
    }
    std::optional<std::vector<Reply>> replies = conn_->pipeline(writes);
    if (!replies) {
        for (size_t i : wave) {
            cache_.erase(events[i].vid);  // some may have been written
        }
        return false;
    }
    for (size_t k = 0; k < wave.size(); k++) {
        int w = state_written(events[wave[k]].vid, states[k], writes[k], std::move((*replies)[k]));
        if (w < 0) {
            return false;
        }
        counted(w);
    }
    return true;
}

}  // namespace tailorctl
