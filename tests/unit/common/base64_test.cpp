// Tests for common/base64.hpp: RFC 4648 §10 vectors in both alphabets,
// unpadded base64url for JWS parts and padded standard base64 for x5c.

#include "common/base64.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

TEST(Base64Test, Rfc4648Vectors) {
  struct Case {
    const char* bytes;
    const char* standard;  // padded
    const char* url;       // unpadded
  };
  const Case cases[] = {
      {"", "", ""},
      {"f", "Zg==", "Zg"},
      {"fo", "Zm8=", "Zm8"},
      {"foo", "Zm9v", "Zm9v"},
      {"foob", "Zm9vYg==", "Zm9vYg"},
      {"fooba", "Zm9vYmE=", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy", "Zm9vYmFy"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.bytes);
    EXPECT_EQ(Base64Encode(c.bytes), c.standard);
    EXPECT_EQ(Base64UrlEncode(c.bytes), c.url);
    EXPECT_EQ(Base64Decode(c.standard), c.bytes);
    EXPECT_EQ(Base64Decode(c.url), c.bytes);  // padding is optional there
    EXPECT_EQ(Base64UrlDecode(c.url), c.bytes);
  }
}

TEST(Base64Test, AlphabetsDiffer) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64UrlDecode("-_-_"), bytes);
  EXPECT_EQ(Base64Decode("+/+/"), bytes);
  EXPECT_FALSE(Base64UrlDecode("+/+/"));
  EXPECT_FALSE(Base64Decode("-_-_"));
}

TEST(Base64Test, RoundTripsEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string part = all.substr(0, n);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(part)), part);
    EXPECT_EQ(Base64Decode(Base64Encode(part)), part);
  }
}

TEST(Base64Test, RejectsMalformedText) {
  for (const char* bad : {"Zg=", "Zg==", "Z", "Zm9vY", "Zh", "Zm9=", "Zm 9v", "Zm9v\n", "Zm.v"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(Base64UrlDecode(bad));  // no padding, no stray bits, no other characters
  }
  for (const char* bad : {"Z===", "Zm9vY", "Zh==", "Zm=9v", "Zm9v\n"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(Base64Decode(bad));
  }
}

}  // namespace
}  // namespace berth
