// VisitorId tests: issuing, signing and verifying `<vid>.<kid>.<mac>`, and every way it can be bad.
#include "tailor/visitor/visitor_id.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tailor/base/base64url.h"

namespace tailor {
namespace {

constexpr std::string_view kVid = "AAAAAAAAAAAAAAAAAAAAAA";  // 22 chars, like a generated one

Keyring make_ring(std::initializer_list<std::pair<std::string_view, char>> keys) {
    Keyring ring;
    for (const auto& [kid, fill] : keys) {
        EXPECT_TRUE(ring.add(kid, std::string(32, fill), nullptr));
    }
    return ring;
}

std::string sign(std::string_view vid, const Keyring& ring) {
    auto id = VisitorId::from_string(vid);
    EXPECT_TRUE(id) << vid;
    auto cookie = sign_visitor_id(*id, ring);
    EXPECT_TRUE(cookie);
    return std::string(cookie->view());
}

TEST(VisitorId, GeneratesTwentyTwoUrlSafeCharacters) {
    auto vid = VisitorId::generate();
    ASSERT_TRUE(vid);
    EXPECT_EQ(vid->view().size(), kGeneratedVidLength);
    EXPECT_TRUE(is_valid_vid(vid->view()));
    unsigned char bytes[16];
    EXPECT_EQ(base64url_decode_to(vid->view(), bytes, sizeof bytes), 16u);
}

TEST(VisitorId, GeneratedIdsDiffer) {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        seen.insert(std::string(VisitorId::generate()->view()));
    }
    EXPECT_EQ(seen.size(), 1000u);
}

TEST(VisitorId, AcceptsExternalIdsOfTheAllowedSyntax) {
    EXPECT_EQ(VisitorId::from_string("cust_0000012345678")->view(), "cust_0000012345678");
    EXPECT_TRUE(VisitorId::from_string(std::string(16, 'a')));
    EXPECT_TRUE(VisitorId::from_string(std::string(64, '-')));
}

TEST(VisitorId, RefusesExternalIdsOutsideTheSyntax) {
    EXPECT_FALSE(VisitorId::from_string(""));
    EXPECT_FALSE(VisitorId::from_string(std::string(15, 'a')));
    EXPECT_FALSE(VisitorId::from_string(std::string(65, 'a')));
    EXPECT_FALSE(VisitorId::from_string("customer:12345678901"));  // ':' in a Redis key
    EXPECT_FALSE(VisitorId::from_string("customer}12345678901"));  // would end the hash tag
    EXPECT_FALSE(VisitorId::from_string("customer.12345678901"));  // the cookie separator
    EXPECT_FALSE(VisitorId::from_string("customer 12345678901"));
    EXPECT_FALSE(VisitorId::from_string("customer+1234567890/"));  // standard base64
    EXPECT_FALSE(VisitorId::from_string(std::string("customer") + '\0' + "123456789"));
}

TEST(VisitorId, IsTriviallyCopyableWithInlineStorage) {
    static_assert(std::is_trivially_copyable_v<VisitorId>);
    static_assert(std::is_trivially_destructible_v<VisitorId>);
    static_assert(std::is_trivially_copyable_v<SignedVisitorId>);
    auto a = VisitorId::from_string(kVid);
    auto b = a;
    EXPECT_EQ(*a, *b);
    EXPECT_NE(a->view().data(), b->view().data());
}

TEST(VisitorCookie, SignedCookieHasFourParts) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);
    EXPECT_EQ(cookie.size(), kVid.size() + 1 + 2 + 1 + kStampLength + 1 + kMacLength);
    EXPECT_EQ(cookie.substr(0, kVid.size() + 4), std::string(kVid) + ".k1.");
}

