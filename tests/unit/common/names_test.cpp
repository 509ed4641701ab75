// Tests for the OCI name, tag and reference grammars (common/names.hpp).

#include "common/names.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth {
namespace {

const std::string kDigest256 =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

TEST(RepositoryNameTest, AcceptsValidNames) {
  const std::string cases[] = {
      "a",       "a/b",       "foo.bar/x__y-z", "a--b",
      "a-----b", "a_b",       "a.b.c",          "library/ubuntu",
      "0",       "9a/b9/c0d", "a/b/c/d/e/f",    std::string(kMaxRepositoryNameLength, 'a'),
  };
  for (const auto& name : cases) {
    SCOPED_TRACE(name);
    Status s = ValidateRepositoryName(name);
    EXPECT_TRUE(s.ok()) << s.message();
  }
}

TEST(RepositoryNameTest, RejectsInvalidNames) {
  const std::string errors[] = {
      "",
      "../x",
      "..",
      ".",
      "x/..",
      "x/./y",
      "A/b",
      "a/B",
      "a//b",
      "a/",
      "/a",
      "/",
      "%2e%2e",
      "a%2fb",
      "a_",
      "_a",
      "-a",
      "a-",
      ".a",
      "a.",
      "a..b",
      "a.-b",
      "a___b",
      "a b",
      "a:b",
      "a@b",
      "a\\b",
      std::string("a\0b", 3),
      "\xc3\xa9",
      std::string(300, 'a'),
      std::string(kMaxRepositoryNameLength + 1, 'a'),
  };
  for (const auto& name : errors) {
    SCOPED_TRACE(name);
    Status s = ValidateRepositoryName(name);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::kNameInvalid);
  }
}

TEST(TagTest, AcceptsValidTags) {
  const std::string cases[] = {
      "latest", "v1.0.0", "_", "_hidden", "A", "0", "1.2-rc.3_x", "a--..__b", std::string(128, 'x'),
  };
  for (const auto& tag : cases) {
    SCOPED_TRACE(tag);
    Status s = ValidateTag(tag);
    EXPECT_TRUE(s.ok()) << s.message();
  }
}

TEST(TagTest, RejectsInvalidTags) {
  const std::string errors[] = {
      "",    ".hidden", "-x",       std::string(129, 'x'), "a/b", "a:b", "a b",
      "a+b", "a@b",     "\xc3\xa9", std::string("a\0", 2),
  };
  for (const auto& tag : errors) {
    SCOPED_TRACE(tag);
    Status s = ValidateTag(tag);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.code(), Errc::kTagInvalid);
  }
}

TEST(ParseReferenceTest, TagsAndDigests) {
  auto tag = ParseReference("v1.0");
  ASSERT_TRUE(tag.ok());
  ASSERT_TRUE(std::holds_alternative<std::string>(*tag));
  EXPECT_EQ(std::get<std::string>(*tag), "v1.0");

  auto digest = ParseReference(kDigest256);
  ASSERT_TRUE(digest.ok()) << digest.status().message();
  ASSERT_TRUE(std::holds_alternative<Digest>(*digest));
  EXPECT_EQ(std::get<Digest>(*digest).str(), kDigest256);
}

TEST(ParseReferenceTest, Errors) {
  struct Case {
    std::string text;
    Errc code;
  } cases[] = {
      {"", Errc::kTagInvalid},
      {".x", Errc::kTagInvalid},
      {std::string(129, 'a'), Errc::kTagInvalid},
      {"a/b", Errc::kTagInvalid},
      {"foo:bar", Errc::kDigestInvalid},  // a colon makes it a digest
      {"latest:", Errc::kDigestInvalid},
      {"md5:d41d8cd98f00b204e9800998ecf8427e", Errc::kDigestInvalid},
      {"sha256:" + std::string(64, 'A'), Errc::kDigestInvalid},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    auto r = ParseReference(c.text);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), c.code);
  }
}

}  // namespace
}  // namespace berth
