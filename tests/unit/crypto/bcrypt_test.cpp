// Tests for crypto/bcrypt.hpp: hash + verify round trips, hashes written by
// Apache's `htpasswd -B`, and refusal of anything that is not bcrypt.

#include "crypto/bcrypt.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::crypto {
namespace {

// `htpasswd -nbB -C 4 alice secret` (apache2-utils 2.4.57, Debian 12).
constexpr const char* kHtpasswdAliceSecret =
    "$2y$04$tDGnn21bmh00jMjtyo39TO3ciXhBozaYHZfhZxfqUIrA/c4YF0Yo.";

TEST(BcryptTest, HashThenVerify) {
  Result<std::string> hash = BcryptHash("correct horse", 4);
  ASSERT_TRUE(hash.ok()) << hash.status().message();
  EXPECT_TRUE(IsBcryptHash(*hash));
  EXPECT_EQ(hash->rfind("$2b$04$", 0), 0u) << *hash;
  EXPECT_EQ(BcryptCost(*hash), 4);
  EXPECT_TRUE(BcryptVerify("correct horse", *hash));
}

TEST(BcryptTest, WrongPasswordFails) {
  Result<std::string> hash = BcryptHash("correct horse", 4);
  ASSERT_TRUE(hash.ok());
  EXPECT_FALSE(BcryptVerify("correct horsE", *hash));
  EXPECT_FALSE(BcryptVerify("", *hash));
  EXPECT_FALSE(BcryptVerify("correct horse ", *hash));
}

TEST(BcryptTest, SaltsDiffer) {
  Result<std::string> a = BcryptHash("pw", 4);
  Result<std::string> b = BcryptHash("pw", 4);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
}

TEST(BcryptTest, VerifiesHtpasswdDashB2y) {
  EXPECT_TRUE(BcryptVerify("secret", kHtpasswdAliceSecret));
  EXPECT_FALSE(BcryptVerify("Secret", kHtpasswdAliceSecret));
}

TEST(BcryptTest, Accepts2aAnd2bSpellingsOfTheSameHash) {
  // For passwords shorter than 255 bytes the variants compute the same hash.
  std::string y = kHtpasswdAliceSecret;
  std::string a = "$2a$" + y.substr(4);
  std::string b = "$2b$" + y.substr(4);
  EXPECT_TRUE(BcryptVerify("secret", a));
  EXPECT_TRUE(BcryptVerify("secret", b));
}

TEST(BcryptTest, GarbageHashIsFalse) {
  const char* garbage[] = {
      "",
      "garbage",                            // would be DES with salt "ga" in crypt(3)
      "ga0CICZ4/QtfI",                      // crypt("secret", "ga"): DES is refused
      "$1$abc$abcdefghijklmnopqrstuv",      // MD5-crypt
      "$apr1$abc$abcdefghijklmnopqrstuv",   // Apache MD5
      "{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=",  // Apache SHA-1
      "$2x$04$tDGnn21bmh00jMjtyo39TO3ciXhBozaYHZfhZxfqUIrA/c4YF0Yo.",   // buggy variant
      "$2y$03$tDGnn21bmh00jMjtyo39TO3ciXhBozaYHZfhZxfqUIrA/c4YF0Yo.",   // cost too low
      "$2y$04$tDGnn21bmh00jMjtyo39TO3ciXhBozaYHZfhZxfqUIrA/c4YF0Yo",    // truncated
      "$2y$04$tDGnn21bmh00jMjtyo39TO3ciXhBozaYHZfhZxfqUIrA/c4YF0Yo.x",  // too long
      "$2y$04$tDGnn21bmh00jMjtyo39TO3ciXhBozaYHZfhZxfqUIrA/c4YF0Yo!",   // bad alphabet
      "$2y$4a$tDGnn21bmh00jMjtyo39TO3ciXhBozaYHZfhZxfqUIrA/c4YF0Yo.",   // bad cost
  };
  for (const char* hash : garbage) {
    SCOPED_TRACE(hash);
    EXPECT_FALSE(IsBcryptHash(hash));
    EXPECT_FALSE(BcryptVerify("secret", hash));
  }
}

TEST(BcryptTest, PasswordWithNulNeverVerifies) {
  std::string with_nul("secret\0tail", 11);
  EXPECT_FALSE(BcryptVerify(with_nul, kHtpasswdAliceSecret));
  Result<std::string> hash = BcryptHash(with_nul, 4);
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.status().code(), Errc::kUnsupported);
}

TEST(BcryptTest, RefusesBadCostAndLongPasswords) {
  EXPECT_EQ(BcryptHash("pw", 3).status().code(), Errc::kUnsupported);
  EXPECT_EQ(BcryptHash("pw", 32).status().code(), Errc::kUnsupported);
  EXPECT_TRUE(BcryptHash(std::string(72, 'x'), 4).ok());
  Result<std::string> too_long = BcryptHash(std::string(73, 'x'), 4);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.status().code(), Errc::kUnsupported);
  EXPECT_EQ(too_long.status().message().find("xxx"), std::string::npos);
}

}  // namespace
}  // namespace berth::crypto