TEST(VisitorCookie, TheIssueTimeIsInsideTheMac) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    auto cookie = sign_visitor_id(*VisitorId::from_string(kVid), ring, 1718000000);
    ASSERT_TRUE(cookie);
    const std::string value(cookie->view());
    EXPECT_EQ(value.substr(kVid.size() + 4, 8), "66669980");  // 1718000000 in hex
    const VisitorCookieCheck check = check_visitor_cookie(value, ring);
    EXPECT_EQ(check.status, VisitorCookieStatus::kValid);
    EXPECT_EQ(check.issued_at, 1718000000);
    EXPECT_FALSE(check.legacy);
    std::string later = value;
    later[kVid.size() + 4 + 7] = '1';  // a younger issue time, same mac
    EXPECT_EQ(check_visitor_cookie(later, ring).status, VisitorCookieStatus::kForged);
}

TEST(VisitorCookie, TheSameIdIsNeverSignedAlikeTwice) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const VisitorId vid = *VisitorId::from_string("cust_0000012345678");
    EXPECT_NE(sign_visitor_id(vid, ring, 1718000000)->view(),
              sign_visitor_id(vid, ring, 1718000000)->view());
}

TEST(VisitorCookie, MatchesTheDocumentedRecipe) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string value(sign_visitor_id(*VisitorId::from_string(kVid), ring, 1)->view());
    const size_t mac_at = value.rfind('.') + 1;
    unsigned char mac[kMacBytes];
    ASSERT_TRUE(ring.hmac_sha256("k1", value.substr(0, mac_at - 1), mac));
    char encoded[kMacLength];
    base64url_encode_to(mac, sizeof mac, encoded);
    EXPECT_EQ(value.substr(mac_at), std::string(encoded, kMacLength));
}

TEST(VisitorCookie, SignedCookieVerifies) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    auto vid = verify_visitor_cookie(sign(kVid, ring), ring);
    ASSERT_TRUE(vid);
    EXPECT_EQ(vid->view(), kVid);
}

TEST(VisitorCookie, TheLegacyFormStillVerifiesForOneRelease) {
    // python3: base64.urlsafe_b64encode(hmac.new(b"x" * 32,
    //   b"AAAAAAAAAAAAAAAAAAAAAA.k1", hashlib.sha256).digest()).rstrip(b"=")
    const Keyring ring = make_ring({{"k1", 'x'}});
    const VisitorCookieCheck check = check_visitor_cookie(
        "AAAAAAAAAAAAAAAAAAAAAA.k1.Sll7GPaJK7Q8rZCHIF636k1TS03JIWCtIEL5MP0GzJk", ring);
    EXPECT_EQ(check.status, VisitorCookieStatus::kValid);
    EXPECT_TRUE(check.legacy);
    EXPECT_EQ(check.issued_at, 0);
}

TEST(VisitorCookie, GeneratedIdRoundTrips) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    auto vid = VisitorId::generate();
    auto cookie = sign_visitor_id(*vid, ring);
    EXPECT_EQ(verify_visitor_cookie(cookie->view(), ring), vid);
}

TEST(VisitorCookie, LongestCookieFitsAndVerifies) {
    const Keyring ring = make_ring({{std::string_view("kkkkkkkkkkkkkkkk"), 'x'}});
    const std::string cookie = sign(std::string(kVidMaxLength, 'v'), ring);
    EXPECT_EQ(cookie.size(), kVisitorCookieMaxLength);
    EXPECT_TRUE(verify_visitor_cookie(cookie, ring));
}

TEST(VisitorCookie, EmptyIsNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    EXPECT_FALSE(verify_visitor_cookie("", ring));
    EXPECT_EQ(check_visitor_cookie("", ring).status, VisitorCookieStatus::kMalformed);
}

TEST(VisitorCookie, TruncatedIsNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);
    for (size_t n = 0; n < cookie.size(); ++n) {
        EXPECT_FALSE(verify_visitor_cookie(cookie.substr(0, n), ring)) << n;
    }
}

