// MsgpackReader fuzz: the table-driven walk against a recursive decode through head/enter/payload.
//
// Input: byte 0 picks the limits (depth, payload bytes, counts), the rest is
// the blob. Invariants: walk(), skip_value() and a recursive reader built on
// head()/enter()/payload() agree on success, on the error and on where they
// stop, and see the same containers; payload views lie inside the input;
// limits are never exceeded by what is accepted; each run repeats exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tailor/base/msgpack_reader.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

struct Recursive {
    tailor::MsgpackReader& r;
    std::string_view input;
    size_t containers = 0;

    bool value(size_t level) {
        tailor::MsgpackHead h;
        if (!r.head(&h)) {
            return false;
        }
        if (h.has_payload()) {
            std::string_view p;
            if (!r.payload(h, &p)) {
                return false;
            }
            check(p.size() == h.u && p.size() <= r.limits().max_bytes);
            check(p.data() >= input.data() && p.data() + p.size() <= input.data() + input.size());
            return true;
        }
        if (!h.is_container()) {
            return true;
        }
        if (!r.enter(h, level)) {
            return false;
        }
        check(level <= r.limits().max_depth);
        ++containers;
        for (uint64_t k = 0; k < h.values(); ++k) {
            if (!value(level + 1)) {
                return false;
            }
        }
        return true;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    const uint8_t knob = data[0];
    const std::string_view blob(reinterpret_cast<const char*>(data) + 1, size - 1);
    tailor::MsgpackLimits limits;
    limits.max_depth = knob % 40;  // past kMsgpackMaxDepth too: clamped
    if ((knob & 0x40) != 0) {
        limits.max_bytes = knob % 7;
        limits.max_array_items = knob % 5;
        limits.max_map_pairs = knob % 3;
    }

    tailor::MsgpackReader walker(blob, limits);
    size_t walked = 0;
    const bool walk_ok = walker.walk(1, [&walked](const tailor::MsgpackHead&) {
        ++walked;
        return true;
    });
    check(walk_ok == (walker.error() == tailor::MsgpackError::kNone));
    check(walker.limits().max_depth <= tailor::kMsgpackMaxDepth);

    tailor::MsgpackReader skipper(blob, limits);
    const bool skip_ok = skipper.skip_value(1);
    check(skip_ok == walk_ok && skipper.error() == walker.error());

    tailor::MsgpackReader reader(blob, limits);
    Recursive rec{reader, blob};
    const bool rec_ok = rec.value(1);
    check(rec_ok == walk_ok && reader.error() == walker.error());
    if (walk_ok) {
        check(walker.remaining() == skipper.remaining() &&
              walker.remaining() == reader.remaining());
        check(rec.containers == walked);
    }
    check(!tailor::msgpack_error_name(walker.error()).empty());

    tailor::MsgpackReader again(blob, limits);
    size_t walked_again = 0;
    check(again.walk(1, [&walked_again](const tailor::MsgpackHead&) {
        ++walked_again;
        return true;
    }) == walk_ok);
    check(walked_again == walked && again.remaining() == walker.remaining());
    return 0;
}
