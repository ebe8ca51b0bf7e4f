// Profile and its MessagePack decoding: schema, bounds, refusals, zero copy, live merge.
#include "tailor/profile/decode.h"
#include "tailor/profile/scan.h"

#include <gtest/gtest.h>
#include <msgpack.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <string_view>

namespace tailor {
namespace {

constexpr int64_t kNow = 1750000000;  // 2025-06-15T15:06:40Z
constexpr int64_t kDay = kSecondsPerDay;

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
std::string typical_profile() {
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

bool inside(std::string_view view, std::string_view buffer) {
    return view.empty() || (view.data() >= buffer.data() &&
                            view.data() + view.size() <= buffer.data() + buffer.size());
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ProfileDecode, TypicalProfileDecodesEveryField) {
    const std::string blob = typical_profile();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile) << profile_error_name(r.error);
    const Profile& p = *r.profile;
    EXPECT_EQ(r.error, ProfileError::kNone);
    EXPECT_EQ(r.stats.unknown + r.stats.wrong_type + r.stats.over_limit, 0u);
    EXPECT_TRUE(p.has_shop_profile);
    EXPECT_FALSE(p.has_live);
    EXPECT_EQ(p.version, 1);
    EXPECT_EQ(p.first_name, "Ann");
    EXPECT_EQ(p.currency, "EUR");
    EXPECT_EQ(p.first_seen, kNow - 400 * kDay);
    EXPECT_EQ(p.orders_count, 5);
    EXPECT_EQ(p.total_spent, 48950);
    ASSERT_EQ(p.affinities.size(), 3u);
    EXPECT_DOUBLE_EQ(p.affinity("coffee"), 0.8);
    ASSERT_EQ(p.purchases.size(), 2u);
    EXPECT_EQ(p.purchases[0].sku, "COFFEE-1KG");
    EXPECT_EQ(p.purchases[0].qty, 2);
    EXPECT_EQ(p.purchases[0].cycle_days, 30);
    EXPECT_EQ(p.purchases[0].price, 1899);
    EXPECT_EQ(p.purchases[1].qty, 1);
    ASSERT_EQ(p.viewed.size(), 2u);
    EXPECT_EQ(p.viewed[0].sku, "BOOT-42");
    EXPECT_EQ(p.viewed[0].category, "shoes");
    EXPECT_EQ(p.viewed[0].price, 12900);
    ASSERT_EQ(p.cart.size(), 2u);
    EXPECT_EQ(p.cart[1].qty, 1);  // default
    EXPECT_EQ(p.cart_at, kNow - 1700);
    EXPECT_EQ(p.loyalty.points, 1200);
    EXPECT_EQ(p.loyalty.tier, "gold");
    EXPECT_EQ(p.loyalty.points_expire_at, kNow + 20 * kDay);
    EXPECT_FALSE(p.flags.any());
    EXPECT_EQ(p.consent.personalization, ConsentFlag::kGranted);
    EXPECT_EQ(p.consent.email, ConsentFlag::kDenied);
    EXPECT_EQ(p.consent.sms, ConsentFlag::kUnknown);
    ASSERT_EQ(p.attributes.size(), 3u);
    EXPECT_EQ(p.attribute("skin_type")->text, "dry");
    EXPECT_EQ(p.attribute("shoe_size")->type, AttributeType::kNumber);
    EXPECT_DOUBLE_EQ(p.attribute("shoe_size")->number, 42);
    EXPECT_TRUE(p.attribute("newsletter_vip")->boolean);
}

TEST(ProfileDecode, StringsPointIntoTheInputBuffers) {
    const std::string blob = typical_profile();
    Mp live;
    live.map(3).ks("acquisition", "x");  // wrong type, ignored
    live.s("viewed").arr(1).map(2).ks("sku", "LIVE-SKU").ki("at", kNow);
    live.s("acquisition").map(2).ks("source", "newsletter").ks("referrer", "mail.example");
    const std::string live_blob = live.str();
    const auto r = decode_profile(blob, live_blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_TRUE(inside(p.first_name, blob));
    EXPECT_TRUE(inside(p.currency, blob));
    EXPECT_TRUE(inside(p.loyalty.tier, blob));
    for (const auto& a : p.affinities)
        EXPECT_TRUE(inside(a.category, blob));
    for (const auto& x : p.purchases)
        EXPECT_TRUE(inside(x.sku, blob) && inside(x.category, blob));
    for (const auto& x : p.cart)
        EXPECT_TRUE(inside(x.sku, blob));
    for (const auto& a : p.attributes)
        EXPECT_TRUE(inside(a.name, blob) && inside(a.text, blob));
    ASSERT_EQ(p.viewed.size(), 3u);
    EXPECT_EQ(p.viewed[0].sku, "LIVE-SKU");
    EXPECT_TRUE(inside(p.viewed[0].sku, live_blob));
    EXPECT_TRUE(inside(p.viewed[1].sku, blob));
    EXPECT_EQ(p.acquisition.source, "newsletter");
    EXPECT_TRUE(inside(p.acquisition.source, live_blob));
    EXPECT_TRUE(inside(p.acquisition.referrer, live_blob));
}

TEST(ProfileDecode, EmptyBlobsGiveADefaultProfile) {
    const auto r = decode_profile({}, {});
    ASSERT_TRUE(r.profile);
    EXPECT_FALSE(r.profile->has_shop_profile);
    EXPECT_FALSE(r.profile->has_live);
    EXPECT_EQ(r.profile->orders_count, 0);
    EXPECT_EQ(r.profile->days_since_last_order(kNow), std::nullopt);
    EXPECT_TRUE(r.profile->purchases.empty());
}

TEST(ProfileDecode, MissingFieldsTakeDefaults) {
    Mp m;
    m.map(1).ks("first_name", "Bo");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_EQ(p.version, kProfileSchemaVersion);
    EXPECT_EQ(p.first_name, "Bo");
    EXPECT_EQ(p.currency, "");
    EXPECT_EQ(p.total_spent, 0);
    EXPECT_EQ(p.loyalty.points, 0);
    EXPECT_EQ(p.loyalty.tier, "");
    EXPECT_EQ(p.consent.personalization, ConsentFlag::kUnknown);
    EXPECT_FALSE(p.flags.any());
}

TEST(ProfileDecode, UnknownFieldsAreIgnoredAndCounted) {
    Mp m;
    m.map(4).ks("first_name", "Cy").ki("future_field", 7);
    m.s("nested_future").map(1).s("deep").arr(2).i(1).s("x");
    m.s("purchases").arr(1).map(2).ks("sku", "A").ks("gift_wrap", "yes");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "Cy");
    ASSERT_EQ(r.profile->purchases.size(), 1u);
    EXPECT_EQ(r.stats.unknown, 3u);
    EXPECT_EQ(r.stats.wrong_type, 0u);
}

TEST(ProfileDecode, WrongTypedFieldIsIgnoredOthersKept) {
    Mp m;
    m.map(14);
    m.s("first_name").i(5);      // not a string
    m.ks("currency", "USD");     // fine
    m.ks("orders_count", "3");   // string, not integer
    m.s("total_spent").d(12.5);  // float, not integer minor units
    m.ki("last_order_at", -5);   // negative time
    m.ki("first_seen", kNow);    // fine
    m.s("affinity").arr(0);      // not a map
    m.s("purchases").map(0);     // not an array
    m.s("loyalty").map(2).ks("points", "many").ks("tier", "silver");
    m.s("flags").map(2).ki("open_return", 1).kb("unsubscribed", true);
    m.s("consent").map(1).ks("email", "yes");
    m.s("attrs").map(2).s("list").arr(0).ks("ok", "fine");
    m.s("cart").s("nope");
    m.s("viewed").bin("binary is not a list");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_EQ(p.first_name, "");
    EXPECT_EQ(p.currency, "USD");
    EXPECT_EQ(p.orders_count, 0);
    EXPECT_EQ(p.total_spent, 0);
    EXPECT_EQ(p.last_order_at, 0);
    EXPECT_EQ(p.first_seen, kNow);
    EXPECT_EQ(p.loyalty.points, 0);
    EXPECT_EQ(p.loyalty.tier, "silver");
    EXPECT_FALSE(p.flags.open_return);
    EXPECT_TRUE(p.flags.unsubscribed);
    EXPECT_EQ(p.consent.email, ConsentFlag::kUnknown);
    ASSERT_EQ(p.attributes.size(), 1u);
    EXPECT_EQ(p.attributes[0].name, "ok");
    EXPECT_EQ(r.stats.wrong_type, 12u);
}

TEST(ProfileDecode, MalformedListElementIsSkippedOthersKept) {
    Mp m;
    m.map(1).s("purchases").arr(5);
    m.map(2).ks("sku", "A").ki("qty", 3);
    m.s("not a map");
    m.map(1).ks("category", "no sku");         // the sku is what makes a purchase
    m.map(2).ks("sku", "B").ks("qty", "two");  // bad field only: element kept, qty default
    m.map(1).s("sku").i(7);                    // sku of the wrong type: no sku
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const auto& ps = r.profile->purchases;
    ASSERT_EQ(ps.size(), 2u);
    EXPECT_EQ(ps[0].sku, "A");
    EXPECT_EQ(ps[0].qty, 3);
    EXPECT_EQ(ps[1].sku, "B");
    EXPECT_EQ(ps[1].qty, 1);
    EXPECT_EQ(r.stats.wrong_type, 5u);  // 3 elements + B's qty + the int sku
}

TEST(ProfileDecode, NilIsTheSameAsMissing) {
    Mp m;
    m.map(4).s("first_name").nil().s("purchases").nil().s("loyalty").nil();
    m.s("attrs").map(1).s("x").nil();  // an attribute needs a value
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "");
    EXPECT_TRUE(r.profile->attributes.empty());
    EXPECT_EQ(r.stats.wrong_type, 1u);  // only the valueless attribute
}

TEST(ProfileDecode, ValueRangesAreEnforcedPerField) {
    Mp m;
    m.map(1).s("purchases").arr(1).map(6).ks("sku", "A").ki("qty", 0).ki("at", kMaxTime + 1);
    m.ki("cycle_days", kMaxCycleDays + 1).ki("price", -1).s("category").u(UINT64_MAX);
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    ASSERT_EQ(r.profile->purchases.size(), 1u);
    const Purchase& p = r.profile->purchases[0];
    EXPECT_EQ(p.qty, 1);
    EXPECT_EQ(p.at, 0);
    EXPECT_EQ(p.cycle_days, 0);
    EXPECT_EQ(p.price, 0);
    EXPECT_EQ(r.stats.wrong_type, 5u);
}

TEST(ProfileDecode, AffinityScoresAcceptIntegersAndFloat32RefuseNaN) {
    Mp m;
    m.map(1).s("affinity").map(5).s("a").i(1).s("b").f(0.5f).s("c").d(std::nan(""));
    m.s("").d(0.3).s("d").s("high");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_DOUBLE_EQ(r.profile->affinity("a"), 1.0);
    EXPECT_DOUBLE_EQ(r.profile->affinity("b"), 0.5);
    EXPECT_EQ(r.profile->affinities.size(), 2u);
    EXPECT_EQ(r.stats.wrong_type, 3u);
}

TEST(ProfileDecode, KeyGivenTwiceTheLastOneCounts) {
    Mp m;
    m.map(4).ks("first_name", "Old").ks("first_name", "New");
    m.s("affinity").map(2).s("tea").d(0.1).s("tea").d(0.9);
    m.s("attrs").map(2).ks("size", "S").ks("size", "M");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "New");
    ASSERT_EQ(r.profile->affinities.size(), 1u);
    EXPECT_DOUBLE_EQ(r.profile->affinity("tea"), 0.9);
    ASSERT_EQ(r.profile->attributes.size(), 1u);
    EXPECT_EQ(r.profile->attribute("size")->text, "M");
}