TEST(VisitorCookie, ExtraDotsAreNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);
    EXPECT_FALSE(verify_visitor_cookie(cookie + ".", ring));
    EXPECT_FALSE(verify_visitor_cookie("." + cookie, ring));
    EXPECT_FALSE(verify_visitor_cookie(cookie + ".x", ring));
    std::string doubled = cookie;
    doubled.insert(kVid.size(), ".");
    EXPECT_FALSE(verify_visitor_cookie(doubled, ring));
    EXPECT_EQ(check_visitor_cookie(cookie + ".", ring).status, VisitorCookieStatus::kMalformed);
}

TEST(VisitorCookie, TrailingBytesAreNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);
    EXPECT_FALSE(verify_visitor_cookie(cookie + "A", ring));
    EXPECT_FALSE(verify_visitor_cookie(cookie + " ", ring));
    EXPECT_FALSE(verify_visitor_cookie(cookie + std::string(1, '\0'), ring));
}

TEST(VisitorCookie, OverlongIsNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    EXPECT_FALSE(verify_visitor_cookie(std::string(kVisitorCookieMaxLength + 1, 'A'), ring));
    EXPECT_FALSE(verify_visitor_cookie(std::string(1 << 16, 'A'), ring));
    // A vid one over the limit, signed by someone who knows the key, still fails.
    const std::string vid65(kVidMaxLength + 1, 'v');
    unsigned char mac[kMacBytes];
    ASSERT_TRUE(ring.hmac_sha256("k1", vid65 + ".k1", mac));
    const std::string forged =
        vid65 + ".k1." + base64url_encode(std::string(reinterpret_cast<char*>(mac), kMacBytes));
    EXPECT_FALSE(verify_visitor_cookie(forged, ring));
}

TEST(VisitorCookie, WrongKidIsNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}, {"k2", 'y'}});
    std::string cookie = sign(kVid, ring);
    cookie.replace(kVid.size() + 1, 2, "k2");  // same MAC, claims the other key
    EXPECT_FALSE(verify_visitor_cookie(cookie, ring));
    EXPECT_EQ(check_visitor_cookie(cookie, ring).status, VisitorCookieStatus::kForged);
}

TEST(VisitorCookie, UnknownKidIsNoVisitor) {
    const Keyring signer = make_ring({{"gone", 'x'}});
    const Keyring verifier = make_ring({{"k1", 'x'}});  // same secret, other kid
    const std::string cookie = sign(kVid, signer);
    const auto check = check_visitor_cookie(cookie, verifier);
    EXPECT_EQ(check.status, VisitorCookieStatus::kUnknownKey);
    EXPECT_EQ(check.kid, "gone");
    EXPECT_FALSE(check.vid);
}

TEST(VisitorCookie, MacOfAnotherVidIsNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string a = sign("aaaaaaaaaaaaaaaaaaaaaa", ring);
    const std::string b = sign("bbbbbbbbbbbbbbbbbbbbbb", ring);
    const std::string spliced = a.substr(0, a.rfind('.')) + b.substr(b.rfind('.'));
    EXPECT_FALSE(verify_visitor_cookie(spliced, ring));
    EXPECT_EQ(check_visitor_cookie(spliced, ring).status, VisitorCookieStatus::kForged);
}

TEST(VisitorCookie, EveryFlippedBitIsNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);
    for (size_t i = 0; i < cookie.size(); ++i) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string bad = cookie;
            bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
            EXPECT_FALSE(verify_visitor_cookie(bad, ring)) << "byte " << i << " bit " << bit;
        }
    }
}

TEST(VisitorCookie, NonCanonicalMacSpellingIsNoVisitor) {
    // The 43rd character carries 2 unused bits; the same MAC with one of
    // them set must not verify, or one visitor would have many cookies.
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);
    const std::string_view alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const size_t last = alphabet.find(cookie.back());
    ASSERT_EQ(last & 3u, 0u);
    std::string bad = cookie;
    bad.back() = alphabet[last | 1u];
    EXPECT_FALSE(verify_visitor_cookie(bad, ring));
}

