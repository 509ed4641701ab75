// Tests for Digest::Parse (common/digest.hpp): the sha256/sha512 grammar.

#include "common/digest.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

const std::string kHex64(64, 'a');
const std::string kHex128(128, '0');

TEST(DigestTest, ParsesValidDigests) {
  struct Case {
    std::string text;
    DigestAlgorithm algorithm;
    std::string hex;
  } cases[] = {
      {"sha256:" + kHex64, DigestAlgorithm::kSha256, kHex64},
      {"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       DigestAlgorithm::kSha256,
       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"sha512:" + kHex128, DigestAlgorithm::kSha512, kHex128},
      {"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       DigestAlgorithm::kSha256,
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto d = Digest::Parse(c.text);
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(d->algorithm(), c.algorithm);
    EXPECT_EQ(d->hex(), c.hex);
    EXPECT_EQ(d->str(), c.text);
  }
}

TEST(DigestTest, RejectsInvalidDigests) {
  const std::string errors[] = {
      "",
      "sha256",                          // missing colon
      "sha256" + kHex64,                 // missing colon
      ":" + kHex64,                      // empty algorithm
      "sha256:",                         // empty hex
      "sha256:" + std::string(63, 'a'),  // too short
      "sha256:" + std::string(65, 'a'),  // too long
      "sha256:" + kHex128,               // sha512 length under sha256
      "sha512:" + kHex64,                // sha256 length under sha512
      "sha256:" + std::string(64, 'A'),  // upper-case hex
      "sha256:" + std::string(63, 'a') + "G",
      "sha256:" + std::string(63, 'a') + "g",  // not hex
      "SHA256:" + kHex64,                      // upper-case algorithm
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha256+b64:" + kHex64,  // grammatical but unsupported
      "sha384:" + std::string(96, 'a'),
      "sha256:" + kHex64 + "\n",
      " sha256:" + kHex64,
      "sha256::" + std::string(63, 'a'),
      "sha256:" + std::string(32, 'a') + ":" + std::string(31, 'a'),
      "+sha256:" + kHex64,  // separator first
      "sha256+:" + kHex64,  // separator last
  };
  for (const auto& text : errors) {
    SCOPED_TRACE(text);
    auto d = Digest::Parse(text);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.status().code(), Errc::kDigestInvalid);
    EXPECT_FALSE(d.status().message().empty());
  }
}

TEST(DigestTest, AlgorithmNameAndEquality) {
  auto a = Digest::Parse("sha512:" + kHex128);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->algorithm_name(), "sha512");
  auto b = Digest::Parse("sha256:" + kHex64);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->algorithm_name(), "sha256");
  EXPECT_EQ(*b, Digest(DigestAlgorithm::kSha256, kHex64));
  EXPECT_FALSE(*b == Digest(DigestAlgorithm::kSha256, std::string(64, 'b')));
  EXPECT_FALSE(Digest(DigestAlgorithm::kSha256, kHex64) ==
               Digest(DigestAlgorithm::kSha512, kHex64));
}

}  // namespace
}  // namespace berth