TEST(ProfileDecode, Utf8PassesThroughUntouched) {
    const std::string name = "Zo\xC3\xAB \xF0\x9F\x91\x8B \xE6\x9D\xB1\xE4\xBA\xAC";
    Mp m;
    m.map(2).ks("first_name", name).s("attrs").map(1).ks("stadt", "M\xC3\xBCnchen");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, name);
    EXPECT_EQ(r.profile->attribute("stadt")->text, "M\xC3\xBCnchen");
}

// --- refusals ---------------------------------------------------------------

TEST(ProfileDecode, EveryTruncationIsRefused) {
    const std::string blob = typical_profile();
    for (size_t n = 1; n < blob.size(); ++n) {
        const auto r = decode_profile(std::string_view(blob).substr(0, n));
        ASSERT_FALSE(r.profile) << "prefix " << n;
        ASSERT_EQ(r.error, ProfileError::kTruncated) << "prefix " << n;
    }
}

TEST(ProfileDecode, NotAMapAtTopLevelIsRefused) {
    Mp arr, str, num;
    arr.arr(1).map(0);
    str.s("first_name");
    num.i(42);
    for (const std::string& blob : {arr.str(), str.str(), num.str(), std::string("\xc1")}) {
        const auto r = decode_profile(blob);
        EXPECT_FALSE(r.profile);
        EXPECT_EQ(r.error, ProfileError::kNotAMap);
    }
}

