// Test helpers for the profile decoder's tests: a MessagePack builder on
// msgpack-c's own packer and the profiles the tests decode.
#pragma once

#include <gtest/gtest.h>
#include <msgpack.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

#include "tailor/profile/decode.h"

namespace tailor::profile_testing {

inline constexpr int64_t kNow = 1750000000;  // 2025-06-15T15:06:40Z
inline constexpr int64_t kDay = kSecondsPerDay;

// Mp: builds MessagePack with msgpack-c's own packer, so the tests feed the
// decoder what a real writer produces.
class Mp {
  public:
    Mp() {
        msgpack_sbuffer_init(&sb_);
        msgpack_packer_init(&pk_, &sb_, msgpack_sbuffer_write);
    }
    ~Mp() { msgpack_sbuffer_destroy(&sb_); }
    Mp(const Mp&) = delete;
    Mp& operator=(const Mp&) = delete;

    Mp& map(size_t n) { return ok(msgpack_pack_map(&pk_, n)); }
    Mp& arr(size_t n) { return ok(msgpack_pack_array(&pk_, n)); }
    Mp& s(std::string_view v) { return ok(msgpack_pack_str_with_body(&pk_, v.data(), v.size())); }
    Mp& i(int64_t v) { return ok(msgpack_pack_int64(&pk_, v)); }
    Mp& u(uint64_t v) { return ok(msgpack_pack_uint64(&pk_, v)); }
    Mp& d(double v) { return ok(msgpack_pack_double(&pk_, v)); }
    Mp& f(float v) { return ok(msgpack_pack_float(&pk_, v)); }
    Mp& b(bool v) { return ok(v ? msgpack_pack_true(&pk_) : msgpack_pack_false(&pk_)); }
    Mp& nil() { return ok(msgpack_pack_nil(&pk_)); }
    Mp& bin(std::string_view v) {
        msgpack_pack_bin(&pk_, v.size());
        return ok(msgpack_pack_bin_body(&pk_, v.data(), v.size()));
    }
    Mp& raw(std::string_view bytes) {
        return ok(msgpack_sbuffer_write(&sb_, bytes.data(), bytes.size()));
    }

    // Shorthands for a key and its value.
    Mp& ks(std::string_view k, std::string_view v) { return s(k).s(v); }
    Mp& ki(std::string_view k, int64_t v) { return s(k).i(v); }
    Mp& kb(std::string_view k, bool v) { return s(k).b(v); }

    std::string str() const { return std::string(sb_.data, sb_.size); }

  private:
    Mp& ok(int rc) {
        EXPECT_EQ(rc, 0);
        return *this;
    }
    msgpack_sbuffer sb_;
    msgpack_packer pk_;
};

// A profile like the shop writes for a repeat buyer with a cart.
inline std::string typical_profile() {
    Mp m;
    m.map(16);
    m.ki("v", 1);
    m.ks("first_name", "Ann");
    m.ks("currency", "EUR");
    m.ki("first_seen", kNow - 400 * kDay);
    m.ki("orders_count", 5);
    m.ki("last_order_at", kNow - 41 * kDay - 60);
    m.ki("total_spent", 48950);
    m.s("affinity").map(3).s("coffee").d(0.8).s("tea").d(0.2).s("mugs").d(0.5);
    m.s("purchases").arr(2);
    m.map(6).ks("sku", "COFFEE-1KG").ks("category", "coffee").ki("at", kNow - 41 * kDay);
    m.ki("qty", 2).ki("cycle_days", 30).ki("price", 1899);
    m.map(4).ks("sku", "MUG-1").ks("category", "mugs").ki("at", kNow - 90 * kDay).ki("qty", 1);
    m.s("viewed").arr(2);
    m.map(4).ks("sku", "BOOT-42").ks("category", "shoes").ki("at", kNow - 3600).ki("price", 12900);
    m.map(2).ks("sku", "TEA-GREEN").ki("at", kNow - 7200);
    m.s("cart").arr(2);
    m.map(4).ks("sku", "TEE-M").ki("qty", 2).ki("added_at", kNow - 1800).ki("price", 1500);
    m.map(3).ks("sku", "SOCKS").ki("added_at", kNow - 1700).ki("price", 999);
    m.ki("cart_at", kNow - 1700);
    m.s("loyalty")
        .map(3)
        .ki("points", 1200)
        .ks("tier", "gold")
        .ki("points_expire_at", kNow + 20 * kDay);
    m.s("flags")
        .map(3)
        .kb("open_return", false)
        .kb("open_complaint", false)
        .kb("unsubscribed", false);
    m.s("consent").map(2).kb("personalization", true).kb("email", false);
    m.s("attrs").map(3).ks("skin_type", "dry").s("shoe_size").i(42).kb("newsletter_vip", true);
    return m.str();
}

inline bool inside(std::string_view view, std::string_view buffer) {
    return view.empty() || (view.data() >= buffer.data() &&
                            view.data() + view.size() <= buffer.data() + buffer.size());
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `depth` nested single-element arrays under an unknown key of the top map
// (itself depth 1), so the innermost array is at nesting level depth + 1.
inline std::string nested(size_t depth) {
    Mp m;
    m.map(2).ks("first_name", "Deep").s("x");
    for (size_t i = 0; i < depth; ++i) {
        m.arr(1);
    }
    m.nil();
    return m.str();
}

}  // namespace tailor::profile_testing
