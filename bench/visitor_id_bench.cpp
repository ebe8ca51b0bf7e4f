// VisitorId benches: the per-request cost of knowing who the visitor is.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <string_view>

#include "tailor/visitor/consent.h"
#include "tailor/request/cookie_header.h"
#include "tailor/visitor/keyring.h"
#include "tailor/visitor/visitor_id.h"

namespace {

const tailor::Keyring& bench_keyring() {
    static const tailor::Keyring ring = [] {
        tailor::Keyring r;
        (void)r.add("k2", std::string(32, 'n'), nullptr);
        (void)r.add("k1", std::string(32, 'o'), nullptr);
        return r;
    }();
    return ring;
}

std::string signed_cookie() {
    const auto vid = tailor::VisitorId::from_string("q3Zf0x8W2mYbT1kL9cVn_A");
    return std::string(tailor::sign_visitor_id(*vid, bench_keyring())->view());
}

// A storefront's Cookie header: analytics, a CMP, a session, the cart, and
// Tailor's cookie ninth of ten, so the lookup walks most of it.
std::string storefront_cookie_header() {
    std::string h =
        "_ga=GA1.2.1234567890.1709629921; _gid=GA1.2.987654321.1709629921; "
        "_fbp=fb.1.1709629921845.1234567890; "
        "OptanonConsent=isGpcEnabled=0&datestamp=Tue+Mar+05+2024+10%3A12%3A01+GMT%2B0100"
        "&version=202401.1.0&isIABGlobal=false&hosts=&consentId=3f2a9c1e-0000-4000-8000"
        "&interactionCount=1&landingPath=NotLandingPage"
        "&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0%2CC0004%3A1&geolocation=DE%3BBE; "
        "OptanonAlertBoxClosed=2024-03-05T09:12:01.845Z; "
        "session=eyJhbGciOiJIUzI1NiJ9.eyJzaWQiOiI4ZjJhIn0.Qm9ndXNTaWduYXR1cmVGb3JCZW5jaA; "
        "cart_id=7f3c2a90-1d2b-4e6f-9a8b-0c1d2e3f4a5b; currency=EUR; ";
    h += "tailor_vid=" + signed_cookie() + "; lang=de-DE";
    return h;
}

void BM_VisitorCookie_Verify(benchmark::State& state) {
    const tailor::Keyring& ring = bench_keyring();
    const std::string cookie = signed_cookie();
    for (auto _ : state) {
        auto vid = tailor::verify_visitor_cookie(cookie, ring);
        benchmark::DoNotOptimize(vid);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VisitorCookie_Verify);

// Forged: well-formed, known kid, wrong MAC; the full cost is paid before
// the comparison fails, which is what an attacker can make us do.
void BM_VisitorCookie_Verify_Fail(benchmark::State& state) {
    const tailor::Keyring& ring = bench_keyring();
    std::string cookie = signed_cookie();
    cookie[cookie.size() - 5] = cookie[cookie.size() - 5] == 'A' ? 'B' : 'A';
    for (auto _ : state) {
        auto vid = tailor::verify_visitor_cookie(cookie, ring);
        benchmark::DoNotOptimize(vid);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VisitorCookie_Verify_Fail);

// Malformed: refused by syntax alone, no MAC computed.
void BM_VisitorCookie_Verify_Malformed(benchmark::State& state) {
    const tailor::Keyring& ring = bench_keyring();
    const std::string cookie = "GA1.2.1234567890.1709629921";
    for (auto _ : state) {
        auto vid = tailor::verify_visitor_cookie(cookie, ring);
        benchmark::DoNotOptimize(vid);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VisitorCookie_Verify_Malformed);

void BM_VisitorCookie_Sign(benchmark::State& state) {
    const tailor::Keyring& ring = bench_keyring();
    const auto vid = tailor::VisitorId::from_string("q3Zf0x8W2mYbT1kL9cVn_A");
    for (auto _ : state) {
        auto cookie = tailor::sign_visitor_id(*vid, ring);
        benchmark::DoNotOptimize(cookie);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VisitorCookie_Sign);

void BM_CookieHeader_Find(benchmark::State& state) {
    const std::string header = storefront_cookie_header();
    for (auto _ : state) {
        auto value = tailor::find_cookie(header, tailor::kDefaultVisitorCookieName);
        benchmark::DoNotOptimize(value);
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(header.size()));
    state.counters["header_bytes"] = static_cast<double>(header.size());
}
BENCHMARK(BM_CookieHeader_Find);

// Baseline: the bytes of the same header, copied.
void BM_CookieHeader_Memcpy(benchmark::State& state) {
    const std::string header = storefront_cookie_header();
    std::string copy(header.size(), '\0');
    for (auto _ : state) {
        std::memcpy(copy.data(), header.data(), header.size());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(header.size()));
}
BENCHMARK(BM_CookieHeader_Memcpy);

void BM_VisitorId_Generate(benchmark::State& state) {
    for (auto _ : state) {
        auto vid = tailor::VisitorId::generate();
        benchmark::DoNotOptimize(vid);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_VisitorId_Generate);

// The consent gate as a OneTrust storefront runs it: find the cookie, decide.
void BM_Consent_OneTrust(benchmark::State& state) {
    const std::string header = storefront_cookie_header();
    std::string error;
    const auto policy = tailor::parse_consent_policy("onetrust", &error);
    for (auto _ : state) {
        const auto value = tailor::find_cookie(header, "OptanonConsent");
        auto d = tailor::decide_consent(*policy, false, value.value_or(std::string_view()));
        benchmark::DoNotOptimize(d);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Consent_OneTrust);

}  // namespace