TEST(ProfileDecode, HugeDeclaredLengthsAreRefusedBeforeAllocating) {
    // Each would make msgpack-c reserve gigabytes if handed over unchecked.
    const std::string cases[] = {
        std::string("\xdf\xff\xff\xff\xff", 5),           // map32 of 4G pairs
        std::string("\x81\xa1x\xdd\xff\xff\xff\xff", 8),  // array32 of 4G items
        std::string("\x81\xa1x\xdb\xff\xff\xff\xf0"
                    "abc",
                    11),                                      // str32 of 4 GB
        std::string("\x81\xa1x\xc6\x7f\xff\xff\xff", 8),      // bin32
        std::string("\x81\xa1x\xc9\x00\x10\x00\x00\x01", 9),  // ext32
        std::string("\x81\xa1x\xdc\x00\x03\xc0\xc0", 8),      // array16 of 3, 2 present
    };
    for (const std::string& blob : cases) {
        const auto r = decode_profile(blob);
        EXPECT_FALSE(r.profile);
        EXPECT_EQ(r.error, ProfileError::kTruncated);
    }
}

TEST(ProfileDecode, TrailingBytesAreMalformed) {
    std::string blob = typical_profile();
    blob.push_back('\xc0');
    const auto r = decode_profile(blob);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kMalformed);
}