TEST(VisitorCookie, NonBase64CharactersAreNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);
    for (char c : std::string_view("+/=% \t\"';,{}:\x80\xff")) {
        std::string in_vid = cookie;
        in_vid[3] = c;
        EXPECT_FALSE(verify_visitor_cookie(in_vid, ring)) << int(c);
        std::string in_mac = cookie;
        in_mac[cookie.size() - 5] = c;
        EXPECT_FALSE(verify_visitor_cookie(in_mac, ring)) << int(c);
        std::string in_kid = cookie;
        in_kid[kVid.size() + 1] = c;
        EXPECT_FALSE(verify_visitor_cookie(in_kid, ring)) << int(c);
    }
}

TEST(VisitorCookie, EmptyPartsAreNoVisitor) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    EXPECT_FALSE(verify_visitor_cookie("..", ring));
    EXPECT_FALSE(verify_visitor_cookie(std::string(kVid) + "..", ring));
    EXPECT_FALSE(verify_visitor_cookie(std::string(kVid) + ".k1.", ring));
    EXPECT_FALSE(verify_visitor_cookie(".k1." + std::string(43, 'A'), ring));
}

TEST(VisitorCookie, EmptyKeyringVerifiesNothingAndSignsNothing) {
    const Keyring signer = make_ring({{"k1", 'x'}});
    const Keyring empty;
    EXPECT_FALSE(verify_visitor_cookie(sign(kVid, signer), empty));
    EXPECT_FALSE(sign_visitor_id(*VisitorId::from_string(kVid), empty));
}

TEST(VisitorCookie, RotationOldKeyVerifiesNewKeySigns) {
    const Keyring before = make_ring({{"old", 'o'}});
    const std::string old_cookie = sign(kVid, before);

    const Keyring after = make_ring({{"new", 'n'}, {"old", 'o'}});
    EXPECT_EQ(verify_visitor_cookie(old_cookie, after)->view(), kVid);
    const std::string new_cookie = sign(kVid, after);
    EXPECT_NE(new_cookie.find(".new."), std::string::npos);
    EXPECT_EQ(verify_visitor_cookie(new_cookie, after)->view(), kVid);
    EXPECT_FALSE(verify_visitor_cookie(new_cookie, before));  // a rollback forgets new cookies

    const Keyring retired = make_ring({{"new", 'n'}});
    EXPECT_EQ(check_visitor_cookie(old_cookie, retired).status, VisitorCookieStatus::kUnknownKey);
}

TEST(VisitorCookie, SignsWithANamedKey) {
    const Keyring ring = make_ring({{"new", 'n'}, {"old", 'o'}});
    auto cookie = sign_visitor_id(*VisitorId::from_string(kVid), ring, "old");
    ASSERT_TRUE(cookie);
    EXPECT_NE(cookie->view().find(".old."), std::string_view::npos);
    EXPECT_TRUE(verify_visitor_cookie(cookie->view(), ring));
    EXPECT_FALSE(sign_visitor_id(*VisitorId::from_string(kVid), ring, "nope"));
    EXPECT_FALSE(sign_visitor_id(*VisitorId::from_string(kVid), ring, "o.d"));
}

TEST(VisitorCookie, CheckReportsKidAndVid) {
    const Keyring ring = make_ring({{"k1", 'x'}});
    const std::string cookie = sign(kVid, ring);  // check.kid views it
    const auto check = check_visitor_cookie(cookie, ring);
    EXPECT_EQ(check.status, VisitorCookieStatus::kValid);
    EXPECT_EQ(check.kid, "k1");
    EXPECT_EQ(check.vid->view(), kVid);
}

TEST(VisitorCookie, StatusNamesSayOnlyInvalidForForgery) {
    EXPECT_EQ(visitor_cookie_status_name(VisitorCookieStatus::kValid), "valid");
    EXPECT_EQ(visitor_cookie_status_name(VisitorCookieStatus::kMalformed), "malformed");
    EXPECT_EQ(visitor_cookie_status_name(VisitorCookieStatus::kUnknownKey), "unknown key id");
    EXPECT_EQ(visitor_cookie_status_name(VisitorCookieStatus::kForged), "invalid");
}

}  // namespace
}  // namespace tailor
