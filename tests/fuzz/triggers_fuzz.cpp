// Triggers fuzz: what the trigger evaluator reads from outside, the stream's
// event blobs, its stored state hashes and its config file.
//
// Input: byte 0 picks the surface, the rest is its bytes:
//   0: an event blob (decode_event), folded into an empty state and into the
//      state the rest of the input describes, then forwarded as Klaviyo and
//      Segment JSON; the next check time is computed;
//   1: HGETALL pairs ("field\tvalue" lines) read back into a state;
//   2: a config file and a duration.
// Invariants: nothing crashes or leaks; a state read back from its own fields
// writes the same fields (to_fields is a fixed point after one round); a
// config that parses parses the same way twice.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tailor/events/decode.h"
#include "tailor/triggers/apply.h"
#include "tailor/triggers/config.h"
#include "tailor/triggers/forward.h"
#include "tailor/triggers/state.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

std::vector<std::pair<std::string, std::string>> fields_of(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> fields;
    while (!text.empty() && fields.size() < 256) {
        size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        size_t tab = line.find('\t');
        fields.emplace_back(
            std::string(line.substr(0, tab)),
            tab == std::string_view::npos ? std::string() : std::string(line.substr(tab + 1)));
    }
    return fields;
}

void check_round_trip(const tailor::TriggerState& state) {
    const auto once = state.to_fields();
    const auto twice = tailor::trigger_state_from_fields(once).to_fields();
    check(tailor::trigger_state_from_fields(twice).to_fields() == twice);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
    const tailor::TriggerConfig config;

    switch (data[0] % 3) {
        case 0: {
            std::optional<tailor::DecodedEvent> e = tailor::decode_event(rest);
            if (!e) {
                return 0;
            }
            tailor::TriggerState empty;
            (void)tailor::apply_trigger_event(*e, &empty);
            check_round_trip(empty);
            (void)tailor::next_trigger_check_ms(empty, config, e->ts_ms);
            (void)tailor::trigger_product_id(*e);
            (void)tailor::klaviyo_event_json(*e);
            (void)tailor::segment_event_json(*e);
            break;
        }
        case 1: {
            tailor::TriggerState state = tailor::trigger_state_from_fields(fields_of(rest));
            check_round_trip(state);
            (void)tailor::next_trigger_check_ms(state, config, 1718000000000, 1717000000000);
            break;
        }
        default: {
            tailor::TriggerConfig a;
            tailor::TriggerConfig b;
            std::string ea;
            std::string eb;
            const bool ok = tailor::parse_trigger_config(rest, &a, &ea);
            check(ok == tailor::parse_trigger_config(rest, &b, &eb));
            check(ea == eb);
            (void)tailor::parse_duration_ms(rest.substr(0, 32));
            break;
        }
    }
    return 0;
}