TEST(ProfileDecode, ReservedByteIsMalformed) {
    const std::string blob("\x81\xa1x\xc1", 4);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kMalformed);
}

// `depth` nested single-element arrays under an unknown key of the top map
// (itself depth 1), so the innermost array is at nesting level depth + 1.
std::string nested(size_t depth) {
    Mp m;
    m.map(2).ks("first_name", "Deep").s("x");
    for (size_t i = 0; i < depth; ++i) {
        m.arr(1);
    }
    m.nil();
    return m.str();
}

TEST(ProfileDecode, NestingAtTheDepthLimitIsAccepted) {
    const std::string blob = nested(kMaxProfileDepth - 1);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile) << profile_error_name(r.error);
    EXPECT_EQ(r.profile->first_name, "Deep");
}

TEST(ProfileDecode, NestingOnePastTheDepthLimitIsRefused) {
    const std::string blob = nested(kMaxProfileDepth);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kTooDeep);
}

TEST(ProfileDecode, NestingFarPastMsgpackStackIsRefused) {
    const std::string blob = nested(100000);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kTooDeep);
    const std::string empty_arrays = std::string("\x81\xa1x", 3) + std::string(40, '\x91') + "\x90";
    EXPECT_EQ(decode_profile(empty_arrays).error, ProfileError::kTooDeep);
}

TEST(ProfileDecode, ConfiguredDepthIsHonouredAndClampedToTheCap) {
    const std::string blob = nested(3);  // innermost at level 4
    ProfileLimits limits;
    limits.max_depth = 3;
    EXPECT_EQ(decode_profile(blob, {}, limits).error, ProfileError::kTooDeep);
    limits.max_depth = 4;
    EXPECT_TRUE(decode_profile(blob, {}, limits).profile);
    limits.max_depth = 1000;
    EXPECT_EQ(decode_profile(nested(kMaxProfileDepth), {}, limits).error, ProfileError::kTooDeep);
}

// A valid blob of exactly `size` bytes: a map whose padding string fills it.
std::string blob_of_size(size_t size) {
    Mp head;
    head.map(2).ks("first_name", "Pad").s("pad");
    const std::string prefix = head.str();
    auto header_bytes = [](size_t n) -> size_t {
        return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
    };
    for (size_t h : {1, 2, 3, 5}) {
        const size_t body = size - prefix.size() - h;
        if (header_bytes(body) == h) {
            Mp m;
            m.raw(prefix).s(std::string(body, 'p'));
            EXPECT_EQ(m.str().size(), size);
            return m.str();
        }
    }
    ADD_FAILURE() << "no padding fits " << size;
    return {};
}

TEST(ProfileDecode, SizeAtTheLimitIsAccepted) {
    const std::string blob = blob_of_size(kMaxProfileBytes);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile) << profile_error_name(r.error);
    EXPECT_EQ(r.profile->first_name, "Pad");
}

TEST(ProfileDecode, SizeOnePastTheLimitIsRefused) {
    const std::string blob = blob_of_size(kMaxProfileBytes + 1);
    const auto r = decode_profile(blob);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kTooLarge);
}

TEST(ProfileDecode, ConfiguredSizeLimitIsHonouredAndClampedToTheCap) {
    ProfileLimits limits;
    limits.max_bytes = 4096;
    EXPECT_TRUE(decode_profile(blob_of_size(4096), {}, limits).profile);
    EXPECT_EQ(decode_profile(blob_of_size(4097), {}, limits).error, ProfileError::kTooLarge);
    limits.max_bytes = SIZE_MAX;
    EXPECT_TRUE(decode_profile(blob_of_size(kMaxProfileBytes + 1), {}, limits).profile);
    EXPECT_EQ(decode_profile(blob_of_size(kMaxProfileBytesLimit + 1), {}, limits).error,
              ProfileError::kTooLarge);
}

