#include "tailor/visitor/cookie_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tailor {
namespace {

TEST(CookiePolicy, ANewIdLeavesOnlyOnAPage) {
    EXPECT_TRUE(may_send_visitor_cookie(VisitorCookieReason::kNewId, 200, true));
    for (unsigned status : {204u, 301u, 302u, 304u, 400u, 404u, 405u, 500u}) {
        EXPECT_FALSE(may_send_visitor_cookie(VisitorCookieReason::kNewId, status, true)) << status;
    }
    EXPECT_FALSE(may_send_visitor_cookie(VisitorCookieReason::kNewId, 200, false));
}

TEST(CookiePolicy, AnIdentifiedCookieLeavesOnAnyNonError) {
    EXPECT_TRUE(may_send_visitor_cookie(VisitorCookieReason::kIdentified, 302, false));
    EXPECT_TRUE(may_send_visitor_cookie(VisitorCookieReason::kIdentified, 200, false));
    EXPECT_FALSE(may_send_visitor_cookie(VisitorCookieReason::kIdentified, 404, true));
    EXPECT_FALSE(may_send_visitor_cookie(VisitorCookieReason::kIdentified, 500, true));
}

constexpr int64_t kNow = 1718000000;
constexpr int64_t kYear = 365 * 86400;

Keyring ring_of(std::initializer_list<std::pair<std::string_view, char>> keys) {
    Keyring ring;
    for (const auto& [kid, fill] : keys) {
        EXPECT_TRUE(ring.add(kid, std::string(32, fill), nullptr));
    }
    return ring;
}

std::string cookie(std::string_view vid, const Keyring& ring, int64_t at, std::string_view kid) {
    return std::string(sign_visitor_id(*VisitorId::from_string(vid), ring, kid, at)->view());
}

VisitorCookieRead read(const std::string& header, const Keyring& ring, int64_t max_age = kYear) {
    const std::string_view h[] = {header};
    return read_visitor_cookies(h, 1, "tailor_vid", ring, kNow, max_age);
}

constexpr std::string_view kA = "AAAAAAAAAAAAAAAAAAAAAA";
constexpr std::string_view kB = "BBBBBBBBBBBBBBBBBBBBBB";

TEST(CookiePolicy, OneValidCookieIsTheVisitor) {
    const Keyring ring = ring_of({{"k1", 'x'}});
    const VisitorCookieRead r = read("a=1; tailor_vid=" + cookie(kA, ring, kNow, "k1"), ring);
    ASSERT_TRUE(r.vid);
    EXPECT_EQ(r.vid->view(), kA);
    EXPECT_FALSE(r.resign || r.conflict);
    EXPECT_EQ(r.found, 1u);
}

TEST(CookiePolicy, TwoDifferentValidIdsAreNoVisitorWhicheverComesFirst) {
    const Keyring ring = ring_of({{"k1", 'x'}});
    const std::string a = cookie(kA, ring, kNow, "k1");
    const std::string b = cookie(kB, ring, kNow, "k1");
    for (const std::string& h :
         {"tailor_vid=" + a + "; tailor_vid=" + b, "tailor_vid=" + b + "; tailor_vid=" + a}) {
        const VisitorCookieRead r = read(h, ring);
        EXPECT_FALSE(r.vid);
        EXPECT_TRUE(r.conflict);
    }
    // across two Cookie headers (HTTP/2) too
    const std::string ha = "tailor_vid=" + a;
    const std::string hb = "tailor_vid=" + b;
    const std::string_view h[] = {ha, hb};
    EXPECT_TRUE(read_visitor_cookies(h, 2, "tailor_vid", ring, kNow, kYear).conflict);
}

TEST(CookiePolicy, PlantedCookiesBeyondTheCapCannotHideTheVisitorsOwn) {
    // a sibling subdomain plants kMaxVisitorCookies copies of its id on longer
    // paths, which browsers send first: the victim's own comes after them
    const Keyring ring = ring_of({{"k1", 'x'}});
    const std::string a = cookie(kA, ring, kNow, "k1");
    std::string header;
    for (size_t i = 0; i < kMaxVisitorCookies; ++i) {
        header += "tailor_vid=" + a + "; ";
    }
    header += "tailor_vid=" + cookie(kB, ring, kNow, "k1");
    const VisitorCookieRead r = read(header, ring);
    EXPECT_TRUE(r.conflict);
    EXPECT_FALSE(r.vid);
    EXPECT_EQ(r.found, kMaxVisitorCookies + 1);

    // one Cookie header each (HTTP/2), the same
    std::vector<std::string> own(kMaxVisitorCookies + 1, "tailor_vid=" + a);
    own.back() = "tailor_vid=" + cookie(kB, ring, kNow, "k1");
    std::vector<std::string_view> views(own.begin(), own.end());
    EXPECT_TRUE(
        read_visitor_cookies(views.data(), views.size(), "tailor_vid", ring, kNow, kYear).conflict);
}

TEST(CookiePolicy, CookieHeadersBeyondWhatTheCallerCouldPassAreAConflict) {
    const Keyring ring = ring_of({{"k1", 'x'}});
    const std::string h = "tailor_vid=" + cookie(kA, ring, kNow, "k1");
    const std::string_view views[] = {h};
    const VisitorCookieRead r =
        read_visitor_cookies(views, 1, "tailor_vid", ring, kNow, kYear, /*more_headers=*/true);
    EXPECT_TRUE(r.conflict);
    EXPECT_FALSE(r.vid);
    const std::string_view other[] = {"a=1"};
    EXPECT_FALSE(read_visitor_cookies(other, 1, "tailor_vid", ring, kNow, kYear, true).conflict)
        << "no visitor cookie seen: nothing to conflict with";
}

TEST(CookiePolicy, TheSameIdTwiceOrBesideAForgeryIsThatId) {
    const Keyring ring = ring_of({{"k1", 'x'}});
    const std::string a = cookie(kA, ring, kNow, "k1");
    EXPECT_EQ(read("tailor_vid=" + a + "; tailor_vid=" + cookie(kA, ring, kNow - 5, "k1"), ring)
                  .vid->view(),
              kA);
    std::string forged = cookie(kB, ring, kNow, "k1");
    forged.back() = forged.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(read("tailor_vid=" + forged + "; tailor_vid=" + a, ring).vid->view(), kA);
}

TEST(CookiePolicy, ACookiePastItsMaximumAgeOrFromTheFutureIsNoVisitor) {
    const Keyring ring = ring_of({{"k1", 'x'}});
    VisitorCookieRead r =
        read("tailor_vid=" + cookie(kA, ring, kNow - 31 * 86400, "k1"), ring, 30 * 86400);
    EXPECT_FALSE(r.vid);
    EXPECT_EQ(r.status, VisitorCookieStatus::kExpired);
    EXPECT_TRUE(
        read("tailor_vid=" + cookie(kA, ring, kNow - 29 * 86400, "k1"), ring, 30 * 86400).vid);
    EXPECT_FALSE(read("tailor_vid=" + cookie(kA, ring, kNow + 3600, "k1"), ring).vid);
    EXPECT_TRUE(read("tailor_vid=" + cookie(kA, ring, kNow + 60, "k1"), ring).vid);
}

TEST(CookiePolicy, AnOlderKeyOrTheLegacyFormIsAcceptedAndResigned) {
    const Keyring ring = ring_of({{"k2", 'y'}, {"k1", 'x'}});
    VisitorCookieRead r = read("tailor_vid=" + cookie(kA, ring, kNow, "k1"), ring);
    ASSERT_TRUE(r.vid);
    EXPECT_TRUE(r.resign);
    EXPECT_FALSE(read("tailor_vid=" + cookie(kA, ring, kNow, "k2"), ring).resign);
    const Keyring legacy_ring = ring_of({{"k1", 'x'}});
    r = read("tailor_vid=AAAAAAAAAAAAAAAAAAAAAA.k1.Sll7GPaJK7Q8rZCHIF636k1TS03JIWCtIEL5MP0GzJk",
             legacy_ring);
    ASSERT_TRUE(r.vid);
    EXPECT_TRUE(r.resign);
}

TEST(CookiePolicy, NoCookieOfThatNameIsNothingFound) {
    const Keyring ring = ring_of({{"k1", 'x'}});
    const VisitorCookieRead r = read("other=1", ring);
    EXPECT_EQ(r.found, 0u);
    EXPECT_FALSE(r.vid);
}

TEST(CookiePolicy, SecureByDefaultOnHttps) {
    EXPECT_TRUE(visitor_cookie_secure(CookieSecure::kAuto, true));
    EXPECT_FALSE(visitor_cookie_secure(CookieSecure::kAuto, false));
    EXPECT_TRUE(visitor_cookie_secure(CookieSecure::kAlways, false));
    EXPECT_FALSE(visitor_cookie_secure(CookieSecure::kNever, true));
}

TEST(CookiePolicy, ReasonsOfAPreparedCookie) {
    EXPECT_EQ(visitor_cookie_reason(true, true), VisitorCookieReason::kIdentified);
    EXPECT_EQ(visitor_cookie_reason(false, true), VisitorCookieReason::kNewId);
    EXPECT_EQ(visitor_cookie_reason(false, false), VisitorCookieReason::kResigned);
    EXPECT_TRUE(may_send_visitor_cookie(VisitorCookieReason::kResigned, 302, false));
}

std::string_view private_value(std::initializer_list<std::string_view> fields) {
    PrivateCacheControl cc;
    for (std::string_view f : fields) {
        cc.add(f);
    }
    return cc.value();
}

TEST(CookiePolicy, APrivateResponseIsPrivateWhateverItWasBefore) {
    EXPECT_EQ(private_value({}), "private");
    EXPECT_EQ(private_value({"public, max-age=600", "s-maxage=60"}), "private");
    EXPECT_EQ(private_value({"max-age=0, must-revalidate"}), "private");
    EXPECT_EQ(private_value({""}), "private");
}

TEST(CookiePolicy, NoCacheAndNoStoreStayWhereverTheyAre) {
    EXPECT_EQ(private_value({"no-store"}), "private, no-store");
    EXPECT_EQ(private_value({"public", " No-Cache "}), "private, no-cache");
    EXPECT_EQ(private_value({"max-age=1,no-store,no-cache"}), "private, no-cache, no-store");
    EXPECT_EQ(private_value({"no-cache=\"Set-Cookie, X-A\", max-age=60"}), "private, no-cache");
    EXPECT_EQ(private_value({"private=\"X\",no-store"}), "private, no-store");
}

TEST(CookiePolicy, OnlyWholeDirectiveNamesCount) {
    EXPECT_EQ(private_value({"x-note=\"a, no-store, b\""}), "private");
    EXPECT_EQ(private_value({"x-note=\"say \\\"no-store, still quoted\""}), "private");
    EXPECT_EQ(private_value({"no-stored, x-no-cache, no-cache-please"}), "private");
    EXPECT_EQ(private_value({"max-age=no-store"}), "private");
    // a malformed field never makes the response less private
    EXPECT_EQ(private_value({"\"unterminated, no-store"}), "private, no-store");
}

}  // namespace
}  // namespace tailor
