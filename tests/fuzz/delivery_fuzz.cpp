// Delivery fuzz: any sequence of enqueues, Redis up or down, answered, lost, failed and
// refused batches, with or without a spool, delivers every event exactly once or counts it
// dropped, and never delivers one out of order.
//
// Input: byte 0 the options (queue 4..19, batch 1..8, bit 7: a spool), byte 1's low 2 bits
// the visitor cap (0: none), then a program, one byte per step (the low 3 bits pick the step,
// the rest its argument). A model of the live script stands in for Redis: one producer, three
// visitors taking turns in runs of three events (so the cap cuts batches); an event whose seq
// is not above the highest applied is a duplicate, as the script answers. Out of order means
// "a duplicate that was never applied": an event neither applied nor counted dropped, which
// the final check catches.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/events/delivery.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"
#include "tailor/events/live_facts.h"

namespace {

// A live map in the script's layout (header, rev, an empty viewed, v): its edits are void (no
// acquisition), which the batch must survive as any other.
constexpr std::string_view kLiveRead{
    "\xde\x00\x03\xa3rev\xce\x00\x00\x00\x01\xa6viewed\x90\xa1v\x01", 23};

namespace fs = std::filesystem;

constexpr size_t kEvents = 512;

const std::vector<std::string>& blobs() {
    static const std::vector<std::string> all = [] {
        std::vector<std::string> out;
        for (uint64_t seq = 1; seq <= kEvents; seq++) {
            tailor::Event e(*tailor::EventId::generate(1718000000000));
            e.type = tailor::EventType::kPageViewed;
            static constexpr const char* kVids[] = {
                "q3Zf0x8W2mYbT1kL9cVn_A", "b7Yk2mQx9pLc4RtW1nVs_Q", "Zp4Lx7Qm2Wc9Tb1Ky8Rv_g"};
            e.vid = kVids[(seq / 3) % 3];
            e.ts_ms = 1718000000000;
            e.path = "/p";
            e.producer = "fuzz";
            e.seq = seq;
            std::string blob;
            if (tailor::encode_event(e, &blob).status != tailor::EncodeStatus::kOk) {
                std::abort();
            }
            out.push_back(std::move(blob));
        }
        return out;
    }();
    return all;
}

const std::map<std::string_view, uint64_t>& seq_of() {
    static const std::map<std::string_view, uint64_t> m = [] {
        std::map<std::string_view, uint64_t> out;
        for (size_t i = 0; i < blobs().size(); i++) {
            out.emplace(blobs()[i], i + 1);
        }
        return out;
    }();
    return m;
}

struct Model {
    uint64_t high = 0;  // highest seq applied
    uint64_t applied = 0;