TEST(ProfileDecode, ObjectTreeOverTheZoneCapIsRefused) {
    // 3-byte maps each cost msgpack-c 24 + 48 zone bytes: 24 per input byte.
    const size_t n = 70000;  // 210 KB of input, about 5 MB of tree
    Mp m;
    m.map(1).s("x").arr(n);
    for (size_t i = 0; i < n; ++i) {
        m.map(1).nil().nil();
    }
    const std::string blob = m.str();
    ASSERT_LE(blob.size(), kMaxProfileBytes);
    EXPECT_EQ(decode_profile(blob).error, ProfileError::kTooComplex);
}

TEST(ProfileDecode, NewerSchemaVersionIsRefused) {
    Mp m;
    m.map(2).ki("v", kProfileSchemaVersion + 1).ks("first_name", "Future");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kUnsupportedVersion);
}

TEST(ProfileDecode, VersionBelowOneIsRefused) {
    Mp zero, negative;
    zero.map(1).ki("v", 0);
    negative.map(1).ki("v", -1);
    EXPECT_EQ(decode_profile(zero.str()).error, ProfileError::kUnsupportedVersion);
    EXPECT_EQ(decode_profile(negative.str()).error, ProfileError::kUnsupportedVersion);
}

TEST(ProfileDecode, WrongTypedVersionIsIgnoredLikeAnyField) {
    Mp m;
    m.map(2).ks("v", "2").ks("first_name", "Dee");
    const std::string blob = m.str();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->version, 1);
    EXPECT_EQ(r.stats.wrong_type, 1u);
}

// --- caps -------------------------------------------------------------------

std::string purchases_blob(size_t n) {
    Mp m;
    m.map(1).s("purchases").arr(n);
    for (size_t i = 0; i < n; ++i) {
        m.map(2).ks("sku", "SKU-" + std::to_string(i)).ki("at", kNow - static_cast<int64_t>(i));
    }
    return m.str();
}

TEST(ProfileDecode, PurchasesAtTheCapAreAllKept) {
    const std::string blob = purchases_blob(kMaxPurchases);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->purchases.size(), kMaxPurchases);
    EXPECT_EQ(r.stats.over_limit, 0u);
}

TEST(ProfileDecode, PurchasesPastTheCapAreDroppedAndCounted) {
    const std::string blob = purchases_blob(kMaxPurchases + 1);
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->purchases.size(), kMaxPurchases);
    EXPECT_EQ(r.stats.over_limit, 1u);
    EXPECT_TRUE(r.profile->has_purchased("SKU-0"));  // writers put the newest first
    EXPECT_FALSE(r.profile->has_purchased("SKU-256"));
}

template <typename Fill>
std::string list_blob(std::string_view key, size_t n, Fill fill) {
    Mp m;
    m.map(1).s(key).arr(n);
    for (size_t i = 0; i < n; ++i) {
        fill(m, i);
    }
    return m.str();
}

TEST(ProfileDecode, ViewedAndCartAtTheCapKeptOnePastCounted) {
    auto viewed = [](Mp& m, size_t i) {
        m.map(2).ks("sku", "V" + std::to_string(i)).ki("at", kNow - static_cast<int64_t>(i));
    };
    auto cart = [](Mp& m, size_t i) { m.map(1).ks("sku", "C" + std::to_string(i)); };
    for (size_t extra : {0, 1}) {
        const std::string v = list_blob("viewed", kMaxViewed + extra, viewed);
        const auto rv = decode_profile(v);
        ASSERT_TRUE(rv.profile);
        EXPECT_EQ(rv.profile->viewed.size(), kMaxViewed);
        EXPECT_EQ(rv.stats.over_limit, extra);
        const std::string c = list_blob("cart", kMaxCartLines + extra, cart);
        const auto rc = decode_profile(c);
        ASSERT_TRUE(rc.profile);
        EXPECT_EQ(rc.profile->cart.size(), kMaxCartLines);
        EXPECT_EQ(rc.stats.over_limit, extra);
    }
}

std::string map_blob(std::string_view key, size_t n) {
    Mp m;
    m.map(1).s(key).map(n);
    for (size_t i = 0; i < n; ++i) {
        m.s("k" + std::to_string(i)).d(static_cast<double>(i) / 1000);
    }
    return m.str();
}

