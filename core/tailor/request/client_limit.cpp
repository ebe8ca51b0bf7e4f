// ClientLimit: GCRA over a per-client bucket, the client's key, the rate's text.
#include "tailor/request/client_limit.h"

#include <algorithm>

namespace tailor {

namespace {

// Digits only (no sign, no spaces), at most `max`.
std::optional<uint32_t> parse_bounded(std::string_view text, uint32_t max) noexcept {
    if (text.empty() || text.size() > 10) {
        return std::nullopt;
    }
    uint64_t n = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (n > max) {
        return std::nullopt;
    }
    return static_cast<uint32_t>(n);
}

}  // namespace

std::optional<ClientRate> parse_client_rate(std::string_view text) noexcept {
    if (text.size() < 4 || text.substr(text.size() - 3, 2) != "r/") {
        return std::nullopt;
    }
    ClientRate rate;
    switch (text.back()) {
        case 's':
            rate.period_s = 1;
            break;
        case 'm':
            rate.period_s = 60;
            break;
        default:
            return std::nullopt;
    }
    std::optional<uint32_t> n = parse_bounded(text.substr(0, text.size() - 3), kMaxClientRequests);
    if (!n || *n == 0) {
        return std::nullopt;
    }
    rate.requests = *n;
    return rate;
}

std::optional<uint32_t> parse_client_burst(std::string_view text) noexcept {
    return parse_bounded(text, kMaxClientBurst);
}

ClientLimitVerdict client_limit_take(ClientBucket* bucket, const ClientRate& rate,
                                     uint64_t now_us) noexcept {
    const uint64_t interval = rate.interval_us();
    const uint64_t tolerance = interval * rate.burst;
    const uint64_t tat = std::max(bucket->tat_us, now_us);
    if (tat - now_us > tolerance) {
        return ClientLimitVerdict::kReject;
    }
    bucket->tat_us = tat + interval;
    return ClientLimitVerdict::kPass;
}

ClientKey client_key_ipv4(const std::array<unsigned char, 4>& address) noexcept {
    ClientKey key;
    key.bytes[0] = 4;
    std::copy(address.begin(), address.end(), key.bytes.begin() + 1);
    key.size = 5;
    return key;
}

ClientKey client_key_ipv6(const std::array<unsigned char, 16>& address) noexcept {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::equal(std::begin(kMapped), std::end(kMapped), address.begin())) {
        return client_key_ipv4({address[12], address[13], address[14], address[15]});
    }
    // one subscriber usually holds a whole /64; by address, one client
    // would have 2^64 buckets
    ClientKey key;
    key.bytes[0] = 6;
    std::copy(address.begin(), address.begin() + 8, key.bytes.begin() + 1);
    key.size = 9;
    return key;
}

}  // namespace tailor
