// WatchedBatch fuzz: the check's MGET and EXEC's answer are Redis's, so their elements are an
// outsider's. A batch of 1-4 returning visitors' page and product views (maps in the layout
// nginx edits), then any elements, of any kind and count, for decide() and committed(): no
// crash, no read outside what was given, and whatever decide() accepts is a commit of
// well-formed commands that stores only maps nginx edited.
//
// Input: byte 0: visitors (low 2 bits + 1), events (bits 2-4, + 1), whether the events carry
// seqs (bit 5); then per event 2 bytes (visitor and kind, seconds after the map's last_seen);
// then per MGET element a kind byte (nil, bytes, integer, error, other, or "the map read",
// "the map read with a byte flipped") and for bytes a length byte and that many bytes; then the
// same for EXEC's elements (their count from one byte, and whether EXEC was nil).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/encode.h"
#include "tailor/events/event.h"
#include "tailor/events/event_id.h"
#include "tailor/events/live.h"
#include "tailor/events/watched_batch.h"

namespace {

void require_at(bool ok, const char* what, int line) {
    if (!ok) {
        std::fprintf(stderr, "watched_batch_fuzz.cpp:%d: %s\n", line, what);
        std::abort();
    }
}
#define require(ok) require_at((ok), #ok, __LINE__)

constexpr int64_t kLastSeen = 1718000000;
const char* const kVids[] = {"q3Zf0x8W2mYbT1kL9cVn_A", "q3Zf0x8W2mYbT1kL9cVn_B",
                             "q3Zf0x8W2mYbT1kL9cVn_C", "q3Zf0x8W2mYbT1kL9cVn_D"};

std::string u32(uint32_t x) {
    std::string out(1, '\xce');
    for (int i = 3; i >= 0; --i) {
        out.push_back(static_cast<char>(x >> (8 * i)));
    }
    return out;
}

// A map in the layout nginx edits, with an empty viewed list.
std::string laid_out(uint32_t rev) {
    std::string m("\xde\x00\x06", 3);
    m += "\xa3rev" + u32(rev);
    m += std::string("\xa6viewed\x90", 8);
    m += std::string("\xa1v\x01", 3);
    m += "\xaa"
         "first_seen" +
         u32(kLastSeen - 60);
    m += "\xa9last_seen" + u32(kLastSeen);
    m += std::string(
        "\xab"
        "acquisition\x80",
        13);
    return m;
}

// Reads the input front to back; zeros past its end.
struct Input {
    const uint8_t* p;
    size_t n;
    uint8_t byte() {
        if (n == 0) {
            return 0;
        }
        --n;
        return *p++;
    }
    std::string_view bytes(size_t len) {
        len = len < n ? len : n;
        std::string_view out(reinterpret_cast<const char*>(p), len);
        p += len;
        n -= len;
        return out;
    }
};

// Counts the RESP commands in `s` that `lengths` cut it into; each must start as one.
void check_commands(std::string_view s, const std::vector<size_t>& lengths) {
    size_t at = 0;
    for (size_t len : lengths) {
        require(len >= 4 && at + len <= s.size());
        require(s[at] == '*');
        require(s.substr(at + len - 2, 2) == "\r\n");
        at += len;
    }
    require(at == s.size());
}

tailor::WatchedReply element(Input* in, std::string_view read, std::deque<std::string>* keep) {
    tailor::WatchedReply e;
    const uint8_t kind = in->byte();
    switch (kind % 7) {
        case 0:
            e.kind = tailor::WatchedReply::Kind::kNil;
            break;
        case 1:
            e.kind = tailor::WatchedReply::Kind::kBytes;
            e.bytes = in->bytes(in->byte());
            break;
        case 2:
            e.kind = tailor::WatchedReply::Kind::kInteger;
            e.integer = static_cast<int8_t>(in->byte());
            break;
        case 3:
            e.kind = tailor::WatchedReply::Kind::kError;
            e.bytes = in->bytes(in->byte());
            break;
        case 4:
            e.kind = tailor::WatchedReply::Kind::kOther;
            break;
        case 5:
            e.kind = tailor::WatchedReply::Kind::kBytes;
            e.bytes = read;
            break;
        default: {
            keep->emplace_back(read);
            std::string& flipped = keep->back();
            flipped[in->byte() % flipped.size()] ^= static_cast<char>(in->byte() | 1);
            e.kind = tailor::WatchedReply::Kind::kBytes;
            e.bytes = flipped;
            break;
        }
    }
    return e;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input in{data, size};
    const uint8_t head = in.byte();
    const size_t visitors = (head & 3) + 1;
    const size_t events = ((head >> 2) & 7) + 1;
    const bool seqs = (head & 32) != 0;

    const std::string read = laid_out(7);
    std::vector<std::string> blobs;
    for (size_t k = 0; k < events; ++k) {
        const uint8_t who = in.byte();
        const uint8_t when = in.byte();
        const int64_t ts_ms = (kLastSeen + when % 120) * 1000;
        auto id = tailor::EventId::generate(ts_ms);
        if (!id) {
            return 0;
        }
        tailor::Event e(*id);
        e.vid = kVids[who % visitors];
        e.ts_ms = ts_ms;
        e.path = "/p";
        e.producer = seqs ? std::string_view("w0") : std::string_view();
        e.seq = seqs ? k + 1 : 0;
        const tailor::EventProperty props[] = {{"product_id", (who & 4) ? "SKU-1" : "SKU-2"},
                                               {"price", "9.50", tailor::PropertyKind::kNumber}};
        if (who & 8) {
            e.type = tailor::EventType::kProductViewed;
            e.properties = props;
            e.property_count = 2;
        }
        std::string blob;
        if (tailor::encode_event(e, &blob).status != tailor::EncodeStatus::kOk) {
            return 0;
        }
        blobs.push_back(std::move(blob));
    }

    tailor::LiveConfig config;
    config.stream.key = "tailor:events";
    tailor::LiveBatch batch;
    batch.reset(config);
    for (const std::string& b : blobs) {
        (void)batch.add(b, nullptr, read);
    }
    if (!batch.finish()) {
        return 0;
    }
    tailor::WatchedBatch w;
    if (!w.plan(batch, 4096)) {
        return 0;
    }
    check_commands(w.check(), w.check_lengths());
    require(w.check_lengths().size() == tailor::WatchedBatch::kCheckCommands);

    std::deque<std::string> keep;  // flipped maps, viewed by the elements
    std::vector<tailor::WatchedReply> mget;
    const size_t count = w.check_elements() + (in.byte() % 3) - 1;  // sometimes one off
    for (size_t i = 0; i < count && i < 64; ++i) {
        mget.push_back(element(&in, read, &keep));
    }
    if (!w.decide(mget.data(), mget.size())) {
        return 0;
    }
    require(mget.size() == w.check_elements());
    check_commands(w.commit(), w.commit_lengths());
    require(w.commit_lengths().size() >= batch.events() + 2);
    // the commit goes into the transaction open() opened: it has no MULTI of its own
    require(w.commit().substr(0, w.commit_lengths()[0]).find("MULTI") == std::string_view::npos);
    require(w.commit().substr(w.commit().size() - w.commit_lengths().back()) ==
            "*1\r\n$4\r\nEXEC\r\n");
    require(w.reedited() <= batch.visitor_count());

    std::vector<tailor::WatchedReply> exec;
    const uint8_t shape = in.byte();
    const size_t queued = w.commit_lengths().size() - 1;  // all but EXEC
    const size_t n = (shape & 1) ? queued : in.byte() % (queued + 2);
    for (size_t i = 0; i < n; ++i) {
        exec.push_back(element(&in, read, &keep));
    }
    std::vector<tailor::LiveResult> results;
    const auto outcome = w.committed((shape & 2) != 0, exec.data(), exec.size(), &results);
    if (outcome == tailor::WatchedBatch::Outcome::kCommitted ||
        outcome == tailor::WatchedBatch::Outcome::kPartial) {
        require(results.size() == batch.events());
        require(exec.size() == queued);
    }
    if ((shape & 2) != 0) {
        require(outcome == tailor::WatchedBatch::Outcome::kConflict);
    }
    return 0;
}
