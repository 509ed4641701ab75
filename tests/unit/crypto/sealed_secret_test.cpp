// Tests for crypto::SealSecret / OpenSealed (crypto/sealed_secret.hpp): the
// round trip, and that a wrong key, another context or any changed byte
// fails with kUnauthorized instead of yielding a secret.

#include "crypto/sealed_secret.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::crypto {
namespace {

constexpr std::string_view kRefresh =
    "8f2c1d3e4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
constexpr std::string_view kContext = "alice\nberth";
const Secret kKeystoneToken("gAAAAABmExampleFernetTokenBodyThatIsLongEnough-_0123456789");

std::string Sealed() {
  auto s = SealSecret(kRefresh, kContext, kKeystoneToken);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? *s : std::string();
}

TEST(SealedSecretTest, RoundTrip) {
  const std::string sealed = Sealed();
  auto opened = OpenSealed(kRefresh, kContext, sealed);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->reveal(), kKeystoneToken.reveal());
  // version + nonce + text + tag, as hex; the secret itself never shows.
  EXPECT_EQ(sealed.size(), 2 * (1 + 12 + kKeystoneToken.reveal().size() + 16));
  EXPECT_EQ(sealed.find(kKeystoneToken.reveal()), std::string::npos);
}

TEST(SealedSecretTest, EmptySecretRoundTrips) {
  auto sealed = SealSecret(kRefresh, kContext, Secret());
  ASSERT_TRUE(sealed.ok());
  auto opened = OpenSealed(kRefresh, kContext, *sealed);
  ASSERT_TRUE(opened.ok());
  EXPECT_TRUE(opened->empty());
}

TEST(SealedSecretTest, FreshNonceEachTime) { EXPECT_NE(Sealed(), Sealed()); }

TEST(SealedSecretTest, WrongKeyFails) {
  std::string other(kRefresh);
  other.back() = other.back() == '0' ? '1' : '0';
  auto opened = OpenSealed(other, kContext, Sealed());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Errc::kUnauthorized);
  // The store's hash of the refresh token is no key either.
  EXPECT_FALSE(OpenSealed("", kContext, Sealed()).ok());
}

TEST(SealedSecretTest, OtherContextFails) {
  auto opened = OpenSealed(kRefresh, "carol\nberth", Sealed());
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Errc::kUnauthorized);
}

TEST(SealedSecretTest, EveryTamperedByteFails) {
  const std::string sealed = Sealed();
  // Every byte position (version, nonce, ciphertext, tag): flip one bit.
  for (size_t i = 0; i < sealed.size(); i += 2) {
    std::string t = sealed;
    const char c = t[i + 1];
    t[i + 1] = c == '0' ? '1' : '0';
    auto opened = OpenSealed(kRefresh, kContext, t);
    ASSERT_FALSE(opened.ok()) << "byte " << i / 2;
    EXPECT_EQ(opened.status().code(), Errc::kUnauthorized) << "byte " << i / 2;
  }
}

TEST(SealedSecretTest, MalformedTextFails) {
  const std::string sealed = Sealed();
  const std::string cases[] = {
      "",                                   // nothing
      "zz" + sealed.substr(2),              // not hex
      sealed.substr(0, sealed.size() - 1),  // odd length
      sealed.substr(0, 2 * (1 + 12 + 15)),  // shorter than a tag
      sealed.substr(0, sealed.size() - 2),  // truncated tag
      sealed + "00",                        // trailing byte
  };
  for (const auto& text : cases) {
    auto opened = OpenSealed(kRefresh, kContext, text);
    ASSERT_FALSE(opened.ok()) << text;
    EXPECT_EQ(opened.status().code(), Errc::kUnauthorized) << text;
  }
}

}  // namespace
}  // namespace berth::crypto
