// PopupToken tests: issuing, checking (every way a token can be wrong for a beacon) and putting
// the token into a decision's directives.
#include "tailor/popup/token.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tailor/base/base64url.h"
#include "tailor/visitor/visitor_id.h"

namespace tailor {
namespace {

constexpr std::string_view kVid = "AAAAAAAAAAAAAAAAAAAAAA";
constexpr std::string_view kOtherVid = "BBBBBBBBBBBBBBBBBBBBBB";
constexpr int64_t kNow = 0x6560f1a0;  // 2023-11-24
constexpr int64_t kHour = 3600;

// The docs' recipe in Python, for kVid, "cart-rescue", kid k1 with the secret
// 32 x '1', issued at kNow with a nonce of eight zero bytes.
constexpr std::string_view kPythonToken = "k1.6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZw";

Keyring ring_of(std::initializer_list<std::pair<std::string_view, char>> keys) {
    Keyring ring;
    for (const auto& [kid, fill] : keys) {
        EXPECT_TRUE(ring.add(kid, std::string(32, fill), nullptr));
    }
    return ring;
}

std::string issue(const Keyring& ring, std::string_view vid, std::string_view id, int64_t at) {
    auto t = issue_popup_token(ring, vid, id, at);
    EXPECT_TRUE(t) << vid << " " << id;
    return t ? std::string(t->view()) : std::string();
}

PopupTokenStatus status(std::string_view token, const Keyring& ring, std::string_view vid,
                        std::string_view id, int64_t now, int64_t max_age = 6 * kHour) {
    return check_popup_token(token, ring, vid, id, now, max_age).status;
}

TEST(PopupToken, IssuedTokensHaveTheDocumentedShape) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::string t = issue(ring, kVid, "cart-rescue", kNow);
    ASSERT_EQ(t.size(), 2 + 1 + kPopupTokenStampLength + 1 + kPopupTokenMacLength);
    EXPECT_EQ(t.substr(0, 11), "k1.6560f1a0");
    EXPECT_EQ(t[22], '.');
    for (char c : t) {
        EXPECT_TRUE(is_base64url_char(c) || c == '.') << t;  // URL-safe as is
    }
    auto parts = parse_popup_token(t);
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->kid, "k1");
    EXPECT_EQ(parts->issued_at, kNow);
    EXPECT_EQ(parts->nonce, t.substr(11, 11));
    EXPECT_EQ(parts->stamp, t.substr(3, 19));
    EXPECT_EQ(parts->mac, t.substr(23));
}

TEST(PopupToken, TheDocumentedPythonRecipeVerifies) {
    Keyring ring = ring_of({{"k1", '1'}});
    auto c = check_popup_token(kPythonToken, ring, kVid, "cart-rescue", kNow + 10, 6 * kHour);
    EXPECT_EQ(c.status, PopupTokenStatus::kValid);
    EXPECT_EQ(c.nonce, "AAAAAAAAAAA");
    EXPECT_EQ(c.issued_at, kNow);
}

TEST(PopupToken, AnIssuedTokenVerifiesForItsVisitorAndPopup) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::string t = issue(ring, kVid, "cart-rescue", kNow);
    auto c = check_popup_token(t, ring, kVid, "cart-rescue", kNow, 6 * kHour);
    EXPECT_EQ(c.status, PopupTokenStatus::kValid);
    EXPECT_EQ(c.issued_at, kNow);
    EXPECT_EQ(c.nonce.size(), 11u);
    EXPECT_EQ(c.nonce.data(), t.data() + 11) << "the nonce views the token";
}

TEST(PopupToken, EachTokenHasItsOwnNonce) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::set<std::string> seen;
    for (int i = 0; i < 64; ++i) {
        seen.insert(issue(ring, kVid, "cart-rescue", kNow));
    }
    EXPECT_EQ(seen.size(), 64u) << "same visitor, pop-up and second: still distinct tokens";
}

TEST(PopupToken, AnotherVisitorsTokenDoesNotVerify) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::string t = issue(ring, kOtherVid, "cart-rescue", kNow);
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kForged);
    EXPECT_EQ(status(t, ring, kOtherVid, "cart-rescue", kNow), PopupTokenStatus::kValid);
}

