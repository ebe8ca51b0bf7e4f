#include "tailor/visitor/cookie_policy.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tailor