TEST(ProfileDecode, AffinitiesAndAttributesAtTheCapKeptOnePastCounted) {
    for (size_t extra : {0, 1}) {
        const std::string a = map_blob("affinity", kMaxAffinities + extra);
        const auto ra = decode_profile(a);
        ASSERT_TRUE(ra.profile);
        EXPECT_EQ(ra.profile->affinities.size(), kMaxAffinities);
        EXPECT_EQ(ra.stats.over_limit, extra);
        const std::string t = map_blob("attrs", kMaxAttributes + extra);
        const auto rt = decode_profile(t);
        ASSERT_TRUE(rt.profile);
        EXPECT_EQ(rt.profile->attributes.size(), kMaxAttributes);
        EXPECT_EQ(rt.stats.over_limit, extra);
    }
}

TEST(ProfileDecode, SingleByteCorruptionsNeverCrash) {
    const std::string blob = typical_profile();
    const unsigned char values[] = {0x00, 0xff, 0xc1, 0xdd, 0xdf, 0x7f, 0x9f, 0xdb};
    for (size_t i = 0; i < blob.size(); ++i) {
        for (unsigned char v : values) {
            std::string bad = blob;
            bad[i] = static_cast<char>(v);
            const auto r = decode_profile(bad);
            ASSERT_EQ(r.profile.has_value(), r.error == ProfileError::kNone);
        }
    }
}

// --- the live map -------------------------------------------------------------

std::string live_blob() {
    Mp m;
    m.map(7).ki("v", 1).ki("visits", 12).ki("first_seen", kNow - 500 * kDay);
    m.ki("last_seen", kNow - 60);
    m.s("viewed").arr(2);
    m.map(3).ks("sku", "BOOT-42").ki("at", kNow - 100).ki("price", 11900);  // newer view
    m.map(2).ks("sku", "SCARF").ki("at", kNow - 5000);
    m.s("cart").arr(1).map(2).ks("sku", "SCARF").ki("qty", 1);
    m.s("acquisition").map(4).ks("source", "google").ks("medium", "cpc").ks("campaign", "spring");
    m.ki("at", kNow - 500 * kDay);
    return m.str();
}

TEST(ProfileDecode, LiveMergesVisitsSeenAndAcquisition) {
    const std::string shop = typical_profile();
    const std::string live = live_blob();
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_TRUE(p.has_shop_profile);
    EXPECT_TRUE(p.has_live);
    EXPECT_EQ(p.visits, 12);
    EXPECT_EQ(p.last_seen, kNow - 60);
    EXPECT_EQ(p.first_seen, kNow - 500 * kDay);  // the earliest known
    EXPECT_EQ(p.acquisition.source, "google");
    EXPECT_EQ(p.acquisition.medium, "cpc");
    EXPECT_EQ(p.acquisition.campaign, "spring");
    EXPECT_EQ(p.acquisition.at, kNow - 500 * kDay);
    EXPECT_EQ(p.first_name, "Ann");  // shop fields untouched
}

TEST(ProfileDecode, ViewedIsOneEntryPerSkuMostRecentFirst) {
    const std::string shop = typical_profile();
    const std::string live = live_blob();
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    const auto& v = r.profile->viewed;
    ASSERT_EQ(v.size(), 3u);
    EXPECT_EQ(v[0].sku, "BOOT-42");
    EXPECT_EQ(v[0].price, 11900);  // the later view's price
    EXPECT_EQ(v[1].sku, "SCARF");
    EXPECT_EQ(v[2].sku, "TEA-GREEN");
}

TEST(ProfileDecode, ShopCartWinsWhenLiveSnapshotIsNotNewer) {
    const std::string shop = typical_profile();  // cart_at kNow - 1700
    const std::string live = live_blob();        // cart, no cart_at
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    EXPECT_TRUE(r.profile->in_cart("TEE-M"));
    EXPECT_FALSE(r.profile->in_cart("SCARF"));
}

TEST(ProfileDecode, NewerLiveCartSnapshotWins) {
    const std::string shop = typical_profile();
    Mp m;
    m.map(2).s("cart").arr(1).map(2).ks("sku", "SCARF").ki("qty", 3).ki("cart_at", kNow);
    const std::string live = m.str();
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    ASSERT_EQ(r.profile->cart.size(), 1u);
    EXPECT_EQ(r.profile->cart_line("SCARF")->qty, 3);
    EXPECT_EQ(r.profile->cart_at, kNow);
}

TEST(ProfileDecode, LiveCartIsUsedWhenTheShopHasNone) {
    Mp shop;
    shop.map(1).ks("first_name", "Eve");
    const std::string shop_blob = shop.str();
    const std::string live = live_blob();
    const auto r = decode_profile(shop_blob, live);
    ASSERT_TRUE(r.profile);
    EXPECT_TRUE(r.profile->in_cart("SCARF"));
}

