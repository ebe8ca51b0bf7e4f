// Base64url tests: RFC 4648 vectors, strictness, and round trips at every length.
#include "tailor/base/base64url.h"

#include <gtest/gtest.h>

#include <string>

namespace tailor {
namespace {

TEST(Base64url, EncodesRfc4648VectorsWithoutPadding) {
    EXPECT_EQ(base64url_encode(""), "");
    EXPECT_EQ(base64url_encode("f"), "Zg");
    EXPECT_EQ(base64url_encode("fo"), "Zm8");
    EXPECT_EQ(base64url_encode("foo"), "Zm9v");
    EXPECT_EQ(base64url_encode("foob"), "Zm9vYg");
    EXPECT_EQ(base64url_encode("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url_encode("foobar"), "Zm9vYmFy");
}

TEST(Base64url, UsesTheUrlSafeAlphabet) {
    EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
    EXPECT_EQ(base64url_encode("\xff\xff\xff"), "____");
    EXPECT_EQ(base64url_encode(std::string("\xf8\x00\x00", 3)), "-AAA");
}

TEST(Base64url, EncodedSizeMatchesEncoder) {
    EXPECT_EQ(base64url_encoded_size(0), 0u);
    EXPECT_EQ(base64url_encoded_size(1), 2u);
    EXPECT_EQ(base64url_encoded_size(16), 22u);
    EXPECT_EQ(base64url_encoded_size(32), 43u);
    for (size_t n = 0; n < 70; ++n) {
        EXPECT_EQ(base64url_encode(std::string(n, 'x')).size(), base64url_encoded_size(n)) << n;
    }
}

TEST(Base64url, DecodesWhatItEncodesAtEveryLength) {
    std::string bytes;
    for (int n = 0; n < 70; ++n) {
        EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes) << n;
        bytes.push_back(static_cast<char>(n * 37 + 11));
    }
}

TEST(Base64url, RefusesPadding) {
    EXPECT_EQ(base64url_decode("Zg=="), std::nullopt);
}

TEST(Base64url, RefusesStandardAlphabetCharacters) {
    EXPECT_EQ(base64url_decode("+_8"), std::nullopt);
    EXPECT_EQ(base64url_decode("-/8"), std::nullopt);
}

TEST(Base64url, RefusesWhitespaceAndNul) {
    EXPECT_EQ(base64url_decode("Zm9 v"), std::nullopt);
    EXPECT_EQ(base64url_decode(std::string("Zm9\0", 4)), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9v\n"), std::nullopt);
}

TEST(Base64url, RefusesLengthOneMoreThanMultipleOfFour) {
    EXPECT_EQ(base64url_decode("Z"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zm9vY"), std::nullopt);
}

TEST(Base64url, RefusesNonCanonicalTrailingBits) {
    EXPECT_EQ(base64url_decode("-_8"), std::string("\xfb\xff"));
    EXPECT_EQ(base64url_decode("-_9"), std::nullopt);
    EXPECT_EQ(base64url_decode("Zh"), std::nullopt);  // "Zg" with a low bit set
}

TEST(Base64url, RefusesOutputLargerThanCapacity) {
    unsigned char buf[2];
    EXPECT_EQ(base64url_decode_to("Zm9v", buf, sizeof buf), std::nullopt);
    EXPECT_EQ(base64url_decode_to("Zm8", buf, sizeof buf), 2u);
}

TEST(Base64url, ClassifiesAlphabetCharacters) {
    int count = 0;
    for (int c = 0; c < 256; ++c) {
        count += is_base64url_char(static_cast<char>(c)) ? 1 : 0;
    }
    EXPECT_EQ(count, 64);
    EXPECT_FALSE(is_base64url_char('.'));
    EXPECT_FALSE(is_base64url_char('='));
}

TEST(Base64url, AllBase64urlAgreesWithTheAlphabetOnEveryByte) {
    EXPECT_TRUE(all_base64url(""));
    EXPECT_TRUE(all_base64url("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
    for (int c = 0; c < 256; ++c) {
        const char ch = static_cast<char>(c);
        // alone, first, in the middle and last of an otherwise valid string
        for (const std::string& s :
             {std::string(1, ch), std::string(1, ch) + "abc", "ab" + std::string(1, ch) + "cd",
              "abc" + std::string(1, ch)}) {
            EXPECT_EQ(all_base64url(s), is_base64url_char(ch)) << c;
        }
    }
}

}  // namespace
}  // namespace tailor
