// ProfileDecode benches: what decoding a visitor's profile (and live map) costs per request.
#include <benchmark/benchmark.h>
#include <msgpack.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "tailor/profile/decode.h"
#include "tailor/profile/reference_decode.h"
#include "tailor/profile/scan.h"

namespace {

constexpr int64_t kNow = 1750000000;

// Packs with msgpack-c's packer, as a shop's writer would.
class Packer {
  public:
    Packer() {
        msgpack_sbuffer_init(&sb_);
        msgpack_packer_init(&pk_, &sb_, msgpack_sbuffer_write);
    }
    ~Packer() { msgpack_sbuffer_destroy(&sb_); }
    Packer(const Packer&) = delete;
    Packer& operator=(const Packer&) = delete;

    Packer& map(size_t n) {
        msgpack_pack_map(&pk_, n);
        return *this;
    }
    Packer& arr(size_t n) {
        msgpack_pack_array(&pk_, n);
        return *this;
    }
    Packer& s(std::string_view v) {
        msgpack_pack_str_with_body(&pk_, v.data(), v.size());
        return *this;
    }
    Packer& i(int64_t v) {
        msgpack_pack_int64(&pk_, v);
        return *this;
    }
    Packer& d(double v) {
        msgpack_pack_double(&pk_, v);
        return *this;
    }
    Packer& b(bool v) {
        v ? msgpack_pack_true(&pk_) : msgpack_pack_false(&pk_);
        return *this;
    }
    std::string str() const { return std::string(sb_.data, sb_.size); }

  private:
    msgpack_sbuffer sb_;
    msgpack_packer pk_;
};

std::string n(std::string_view prefix, size_t i) {
    return std::string(prefix) + std::to_string(i);
}

// A shop profile with the given list sizes; `attr_value` pads attribute values
// to reach the size a bench wants.
std::string make_profile(size_t purchases, size_t viewed, size_t cart, size_t affinities,
                         size_t attrs, size_t attr_value) {
    Packer m;
    m.map(16);
    m.s("v").i(1).s("first_name").s("Annelise").s("currency").s("EUR");
    m.s("first_seen").i(kNow - 900 * 86400).s("orders_count").i(17);
    m.s("last_order_at").i(kNow - 20 * 86400).s("total_spent").i(154300);
    m.s("affinity").map(affinities);
    for (size_t k = 0; k < affinities; ++k) {
        m.s(n("category-", k)).d(0.9 - static_cast<double>(k) / 200);
    }
    m.s("purchases").arr(purchases);
    for (size_t k = 0; k < purchases; ++k) {
        m.map(6).s("sku").s(n("COF-", k)).s("category").s(n("category-", k % 8));
        m.s("at").i(kNow - static_cast<int64_t>(k) * 86400).s("qty").i(1 + k % 3);
        m.s("cycle_days").i(k % 2 ? 30 : 0).s("price").i(1250 + static_cast<int64_t>(k));
    }
    m.s("viewed").arr(viewed);
    for (size_t k = 0; k < viewed; ++k) {
        m.map(4).s("sku").s(n("VIEW-", k)).s("category").s(n("category-", k % 8));
        m.s("at").i(kNow - static_cast<int64_t>(k) * 600).s("price").i(2400);
    }
    m.s("cart").arr(cart);
    for (size_t k = 0; k < cart; ++k) {
        m.map(4).s("sku").s(n("SKU-CART-", k)).s("qty").i(1).s("added_at").i(kNow - 300);
        m.s("price").i(1999);
    }
    m.s("cart_at").i(kNow - 300);
    m.s("loyalty").map(3).s("points").i(2450).s("tier").s("gold");
    m.s("points_expire_at").i(kNow + 30 * 86400);
    m.s("flags").map(3).s("open_return").b(false).s("open_complaint").b(false);
    m.s("unsubscribed").b(false);
    m.s("consent").map(2).s("personalization").b(true).s("email").b(true);
    m.s("attrs").map(attrs);
    for (size_t k = 0; k < attrs; ++k) {
        m.s(n("attribute_", k)).s(std::string(attr_value, 'a'));
    }
    return m.str();
}

// ~2 KB: 20 purchases, 10 viewed, 3 cart lines, 8 affinities, loyalty.
const std::string& typical() {
    static const std::string blob = make_profile(20, 10, 3, 8, 2, 8);
    return blob;
}

// ~64 KB: every list at its cap, long attribute values.
const std::string& large() {
    static const std::string blob = make_profile(256, 64, 64, 128, 64, 600);
    return blob;
}

const std::string& live() {
    static const std::string blob = [] {
        Packer m;
        m.map(6).s("v").i(1).s("visits").i(31).s("last_seen").i(kNow - 60);
        m.s("viewed").arr(5);
        for (size_t k = 0; k < 5; ++k) {
            m.map(3).s("sku").s(n("VIEW-", k * 3)).s("at").i(kNow - 30).s("price").i(2300);
        }
        m.s("cart").arr(2);
        m.map(2).s("sku").s("SKU-CART-0").s("qty").i(2);
        m.map(2).s("sku").s("SKU-CART-9").s("qty").i(1);
        m.s("acquisition").map(3).s("source").s("google").s("medium").s("cpc");
        m.s("campaign").s("summer");
        return m.str();
    }();
    return blob;
}

// 2 KB of garbage at its most expensive to refuse: a map16 header whose
// count fits the blob, then noise the scan must walk to the end before it
// finds a stray byte. Deterministic, so runs compare.
const std::string& garbage() {
    static const std::string blob = [] {
        std::string g("\xde\x03\xfe", 3);  // 1022 pairs: 2044 values in 2045 bytes
        uint32_t x = 2463534242u;
        while (g.size() < 2048) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            g.push_back(static_cast<char>(x & 0x7f));  // fixints
        }
        return g;
    }();
    return blob;
}