TEST(ProfileDecode, LiveAloneGivesAProfileForANewVisitor) {
    const std::string live = live_blob();
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile);
    EXPECT_FALSE(r.profile->has_shop_profile);
    EXPECT_TRUE(r.profile->has_live);
    EXPECT_TRUE(r.profile->has_viewed("SCARF"));
    EXPECT_EQ(r.profile->orders_count, 0);
}

TEST(ProfileDecode, RefusedLiveKeepsTheShopProfile) {
    const std::string shop = typical_profile();
    const std::string live("\x81\xa6visits", 8);  // truncated
    const auto r = decode_profile(shop, live);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kNone);
    EXPECT_EQ(r.live_error, ProfileError::kTruncated);
    EXPECT_FALSE(r.profile->has_live);
    EXPECT_EQ(r.profile->first_name, "Ann");
    EXPECT_EQ(r.profile->viewed.size(), 2u);
}

TEST(ProfileDecode, RefusedProfileMeansNoProfileEvenWithLive) {
    const std::string live = live_blob();
    const auto r = decode_profile("\x92\x01\x02", live);
    EXPECT_FALSE(r.profile);
    EXPECT_EQ(r.error, ProfileError::kNotAMap);
}

TEST(ProfileDecode, ShopOnlyKeysInLiveAreUnknown) {
    Mp m;
    m.map(2).ks("first_name", "Mallory").ki("orders_count", 99);
    const std::string live = m.str();
    const auto r = decode_profile({}, live);
    ASSERT_TRUE(r.profile);
    EXPECT_EQ(r.profile->first_name, "");
    EXPECT_EQ(r.profile->orders_count, 0);
    EXPECT_EQ(r.stats.unknown, 2u);
}

TEST(CheckProfileBlob, RunsTheStructuralChecksOnly) {
    EXPECT_EQ(check_profile_blob({}), ProfileError::kNone);
    EXPECT_EQ(check_profile_blob(typical_profile()), ProfileError::kNone);
    EXPECT_EQ(check_profile_blob("\x91\xc0"), ProfileError::kNotAMap);
    EXPECT_EQ(check_profile_blob(nested(kMaxProfileDepth)), ProfileError::kTooDeep);
}

TEST(ProfileScan, ZoneBytesAreWhatMsgpackBuilds) {
    // {"a": [1, 2, 3], "b": {}}: one 2-pair map, one 3-item array, one empty map.
    const std::string blob(
        "\x82\xa1"
        "a\x93\x01\x02\x03\xa1"
        "b\x80",
        10);
    const BlobScan s = scan_msgpack_blob(blob, kMaxProfileDepth);
    EXPECT_EQ(s.error, ProfileError::kNone);
    EXPECT_EQ(s.zone_bytes, 2 * sizeof(msgpack_object_kv) + 3 * sizeof(msgpack_object));
}

TEST(ProfileScan, AcceptsEveryScalarEncoding) {
    Mp m;
    m.arr(13).nil().b(true).i(-1).i(-200).i(70000).u(UINT64_MAX).f(1.5f).d(2.5);
    m.s(std::string(40, 's')).s(std::string(300, 's')).bin("b");
    m.raw(std::string("\xd4\x01\x02", 3));          // fixext 1
    m.raw(std::string("\xc7\x02\x05\xaa\xbb", 5));  // ext 8
    const std::string blob = m.str();
    EXPECT_EQ(scan_msgpack_blob(blob, 1).error, ProfileError::kNone);
    EXPECT_EQ(scan_msgpack_blob(blob, 0).error, ProfileError::kTooDeep);
}

TEST(ProfileErrorName, EveryErrorHasADistinctName) {
    std::set<std::string_view> names;
    for (int i = 0; i < static_cast<int>(ProfileError::kCount); ++i) {
        names.insert(profile_error_name(static_cast<ProfileError>(i)));
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(ProfileError::kCount));
    EXPECT_EQ(profile_error_name(ProfileError::kTooDeep), "too-deep");
    EXPECT_EQ(profile_error_name(ProfileError::kUnsupportedVersion), "unsupported-version");
}

// --- accessors ----------------------------------------------------------------

