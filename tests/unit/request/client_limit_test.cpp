#include "tailor/request/client_limit.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

namespace tailor {
namespace {

constexpr uint64_t kSecond = 1000000;
constexpr uint64_t kStart = 1000 * kSecond;  // any monotonic clock reading

ClientRate rate(const char* text, uint32_t burst) {
    std::optional<ClientRate> r = parse_client_rate(text);
    EXPECT_TRUE(r) << text;
    ClientRate out = r.value_or(ClientRate{1, 1, 0});
    out.burst = burst;
    return out;
}

int passes(ClientBucket* b, const ClientRate& r, uint64_t now, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
        n += client_limit_take(b, r, now) == ClientLimitVerdict::kPass;
    }
    return n;
}

TEST(ClientLimitRate, ParsesPerSecondAndPerMinute) {
    std::optional<ClientRate> r = parse_client_rate("30r/m");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->requests, 30u);
    EXPECT_EQ(r->period_s, 60u);
    EXPECT_EQ(r->burst, 0u);
    EXPECT_EQ(r->interval_us(), 2 * kSecond);
    r = parse_client_rate("5r/s");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->period_s, 1u);
    EXPECT_EQ(r->interval_us(), 200000u);
    r = parse_client_rate("100000r/s");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->interval_us(), 10u);
}

TEST(ClientLimitRate, RefusesWhatLimitReqWouldNot) {
    for (const char* bad :
         {"", "r/s", "0r/s", "100001r/s", "-1r/s", "+1r/s", " 1r/s", "1 r/s", "1r/h", "1r/", "1/s",
          "1rs", "1r/ss", "99999999999r/s", "1.5r/s", "1r/S"}) {
        EXPECT_FALSE(parse_client_rate(bad)) << bad;
    }
}

TEST(ClientLimitBurst, DigitsUpToTheCap) {
    EXPECT_EQ(parse_client_burst("0"), 0u);
    EXPECT_EQ(parse_client_burst("20"), 20u);
    EXPECT_EQ(parse_client_burst("100000"), kMaxClientBurst);
    for (const char* bad : {"", "-1", "100001", "1k", " 1", "99999999999"}) {
        EXPECT_FALSE(parse_client_burst(bad)) << bad;
    }
}

TEST(ClientLimit, AFreshClientGetsBurstPlusOneAtOnce) {
    ClientBucket b;
    EXPECT_EQ(passes(&b, rate("1r/s", 2), kStart, 10), 3);
}

TEST(ClientLimit, BurstZeroPassesOnePerInterval) {
    ClientBucket b;
    ClientRate r = rate("2r/s", 0);
    EXPECT_EQ(passes(&b, r, kStart, 5), 1);
    EXPECT_EQ(passes(&b, r, kStart + 499999, 5), 0) << "one microsecond early";
    EXPECT_EQ(passes(&b, r, kStart + 500000, 5), 1);
}

TEST(ClientLimit, ARejectedRequestCostsNothing) {
    ClientBucket b;
    ClientRate r = rate("1r/s", 1);
    EXPECT_EQ(passes(&b, r, kStart, 2), 2);
    const uint64_t tat = b.tat_us;
    EXPECT_EQ(passes(&b, r, kStart, 1000), 0);
    EXPECT_EQ(b.tat_us, tat) << "hammering does not push the client's window out";
    EXPECT_EQ(passes(&b, r, kStart + kSecond, 5), 1);
}

TEST(ClientLimit, AfterTheWindowTheClientIsFreshAgain) {
    ClientBucket b;
    ClientRate r = rate("60r/m", 4);
    EXPECT_EQ(passes(&b, r, kStart, 10), 5);
    EXPECT_FALSE(client_bucket_idle(b, kStart));
    EXPECT_FALSE(client_bucket_idle(b, kStart + 4 * kSecond));
    EXPECT_TRUE(client_bucket_idle(b, kStart + 5 * kSecond));
    EXPECT_EQ(passes(&b, r, kStart + 5 * kSecond, 10), 5);
}