    // What the script would answer for the batch; applies it when `apply`.
    std::vector<tailor::LiveResult> run(tailor::LiveBatch& b, bool apply) {
        std::vector<tailor::LiveResult> out;
        auto arg = [&b](size_t i) { return std::string_view(b.argv()[i], b.argvlen()[i]); };
        const size_t base = 3 + static_cast<size_t>(std::atoi(std::string(arg(2)).c_str()));
        // format 6: 8 fixed arguments, 4 per producer (its events' seqs: "<number> <seq> ..."),
        // the number of edits and 3 per edit (the model ignores them, as the script may), then
        // per event: key index, time, type, blob, and the facts its type needs; or "=" and the
        // blob when those are the event before it's
        const size_t producers = static_cast<size_t>(std::atoi(std::string(arg(base + 7)).c_str()));
        std::map<size_t, std::string> seq_at;
        for (size_t p = 0; p < producers; ++p) {
            const std::string list(arg(base + 8 + 4 * p + 3));
            for (size_t at = 0; at < list.size();) {
                const size_t space = list.find(' ', at);
                const size_t end = std::min(list.find(' ', space + 1), list.size());
                seq_at[std::stoul(list.substr(at, space - at))] =
                    list.substr(space + 1, end - space - 1);
                at = end + 1;
            }
        }
        if (arg(1) != tailor::live_script_sha1() || arg(base) != "6") {
            std::abort();  // the format this model reads
        }
        const size_t edits =
            static_cast<size_t>(std::atoi(std::string(arg(base + 8 + 4 * producers)).c_str()));
        size_t event = 0;
        for (size_t a = base + 8 + 4 * producers + 1 + 3 * edits;
             a < static_cast<size_t>(b.argc());) {
            ++event;
            const bool run = arg(a) == "=";
            if (run && event == 1) {
                std::abort();  // a run continues an event
            }
            auto it = seq_of().find(arg(a + (run ? 1 : 3)));
            a += run ? 2 : 4 + tailor::LiveBatch::extra_args(arg(a + 2));
            if (it == seq_of().end()) {
                out.push_back(tailor::LiveResult::kInvalid);
            } else if (seq_at[event] != std::to_string(it->second)) {
                std::abort();  // the seq sent for the event is not the blob's
            } else if (it->second > high) {
                if (apply) {
                    high = it->second;
                    applied++;
                }
                out.push_back(tailor::LiveResult::kApplied);
            } else {
                out.push_back(tailor::LiveResult::kDuplicate);
            }
        }
        return out;
    }
};

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) {
        return 0;
    }
    tailor::DeliveryOptions opts;
    opts.queue = 4 + (data[0] & 0x0F);
    opts.batch_events = 1 + ((data[0] >> 4) & 0x07);
    opts.batch_bytes = 1 << 20;
    opts.live.stream.key = "s";
    opts.live.max_visitors = size > 1 ? data[1] & 0x03 : 0;
    tailor::Delivery d(opts);

    std::string dir;
    if (data[0] & 0x80) {
        std::string templ = (fs::temp_directory_path() / "tailor-delivery-fuzz-XXXXXX").string();
        dir = ::mkdtemp(templ.data());
        tailor::SpoolOptions so;
        so.dir = dir + "/w0";
        so.max_record_bytes = 1024;
        so.segment_bytes = 4096;
        so.max_bytes = 16384;
        tailor::SpoolError err;
        std::unique_ptr<tailor::Spool> spool = tailor::Spool::open(so, &err);
        check(spool != nullptr);
        d.set_spool(std::move(spool));
    }

    Model redis;
    uint64_t next_seq = 0;
    uint64_t garbage = 0;
    bool sent = false;  // a kSend is outstanding

    for (size_t i = 2; i < size && next_seq < kEvents; i++) {
        uint8_t op = data[i] & 0x07;
        uint8_t arg = data[i] >> 3;
        switch (op) {
            case 0:
            case 1:
                for (uint8_t k = 0; k <= (arg & 0x07) && next_seq < kEvents; k++) {
                    // half with the live facts the encoder would carry beside the blob, half
                    // with a live map the request read (the pool of reads: taken, given back)
                    const std::string& blob = blobs()[next_seq++];
                    const std::optional<tailor::LiveFacts> facts = tailor::live_facts(blob);
                    (void)d.enqueue(blob, (arg & 0x08) != 0 && facts ? &*facts : nullptr,
                                    (arg & 0x10) != 0 ? kLiveRead : std::string_view());
                }
                break;
            case 2:
                if (arg == 0) {
                    (void)d.enqueue("not an event");
                    garbage++;
                }
                break;
            case 3: {  // a flush tick
                if (sent) {
                    check(d.next(true) == tailor::DeliveryStep::kBusy);
                    break;
                }
                tailor::DeliveryStep step = d.next((arg & 1) != 0);
                if (step == tailor::DeliveryStep::kSend) {
                    check(d.in_flight());
                    sent = true;
                }
                break;
            }
            case 4:  // the reply
                if (sent) {
                    d.answered(redis.run(d.batch(), true).data(), d.batch().events());
                    sent = false;
                }
                break;
            case 5:  // applied, but the reply was lost
                if (sent) {
                    (void)redis.run(d.batch(), true);
                    d.failed();
                    sent = false;
                }
                break;
            case 6:  // never arrived, or an error reply
                if (sent) {
                    d.failed();
                    sent = false;
                }
                break;
            case 7:  // the connection refused it
                if (sent) {
                    d.not_sent();
                    sent = false;
                }
                break;
        }
        check(d.queued() <= opts.queue);
        check(d.in_flight() == sent);
    }

    // Redis is back for good: everything left goes
    if (sent) {
        d.answered(redis.run(d.batch(), true).data(), d.batch().events());
    }
    for (int guard = 0; guard < 100000; guard++) {
        tailor::DeliveryStep step = d.next(true);
        if (step == tailor::DeliveryStep::kSend) {
            d.answered(redis.run(d.batch(), true).data(), d.batch().events());
        } else if (step != tailor::DeliveryStep::kRetry) {
            break;
        }
    }
    check(!d.backlog());

    tailor::DeliveryCounts c = d.take_counts();
    // applied at most once each (the model's seq check), in order: an event the model saw
    // after a later one would never be applied, so every event not applied must have been
    // counted dropped (a lost reply's events may be dropped after Redis applied them: then
    // the count is high, never low)
    check(c.flushed <= redis.applied);
    check(next_seq - redis.applied + garbage <= c.dropped + c.invalid);
    if (!dir.empty()) {
        d.set_spool(nullptr);
        fs::remove_all(dir);
    }
    return 0;
}