TEST(Profile, AccessorsAnswerWhatRulesAsk) {
    const std::string blob = typical_profile();
    const auto r = decode_profile(blob);
    ASSERT_TRUE(r.profile);
    const Profile& p = *r.profile;
    EXPECT_EQ(p.days_since_last_order(kNow), 41);
    EXPECT_EQ(p.days_since_first_seen(kNow), 400);
    EXPECT_TRUE(p.has_purchased("COFFEE-1KG"));
    EXPECT_FALSE(p.has_purchased("COFFEE"));
    EXPECT_EQ(p.replenish_due_at("COFFEE-1KG"), kNow - 41 * kDay + 30 * kDay);
    EXPECT_EQ(p.replenish_due_at("MUG-1"), std::nullopt);  // not consumable
    EXPECT_EQ(p.replenish_due_at("NEVER"), std::nullopt);
    EXPECT_TRUE(p.in_cart("TEE-M"));
    EXPECT_FALSE(p.in_cart("MUG-1"));
    EXPECT_EQ(p.cart_quantity(), 3);
    EXPECT_EQ(p.cart_value(), 2 * 1500 + 999);
    EXPECT_TRUE(p.has_viewed("BOOT-42"));
    EXPECT_EQ(p.top_affinity()->category, "coffee");
    EXPECT_DOUBLE_EQ(p.affinity("unknown"), 0.0);
    EXPECT_EQ(p.attribute("nope"), nullptr);
}

TEST(Profile, DaysSinceIsZeroWhenTheClockIsBehind) {
    Profile p;
    p.last_order_at = kNow;
    EXPECT_EQ(p.days_since_last_order(kNow - 10), 0);
    EXPECT_EQ(p.days_since_last_order(kNow + kDay - 1), 0);
    EXPECT_EQ(p.days_since_last_order(kNow + kDay), 1);
}

TEST(Profile, LastPurchaseOfPicksTheLatest) {
    Profile p;
    p.purchases.push_back(Purchase{"A", "", kNow - 10 * kDay, 1, 0, 0});
    p.purchases.push_back(Purchase{"A", "", kNow - 2 * kDay, 4, 14, 0});
    EXPECT_EQ(p.last_purchase_of("A")->qty, 4);
    EXPECT_EQ(p.replenish_due_at("A"), kNow + 12 * kDay);
}

TEST(Profile, CartValueSaturatesInsteadOfOverflowing) {
    Profile p;
    for (int i = 0; i < 64; ++i) {
        p.cart.push_back(CartLine{"X", kMaxQuantity, 0, kMaxMoney});
    }
    EXPECT_EQ(p.cart_value(), INT64_MAX);
}

TEST(Profile, EmptyProfileHasNoTopAffinity) {
    Profile p;
    EXPECT_EQ(p.top_affinity(), nullptr);
    EXPECT_EQ(p.days_since_first_seen(kNow), std::nullopt);
    EXPECT_EQ(p.cart_value(), 0);
}

// --- the example profiles (tests/data/profiles, encoded into the fuzz seeds) ----

std::string example(const char* name) {
    return read_file(std::string(TAILOR_SOURCE_DIR) + "/tests/fuzz/corpus/profile/" + name +
                     ".msgpack");
}

TEST(ProfileExamples, EachDecodesCleanly) {
    for (const char* name :
         {"new_visitor", "first_time_buyer", "repeat_buyer", "lapsed_customer", "vip_with_cart"}) {
        const std::string blob = example(name);
        ASSERT_FALSE(blob.empty()) << name;
        const auto r = decode_profile(blob);
        ASSERT_TRUE(r.profile) << name << ": " << profile_error_name(r.error);
        EXPECT_EQ(r.stats.unknown + r.stats.wrong_type + r.stats.over_limit, 0u) << name;
    }
}

TEST(ProfileExamples, LifecycleFactsMatchTheirNames) {
    const std::string nv = example("new_visitor");
    const std::string ftb = example("first_time_buyer");
    const std::string rb = example("repeat_buyer");
    const std::string lc = example("lapsed_customer");
    const std::string vip = example("vip_with_cart");
    const auto r_nv = decode_profile(nv);
    const auto r_ftb = decode_profile(ftb);
    const auto r_rb = decode_profile(rb);
    const auto r_lc = decode_profile(lc);
    const auto r_vip = decode_profile(vip);
    ASSERT_TRUE(r_nv.profile && r_ftb.profile && r_rb.profile && r_lc.profile && r_vip.profile);
    EXPECT_EQ(r_nv.profile->orders_count, 0);
    EXPECT_EQ(r_ftb.profile->orders_count, 1);
    EXPECT_GE(r_rb.profile->orders_count, 2);
    EXPECT_GT(r_lc.profile->days_since_last_order(kNow).value_or(0), 180);
    EXPECT_FALSE(r_vip.profile->cart.empty());
    EXPECT_EQ(r_vip.profile->loyalty.tier, "vip");
}

}  // namespace
}  // namespace tailor
