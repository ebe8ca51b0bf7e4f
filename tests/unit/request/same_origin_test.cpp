#include "tailor/request/same_origin.h"

#include <gtest/gtest.h>

namespace tailor {
namespace {

TEST(SameOrigin, SecFetchSiteDecidesAlone) {
    EXPECT_TRUE(is_same_origin_request("same-origin", std::nullopt, "shop.example", true));
    EXPECT_FALSE(is_same_origin_request("same-site", "https://shop.example", "shop.example", true));
    EXPECT_FALSE(
        is_same_origin_request("cross-site", "https://shop.example", "shop.example", true));
}

TEST(SameOrigin, OriginMustNameTheSchemeAndHost) {
    EXPECT_TRUE(is_same_origin_request(std::nullopt, "https://shop.example", "shop.example", true));
    EXPECT_TRUE(is_same_origin_request(std::nullopt, "HTTPS://Shop.Example", "shop.example", true));
    EXPECT_TRUE(is_same_origin_request(std::nullopt, "http://shop.example:8080",
                                       "shop.example:8080", false));
    EXPECT_FALSE(is_same_origin_request(std::nullopt, "http://shop.example", "shop.example", true))
        << "the http page of the same host is another origin";
    EXPECT_FALSE(
        is_same_origin_request(std::nullopt, "https://shop.example", "shop.example", false));
    EXPECT_FALSE(is_same_origin_request(std::nullopt, "ftp://shop.example", "shop.example", false));
    EXPECT_FALSE(
        is_same_origin_request(std::nullopt, "https://evil.example", "shop.example", true));
    EXPECT_FALSE(
        is_same_origin_request(std::nullopt, "https://shop.example.evil", "shop.example", true));
    EXPECT_FALSE(is_same_origin_request(std::nullopt, "null", "shop.example", true));
}

TEST(SameOrigin, NeitherHeaderIsRefused) {
    EXPECT_FALSE(is_same_origin_request(std::nullopt, std::nullopt, "shop.example", true));
    EXPECT_FALSE(is_same_origin_request(std::nullopt, "https://", "", true));
}

}  // namespace
}  // namespace tailor
