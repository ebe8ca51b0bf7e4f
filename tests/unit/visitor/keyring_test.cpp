// Keyring tests: key file parsing with line-numbered errors, rotation order, building in code.
#include "tailor/visitor/keyring.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace tailor {
namespace {

const std::string kHex32(64, 'a');  // 32 bytes of 0xaa
const std::string kHex64(128, 'B');

std::string parse_error(std::string_view text) {
    KeyringError err;
    auto ring = Keyring::parse(text, &err);
    EXPECT_FALSE(ring.has_value()) << text;
    return err.message;
}

TEST(Keyring, ParsesOneKey) {
    KeyringError err;
    auto ring = Keyring::parse("k1 " + kHex32 + "\n", &err);
    ASSERT_TRUE(ring) << err.message;
    EXPECT_EQ(ring->size(), 1u);
    EXPECT_EQ(ring->current_kid(), "k1");
    EXPECT_TRUE(ring->contains("k1"));
    EXPECT_FALSE(ring->contains("k2"));
}

TEST(Keyring, FirstKeyIsCurrentAndAllAreKept) {
    KeyringError err;
    auto ring = Keyring::parse("new " + kHex32 + "\nold " + kHex64 + "\n", &err);
    ASSERT_TRUE(ring) << err.message;
    EXPECT_EQ(ring->current_kid(), "new");
    EXPECT_TRUE(ring->contains("old"));
    EXPECT_EQ(ring->size(), 2u);
}

TEST(Keyring, CommentsBlankLinesTabsAndCrlfAreAllowed) {
    KeyringError err;
    const std::string text = "# keys for shop\r\n\r\n   \n  # indented comment\n\tk_1-a\t " +
                             kHex32 + "  \r\nk2\t" + kHex32 + "\r\n";
    auto ring = Keyring::parse(text, &err);
    ASSERT_TRUE(ring) << err.message;
    EXPECT_EQ(ring->current_kid(), "k_1-a");
    EXPECT_EQ(ring->size(), 2u);
}

TEST(Keyring, LastLineWithoutNewlineCounts) {
    KeyringError err;
    auto ring = Keyring::parse("k1 " + kHex32, &err);
    ASSERT_TRUE(ring) << err.message;
}

TEST(Keyring, ShortSecretIsAnErrorWithItsLine) {
    KeyringError err;
    EXPECT_FALSE(Keyring::parse("# c\nk1 " + kHex32 + "\nk2 abcd\n", &err));
    EXPECT_EQ(err.line, 3u);
    EXPECT_EQ(err.message, "line 3: secret shorter than 32 bytes");
}

TEST(Keyring, SecretAtTheLimitsIsAccepted) {
    KeyringError err;
    EXPECT_TRUE(Keyring::parse("k1 " + std::string(64, '0'), &err)) << err.message;
    EXPECT_TRUE(Keyring::parse("k1 " + std::string(128, '0'), &err)) << err.message;
}

TEST(Keyring, SecretOneByteOffTheLimitsIsRefused) {
    EXPECT_EQ(parse_error("k1 " + std::string(62, '0')), "line 1: secret shorter than 32 bytes");
    EXPECT_EQ(parse_error("k1 " + std::string(130, '0')), "line 1: secret longer than 64 bytes");
}

TEST(Keyring, NonHexSecretIsRefused) {
    EXPECT_EQ(parse_error("k1 " + std::string(63, 'a') + "g"), "line 1: secret is not hexadecimal");
    EXPECT_EQ(parse_error("k1 " + std::string(65, 'a')),
              "line 1: secret has an odd number of hex digits");
}

TEST(Keyring, MissingSecretIsRefused) {
    EXPECT_EQ(parse_error("k1\n"), "line 1: expected \"<kid> <hex secret>\"");
}

TEST(Keyring, TextAfterSecretIsRefused) {
    EXPECT_EQ(parse_error("k1 " + kHex32 + " # old"), "line 1: unexpected text after the secret");
}

TEST(Keyring, BadKidIsRefused) {
    EXPECT_EQ(parse_error("k.1 " + kHex32),
              "line 1: key id must be 1..16 characters of [A-Za-z0-9_-]");
    EXPECT_EQ(parse_error(std::string(17, 'k') + " " + kHex32),
              "line 1: key id must be 1..16 characters of [A-Za-z0-9_-]");
}

TEST(Keyring, DuplicateKidIsAnError) {
    EXPECT_EQ(parse_error("k1 " + kHex32 + "\nk1 " + kHex64 + "\n"),
              "line 2: duplicate key id \"k1\"");
}

TEST(Keyring, FileWithoutKeysIsAnError) {
    KeyringError err;
    EXPECT_FALSE(Keyring::parse("# nothing yet\n\n", &err));
    EXPECT_EQ(err.line, 0u);
    EXPECT_EQ(err.message, "no keys in key file");
    EXPECT_FALSE(Keyring::parse("", &err));
}

TEST(Keyring, TooManyKeysIsAnError) {
    std::string text;
    for (size_t i = 0; i <= kMaxKeys; ++i) {
        text += "k" + std::to_string(i) + " " + kHex32 + "\n";
    }
    EXPECT_EQ(parse_error(text), "line 33: more than 32 keys");
}

TEST(Keyring, ErrorsNeverEchoTheSecret) {
    const std::string secret = "deadbeef" + std::string(54, '1') + "zz";
    const std::string message = parse_error("k1 " + secret);
    EXPECT_EQ(message.find("deadbeef"), std::string::npos);
    EXPECT_EQ(message.find("zz"), std::string::npos);
}

TEST(Keyring, BuildsInCode) {
    Keyring ring;
    EXPECT_TRUE(ring.empty());
    EXPECT_EQ(ring.current_kid(), "");
    KeyringError err;
    ASSERT_TRUE(ring.add("a", std::string(32, 'x'), &err)) << err.message;
    ASSERT_TRUE(ring.add("b", std::string(64, 'y'), &err)) << err.message;
    EXPECT_EQ(ring.current_kid(), "a");
    EXPECT_FALSE(ring.add("a", std::string(32, 'z'), &err));
    EXPECT_EQ(err.message, "duplicate key id");
    EXPECT_FALSE(ring.add("c", std::string(31, 'z'), &err));
    EXPECT_FALSE(ring.add("c", std::string(65, 'z'), &err));
    EXPECT_FALSE(ring.add("", std::string(32, 'z'), &err));
    EXPECT_EQ(ring.size(), 2u);
}

TEST(Keyring, HmacMatchesAnIndependentImplementation) {
    // RFC 4231's keys are shorter than a Keyring accepts, so the vector is
    // RFC 4231 test case 1's message under a 32-byte key, computed with
    // Python: hmac.new(b"\x0b" * 32, b"Hi There", hashlib.sha256).
    Keyring ring;
    ASSERT_TRUE(ring.add("k", std::string(32, '\x0b'), nullptr));
    unsigned char mac[kMacBytes];
    ASSERT_TRUE(ring.hmac_sha256("k", "Hi There", mac));
    static const unsigned char kExpected[kMacBytes] = {
        0x19, 0x8a, 0x60, 0x7e, 0xb4, 0x4b, 0xfb, 0xc6, 0x99, 0x03, 0xa0,
        0xf1, 0xcf, 0x2b, 0xbd, 0xc5, 0xba, 0x0a, 0xa3, 0xf3, 0xd9, 0xae,
        0x3c, 0x1c, 0x7a, 0x3b, 0x16, 0x96, 0xa0, 0xb6, 0x8c, 0xf7};
    EXPECT_EQ(0, std::memcmp(mac, kExpected, kMacBytes));
    EXPECT_FALSE(ring.hmac_sha256("nope", "Hi There", mac));
}

TEST(Keyring, MovedRingKeepsWorking) {
    Keyring a;
    ASSERT_TRUE(a.add("k", std::string(32, 'x'), nullptr));
    unsigned char before[kMacBytes];
    ASSERT_TRUE(a.hmac_sha256("k", "m", before));
    Keyring b = std::move(a);
    unsigned char after[kMacBytes];
    ASSERT_TRUE(b.hmac_sha256("k", "m", after));
    EXPECT_EQ(0, std::memcmp(before, after, kMacBytes));
}

TEST(Keyring, LoadsAFile) {
    const std::string path = ::testing::TempDir() + "keyring_test.keys";
    {
        std::ofstream out(path);
        out << "# test\nk9 " << kHex32 << "\n";
    }
    KeyringError err;
    auto ring = Keyring::load_file(path, &err);
    ASSERT_TRUE(ring) << err.message;
    EXPECT_EQ(ring->current_kid(), "k9");
    std::remove(path.c_str());
}

TEST(Keyring, MissingFileNamesThePath) {
    KeyringError err;
    EXPECT_FALSE(Keyring::load_file("/nonexistent/tailor.keys", &err));
    EXPECT_EQ(err.line, 0u);
    EXPECT_NE(err.message.find("/nonexistent/tailor.keys"), std::string::npos) << err.message;
}

TEST(Keyring, OversizedFileIsRefused) {
    const std::string path = ::testing::TempDir() + "keyring_test_big.keys";
    {
        std::ofstream out(path);
        out << "k1 " << kHex32 << "\n" << std::string(kMaxKeyFileBytes, '#');
    }
    KeyringError err;
    EXPECT_FALSE(Keyring::load_file(path, &err));
    EXPECT_NE(err.message.find("larger than"), std::string::npos) << err.message;
    std::remove(path.c_str());
}

}  // namespace
}  // namespace tailor