TEST(PopupToken, AnotherPopupsTokenDoesNotVerify) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::string t = issue(ring, kVid, "browse-help", kNow);
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kForged);
    // nor a prefix, suffix or case variant of it
    EXPECT_EQ(status(t, ring, kVid, "browse-hel", kNow), PopupTokenStatus::kForged);
    EXPECT_EQ(status(t, ring, kVid, "browse-help2", kNow), PopupTokenStatus::kForged);
    EXPECT_EQ(status(t, ring, kVid, "Browse-help", kNow), PopupTokenStatus::kForged);
}

TEST(PopupToken, ATamperedTokenDoesNotVerify) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::string t = issue(ring, kVid, "cart-rescue", kNow);
    // every character of the stamp and the MAC, changed to another of its alphabet
    for (size_t i = 3; i < t.size(); ++i) {
        if (t[i] == '.') {
            continue;
        }
        std::string bad = t;
        bad[i] = (i < 11) ? (t[i] == '0' ? '1' : '0') : (t[i] == 'A' ? 'B' : 'A');
        PopupTokenStatus s = status(bad, ring, kVid, "cart-rescue", kNow + kHour);
        EXPECT_TRUE(s == PopupTokenStatus::kForged || s == PopupTokenStatus::kMalformed)
            << "position " << i << ": " << bad;
    }
    // a later issue time written into a real token: the MAC covers it
    std::string later = t;
    later.replace(3, 8, "6560f1a1");
    EXPECT_EQ(status(later, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kForged);
}

TEST(PopupToken, ATokenMadeWithAnotherSecretIsForged) {
    Keyring ours = ring_of({{"k1", '1'}});
    Keyring theirs = ring_of({{"k1", '2'}});
    std::string t = issue(theirs, kVid, "cart-rescue", kNow);
    EXPECT_EQ(status(t, ours, kVid, "cart-rescue", kNow), PopupTokenStatus::kForged);
}

TEST(PopupToken, AnyListedKeyVerifiesAndARetiredOneDoesNot) {
    Keyring old_ring = ring_of({{"k0", '0'}});
    std::string t = issue(old_ring, kVid, "cart-rescue", kNow);
    // rotated: k1 signs now, k0 still listed, so open pages keep reporting
    Keyring rotated = ring_of({{"k1", '1'}, {"k0", '0'}});
    EXPECT_EQ(status(t, rotated, kVid, "cart-rescue", kNow), PopupTokenStatus::kValid);
    EXPECT_EQ(issue(rotated, kVid, "cart-rescue", kNow).substr(0, 3), "k1.");
    Keyring retired = ring_of({{"k1", '1'}});
    EXPECT_EQ(status(t, retired, kVid, "cart-rescue", kNow), PopupTokenStatus::kUnknownKey);
}

TEST(PopupToken, AgeIsBoundedBothWays) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::string t = issue(ring, kVid, "cart-rescue", kNow);
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow + 6 * kHour), PopupTokenStatus::kValid);
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow + 6 * kHour + 1),
              PopupTokenStatus::kExpired);
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow + 61, 60), PopupTokenStatus::kExpired);
    // a page from a server whose clock runs a little ahead
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow - kPopupTokenClockSkew),
              PopupTokenStatus::kValid);
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow - kPopupTokenClockSkew - 1),
              PopupTokenStatus::kFuture);
}

