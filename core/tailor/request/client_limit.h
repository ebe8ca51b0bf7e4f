// ClientLimit: how often one client may make the module mint a visitor id or write a beacon.
//
// Every cookie-less page view mints an id and every beacon writes Redis, so
// one client rotating cookies could fill Redis; the per-visitor limits reset
// with each new cookie. This is the per-client limit under them
// (tailor_limit_zone): the math of a generic cell rate algorithm (GCRA, the
// leaky bucket limit_req keeps as "excess"), the client's key (its address,
// an IPv6 client by its /64, which one subscriber usually holds whole), and
// the parser of the rate as limit_req writes it. Pure: the glue keeps the
// buckets in shared memory under a lock and passes the clock in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace tailor {

// The steady rate and the burst a zone allows each client.
struct ClientRate {
    uint32_t requests = 0;  // per period, 1..kMaxClientRequests
    uint32_t period_s = 1;  // 1 (r/s) or 60 (r/m)
    uint32_t burst = 0;     // excess requests allowed at once, 0..kMaxClientBurst

    // microseconds between two requests at the steady rate
    [[nodiscard]] uint64_t interval_us() const noexcept {
        return static_cast<uint64_t>(period_s) * 1000000u / requests;
    }
};

inline constexpr uint32_t kMaxClientRequests = 100000;
inline constexpr uint32_t kMaxClientBurst = 100000;

// parse_client_rate
//
// "N r/s" or "N r/m" written together, as limit_req_zone's rate=: N from 1
// to kMaxClientRequests, digits only. Leaves burst at 0.
// Example:
//   parse_client_rate("30r/m")->requests == 30, ->period_s == 60
//   parse_client_rate("0r/s") == std::nullopt
[[nodiscard]] std::optional<ClientRate> parse_client_rate(std::string_view text) noexcept;

// parse_client_burst
//
// The burst: digits only, 0 to kMaxClientBurst.
// Example: parse_client_burst("20") == 20; parse_client_burst("-1") == std::nullopt
[[nodiscard]] std::optional<uint32_t> parse_client_burst(std::string_view text) noexcept;

// A client's bucket: the theoretical arrival time of its next request at the
// steady rate. 0: never seen (or idle, which is the same).
struct ClientBucket {
    uint64_t tat_us = 0;
};

enum class ClientLimitVerdict : unsigned char { kPass, kReject };

// client_limit_take
//
// One request of the bucket's client at `now_us` (a monotonic clock shared by
// the workers; it may step back a little between workers, which only makes
// the answer stricter for that instant). Passes when the client is at most
// `burst` requests ahead of the steady rate, and then counts the request; a
// rejected request changes nothing. So a fresh client gets burst + 1 at once,
// then one per interval: at most 1 + burst + elapsed / interval in any span.
// Example (rate 1r/s, burst 2): passes at t=0 three times, rejects the fourth;
// passes once more at t=1s.
[[nodiscard]] ClientLimitVerdict client_limit_take(ClientBucket* bucket, const ClientRate& rate,
                                                   uint64_t now_us) noexcept;

// client_bucket_idle
//
// True when the bucket no longer holds anything back at `now_us`: forgetting
// it changes no verdict, so a zone may free it.
[[nodiscard]] constexpr bool client_bucket_idle(const ClientBucket& bucket,
                                                uint64_t now_us) noexcept {
    return bucket.tat_us <= now_us;
}

// A client's key: a family byte (4 or 6), then the IPv4 address or the /64
// of an IPv6 one; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is its IPv4.
struct ClientKey {
    std::array<unsigned char, 9> bytes{};
    unsigned char size = 0;

    [[nodiscard]] std::string_view view() const noexcept {
        return {reinterpret_cast<const char*>(bytes.data()), size};
    }
};

[[nodiscard]] ClientKey client_key_ipv4(const std::array<unsigned char, 4>& address) noexcept;
[[nodiscard]] ClientKey client_key_ipv6(const std::array<unsigned char, 16>& address) noexcept;

}  // namespace tailor
