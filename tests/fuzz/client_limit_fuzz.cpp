// Client limit fuzz: the zone's rate and burst text, then a client's requests over time.
//
// Input: "<rate> <burst>\n", then pairs of bytes, each a step of the clock
// (a set high bit steps it back a little, as workers' clocks may). Invariants:
// what parses prints back the same; a client never passes more than
// 1 + burst + elapsed / interval requests since its first; a rejected request
// leaves its bucket as it was.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tailor/request/client_limit.h"

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t eol = input.find('\n');
    const std::string_view head = input.substr(0, eol);
    const size_t sp = head.find(' ');
    const std::string_view rate_text = head.substr(0, sp);
    const std::string_view burst_text =
        sp == std::string_view::npos ? std::string_view() : head.substr(sp + 1);

    std::optional<tailor::ClientRate> rate = tailor::parse_client_rate(rate_text);
    std::optional<uint32_t> burst = tailor::parse_client_burst(burst_text);
    if (rate) {
        check(rate->requests >= 1 && rate->requests <= tailor::kMaxClientRequests);
        check(rate->period_s == 1 || rate->period_s == 60);
        check(rate->interval_us() >= 10);
        const std::string again =
            std::to_string(rate->requests) + (rate->period_s == 1 ? "r/s" : "r/m");
        auto reparsed = tailor::parse_client_rate(again);
        check(reparsed && reparsed->requests == rate->requests &&
              reparsed->period_s == rate->period_s);
    }
    if (burst) {
        check(*burst <= tailor::kMaxClientBurst);
    }
    if (!rate || !burst || eol == std::string_view::npos) {
        return 0;
    }
    rate->burst = *burst;

    const std::string_view steps = input.substr(eol + 1);
    const uint64_t interval = rate->interval_us();
    uint64_t now = uint64_t{1} << 40;  // a monotonic clock well past zero
    uint64_t latest = now;
    uint64_t first = 0;
    uint64_t passed = 0;
    tailor::ClientBucket bucket;
    for (size_t i = 0; i + 1 < steps.size(); i += 2) {
        const unsigned v = static_cast<unsigned char>(steps[i]) |
                           (static_cast<unsigned>(static_cast<unsigned char>(steps[i + 1])) << 8);
        const uint64_t step = (v & 0x7fff) * (interval / 256 + 1);
        now = (v & 0x8000) ? now - (step % 5000) : now + step;
        latest = now > latest ? now : latest;

        const tailor::ClientBucket before = bucket;
        if (tailor::client_limit_take(&bucket, *rate, now) == tailor::ClientLimitVerdict::kPass) {
            if (passed++ == 0) {
                first = now;
            }
            check(bucket.tat_us > before.tat_us);
            check(!tailor::client_bucket_idle(bucket, now));
        } else {
            check(bucket.tat_us == before.tat_us);
        }
        if (passed > 0 && latest >= first) {
            check(passed <= 1 + rate->burst + (latest - first) / interval);
        }
    }
    return 0;
}