TEST(PopupToken, TheAgeOfAForgedTokenIsNeverBelieved) {
    Keyring ring = ring_of({{"k1", '1'}});
    std::string t = issue(ring, kVid, "cart-rescue", kNow);
    t.replace(3, 8, "00000000");  // expired, if anyone looked at the time first
    EXPECT_EQ(status(t, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kForged);
}

TEST(PopupToken, MalformedTokensAreRefusedBeforeAnyMac) {
    Keyring ring = ring_of({{"k1", '1'}});
    const std::string good(kPythonToken);
    EXPECT_EQ(status("", ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kMissing);
    for (std::string bad : {
             std::string("x"),
             std::string("k1..QvvK9t0IYxtRdzBajDRXZw"),
             std::string(".6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZw"),
             std::string("k1.6560F1A0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZw"),    // upper-case hex
             std::string("k1.6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZw."),   // a third dot
             std::string("k1.6560f1a0AAAAAAAAAAB.QvvK9t0IYxtRdzBajDRXZw"),    // unused bits set
             std::string("k1.6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZx"),    // unused bits set
             std::string("k1.6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZ"),     // short MAC
             std::string("k1.6560f1a0AAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZw"),     // short nonce
             std::string("k1.6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRX+w"),    // not base64url
             std::string("k1.6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZw=="),  // padding
             std::string("k.1.6560f1a0AAAAAAAAAAA.QvvK9t0IYxtRdzBajDRXZw"),
             std::string(17, 'k') + good.substr(2),  // kid over 16
             good + std::string(40, 'A'),
         }) {
        EXPECT_FALSE(parse_popup_token(bad)) << bad;
        EXPECT_EQ(status(bad, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kMalformed)
            << bad;
    }
    // what the token is checked against must be well-formed too
    EXPECT_EQ(status(good, ring, "short", "cart-rescue", kNow), PopupTokenStatus::kMalformed);
    EXPECT_EQ(status(good, ring, kVid, "a}:profile", kNow), PopupTokenStatus::kMalformed);
}

TEST(PopupToken, AVisitorCookieMacNeverPassesForATokenNorTheOtherWay) {
    // the same key signs both; the messages cannot coincide
    Keyring ring = ring_of({{"k1", '1'}});
    auto vid = VisitorId::from_string(kVid);
    ASSERT_TRUE(vid);
    auto cookie = sign_visitor_id(*vid, ring, "k1", kNow);
    ASSERT_TRUE(cookie);
    std::string c(cookie->view());  // <vid>.k1.<stamp>.<43-char mac>
    auto mac = base64url_decode(c.substr(c.size() - 43));
    ASSERT_TRUE(mac && mac->size() == 32);
    std::string as_token =
        c.substr(kVid.size() + 1, 3 + 19) + "." + base64url_encode(mac->substr(0, 16));
    ASSERT_TRUE(parse_popup_token(as_token)) << as_token;
    EXPECT_EQ(status(as_token, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kForged);

    std::string t = issue(ring, kVid, "cart-rescue", kNow);
    EXPECT_FALSE(verify_visitor_cookie(std::string(kVid) + "." + t, ring));
}

TEST(PopupToken, IssuingRefusesWhatCouldNeverVerify) {
    Keyring ring = ring_of({{"k1", '1'}});
    EXPECT_FALSE(issue_popup_token(ring, "k9", kVid, "cart-rescue", kNow));
    EXPECT_FALSE(issue_popup_token(Keyring(), kVid, "cart-rescue", kNow));
    EXPECT_FALSE(issue_popup_token(ring, "short", "cart-rescue", kNow));
    EXPECT_FALSE(issue_popup_token(ring, kVid, "", kNow));
    EXPECT_FALSE(issue_popup_token(ring, kVid, std::string(65, 'a'), kNow));
    EXPECT_FALSE(issue_popup_token(ring, kVid, "cart-rescue", -1));
    EXPECT_FALSE(issue_popup_token(ring, kVid, "cart-rescue", 0x100000000LL));
    EXPECT_TRUE(issue_popup_token(ring, kVid, std::string(64, 'a'), 0xffffffffLL));
}

TEST(PopupToken, StatusNamesAreDistinct) {
    std::set<std::string_view> names;
    for (PopupTokenStatus s :
         {PopupTokenStatus::kValid, PopupTokenStatus::kMissing, PopupTokenStatus::kMalformed,
          PopupTokenStatus::kUnknownKey, PopupTokenStatus::kForged, PopupTokenStatus::kExpired,
          PopupTokenStatus::kFuture}) {
        names.insert(popup_token_status_name(s));
    }
    EXPECT_EQ(names.size(), 7u);
}

// The directives as natives_popup writes them for one pop-up.
Decision offered(std::string_view id) {
    Decision d;
    d.set_directives_json(std::string(R"({"v":1,"popups":[{"id":")") + std::string(id) +
                              R"(","trigger":{"type":"exit_intent"},"html":"<p>\"id\":</p>",)"
                              R"("intent":"cart"}],"beacon":"/tailor/beacon"})",
                          "<script src=\"/tailor/popups.js?v=1\" defer></script>");
    EXPECT_TRUE(d.set_variable("popup", std::string(id)));
    return d;
}

TEST(PopupDirectives, TheTokenIsForThePopupInTheJsonWhateverTheVariablesSay) {
    Keyring ring = ring_of({{"k1", '1'}});
    Decision d = offered("cart-rescue");
    ASSERT_TRUE(d.set_variable("popup", "browse-help"));  // a rule's own variable
    ASSERT_EQ(sign_popup_directives(d, ring, kVid, kNow), PopupDirectivesSigning::kSigned);
    const std::string html(d.directives_html());
    const size_t start = html.find("\"token\":\"") + 9;
    const std::string token = html.substr(start, html.find('"', start) - start);
    EXPECT_EQ(status(token, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kValid);
}

TEST(PopupDirectives, TheOfferedPopupCarriesItsTokenFirst) {
    Keyring ring = ring_of({{"k1", '1'}});
    Decision d = offered("cart-rescue");
    const std::string before(d.directives_html());
    ASSERT_EQ(sign_popup_directives(d, ring, kVid, kNow), PopupDirectivesSigning::kSigned);
    const std::string html(d.directives_html());
    const size_t at = html.find(R"("popups":[{"token":")");
    ASSERT_NE(at, std::string::npos) << html;
    const size_t start = at + 20;
    const std::string token = html.substr(start, html.find('"', start) - start);
    EXPECT_EQ(status(token, ring, kVid, "cart-rescue", kNow), PopupTokenStatus::kValid);
    // the rest is as it was: only `"token":"...",` went in
    std::string without = html;
    without.erase(at + 11, 9 + token.size() + 2);
    EXPECT_EQ(without, before);
    EXPECT_NE(html.find("defer></script>"), std::string::npos);
}

TEST(PopupDirectives, ACopyOfASharedDecisionGetsItsOwnToken) {
    Keyring ring = ring_of({{"k1", '1'}});
    const Decision shared = offered("cart-rescue");
    Decision a = shared;
    Decision b = shared;
    ASSERT_EQ(sign_popup_directives(a, ring, kVid, kNow), PopupDirectivesSigning::kSigned);
    ASSERT_EQ(sign_popup_directives(b, ring, kOtherVid, kNow), PopupDirectivesSigning::kSigned);
    EXPECT_NE(a.directives_html(), b.directives_html());
    EXPECT_EQ(shared.directives_html().find("token"), std::string_view::npos);
}

TEST(PopupDirectives, NoPopupNothingToSign) {
    Keyring ring = ring_of({{"k1", '1'}});
    Decision d;
    EXPECT_EQ(sign_popup_directives(d, ring, kVid, kNow), PopupDirectivesSigning::kNone);
    EXPECT_TRUE(d.directives_html().empty());
}

TEST(PopupDirectives, APopupThatCannotBeSignedIsNotOffered) {
    Keyring ring = ring_of({{"k1", '1'}});
    Decision no_key = offered("cart-rescue");
    EXPECT_EQ(sign_popup_directives(no_key, Keyring(), kVid, kNow),
              PopupDirectivesSigning::kDropped);
    EXPECT_TRUE(no_key.directives_html().empty());
    EXPECT_FALSE(no_key.changes_page());

    Decision bad_vid = offered("cart-rescue");
    EXPECT_EQ(sign_popup_directives(bad_vid, ring, "short", kNow),
              PopupDirectivesSigning::kDropped);

    Decision odd_id = offered("a}:profile");  // no beacon would take it
    EXPECT_EQ(sign_popup_directives(odd_id, ring, kVid, kNow), PopupDirectivesSigning::kDropped);
    EXPECT_TRUE(odd_id.directives_html().empty());

    Decision no_popup;
    no_popup.set_directives_json(R"({"v":1,"popups":[],"beacon":"/tailor/beacon"})");
    EXPECT_EQ(sign_popup_directives(no_popup, ring, kVid, kNow), PopupDirectivesSigning::kDropped);
    EXPECT_TRUE(no_popup.directives_html().empty());
}

}  // namespace
}  // namespace tailor