void decode_loop(benchmark::State& state, const std::string& blob, const std::string& live_blob) {
    for (auto _ : state) {
        auto r = tailor::decode_profile(blob, live_blob);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(blob.size() + live_blob.size()));
    state.counters["bytes"] = static_cast<double>(blob.size() + live_blob.size());
}

// The msgpack-c path decode_profile replaced (reference_decode.h), for the
// before/after in one run.
void reference_loop(benchmark::State& state, const std::string& blob,
                    const std::string& live_blob) {
    for (auto _ : state) {
        auto r = tailor::decode_profile_reference(blob, live_blob);
        benchmark::DoNotOptimize(r);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(blob.size() + live_blob.size()));
}

void BM_ProfileMemcpy_Typical(benchmark::State& state) {
    const std::string& in = typical();
    std::string out(in.size(), '\0');
    for (auto _ : state) {
        std::memcpy(out.data(), in.data(), in.size());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(in.size()));
}
BENCHMARK(BM_ProfileMemcpy_Typical);

void BM_ProfileScan_Typical(benchmark::State& state) {
    const std::string& in = typical();
    for (auto _ : state) {
        auto s = tailor::scan_msgpack_blob(in, tailor::kMaxProfileDepth);
        benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(in.size()));
}
BENCHMARK(BM_ProfileScan_Typical);

void BM_ProfileDecode_Typical(benchmark::State& state) {
    decode_loop(state, typical(), {});
}
BENCHMARK(BM_ProfileDecode_Typical);

void BM_ProfileDecode_TypicalWithLive(benchmark::State& state) {
    decode_loop(state, typical(), live());
}
BENCHMARK(BM_ProfileDecode_TypicalWithLive);

void BM_ProfileDecodeMsgpackc_Typical(benchmark::State& state) {
    reference_loop(state, typical(), {});
}
BENCHMARK(BM_ProfileDecodeMsgpackc_Typical);

void BM_ProfileDecodeMsgpackc_TypicalWithLive(benchmark::State& state) {
    reference_loop(state, typical(), live());
}
BENCHMARK(BM_ProfileDecodeMsgpackc_TypicalWithLive);

void BM_ProfileDecode_Large(benchmark::State& state) {
    decode_loop(state, large(), {});
}
BENCHMARK(BM_ProfileDecode_Large);

void BM_ProfileDecode_Fail(benchmark::State& state) {
    if (tailor::decode_profile(garbage()).profile) {
        state.SkipWithError("garbage decoded");
        return;
    }
    decode_loop(state, garbage(), {});
}
BENCHMARK(BM_ProfileDecode_Fail);

}  // namespace