TEST(ClientLimit, AFreshBucketIsIdle) {
    EXPECT_TRUE(client_bucket_idle(ClientBucket{}, 0));
    EXPECT_TRUE(client_bucket_idle(ClientBucket{}, kStart));
}

TEST(ClientLimit, AClockThatStepsBackIsOnlyStricter) {
    // workers read the clock at slightly different moments
    ClientBucket b;
    ClientRate r = rate("1r/s", 0);
    EXPECT_EQ(passes(&b, r, kStart + 10 * kSecond, 1), 1);
    EXPECT_EQ(passes(&b, r, kStart + 9 * kSecond, 3), 0);
    EXPECT_EQ(passes(&b, r, kStart + 11 * kSecond, 3), 1);
}

TEST(ClientLimit, NeverPassesMoreThanBurstPlusRateOverAnySpan) {
    // seed printed, pinnable: TAILOR_SEED=...
    const char* pinned = std::getenv("TAILOR_SEED");
    const unsigned seed =
        pinned ? static_cast<unsigned>(std::strtoul(pinned, nullptr, 10)) : std::random_device{}();
    SCOPED_TRACE(::testing::Message() << "TAILOR_SEED=" << seed);
    std::mt19937_64 rng(seed);
    for (int round = 0; round < 50; round++) {
        ClientRate r;
        r.requests = 1 + static_cast<uint32_t>(rng() % 100);
        r.period_s = rng() % 2 ? 1 : 60;
        r.burst = static_cast<uint32_t>(rng() % 20);
        ClientBucket b;
        uint64_t now = kStart;
        uint64_t passed = 0;
        for (int i = 0; i < 2000; i++) {
            now += rng() % (r.interval_us() / 4 + 1);
            passed += client_limit_take(&b, r, now) == ClientLimitVerdict::kPass;
        }
        const uint64_t allowed = 1 + r.burst + (now - kStart) / r.interval_us();
        EXPECT_LE(passed, allowed) << r.requests << "r/" << r.period_s << "s burst " << r.burst;
        // and it does not starve a client that keeps asking: each pass comes
        // at most one step (a quarter interval) after its time
        const uint64_t step = r.interval_us() / 4 + 1;
        EXPECT_GE(passed, (now - kStart) / (r.interval_us() + step))
            << r.requests << "r/" << r.period_s << "s burst " << r.burst;
    }
}

TEST(ClientKey, IPv4IsTheWholeAddress) {
    ClientKey a = client_key_ipv4({192, 0, 2, 1});
    ClientKey b = client_key_ipv4({192, 0, 2, 2});
    EXPECT_EQ(a.size, 5);
    EXPECT_NE(a.view(), b.view());
    EXPECT_EQ(a.view(), client_key_ipv4({192, 0, 2, 1}).view());
}

TEST(ClientKey, IPv6IsItsSlash64) {
    const std::array<unsigned char, 16> one = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                               0,    0,    0,    0,    0, 0, 0, 1};
    std::array<unsigned char, 16> other_host = one;
    other_host[15] = 0xfe;
    other_host[8] = 0x12;
    std::array<unsigned char, 16> other_net = one;
    other_net[7] = 1;
    EXPECT_EQ(client_key_ipv6(one).size, 9);
    EXPECT_EQ(client_key_ipv6(one).view(), client_key_ipv6(other_host).view());
    EXPECT_NE(client_key_ipv6(one).view(), client_key_ipv6(other_net).view());
}

TEST(ClientKey, MappedIPv4IsTheIPv4Client) {
    const std::array<unsigned char, 16> mapped = {0, 0, 0,    0,    0,   0, 0, 0,
                                                  0, 0, 0xff, 0xff, 192, 0, 2, 1};
    EXPECT_EQ(client_key_ipv6(mapped).view(), client_key_ipv4({192, 0, 2, 1}).view());
}

TEST(ClientKey, FamiliesNeverShareAKey) {
    // an IPv6 /64 whose first bytes spell an IPv4 address
    const std::array<unsigned char, 16> v6 = {192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_NE(client_key_ipv6(v6).view().substr(0, 5), client_key_ipv4({192, 0, 2, 1}).view());
}

}  // namespace
}  // namespace tailor
