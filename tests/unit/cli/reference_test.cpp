// Tests for cli/admin/reference.hpp: REPO:TAG against REPO@DIGEST, with
// slashes in REPO, and a registry host:port refused rather than misread.

#include "cli/admin/reference.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::cli::admin {
namespace {

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(AdminReference, SplitsTagsAndDigests) {
  struct Case {
    std::string text, repository, reference;
    bool by_digest;
  } cases[] = {
      {"alice/app:v1", "alice/app", "v1", false},
      {"app:latest", "app", "latest", false},
      {"alice/team/app:1.2.3-rc_1", "alice/team/app", "1.2.3-rc_1", false},
      {"a.b/c-d/e__f:V", "a.b/c-d/e__f", "V", false},
      {"alice/app@sha256:" + kHex, "alice/app", "sha256:" + kHex, true},
      {"app@sha256:" + kHex, "app", "sha256:" + kHex, true},
  };
  for (const auto& c : cases) {
    auto got = ParseImageReference(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status().message();
    EXPECT_EQ(got->repository, c.repository) << c.text;
    EXPECT_EQ(got->reference, c.reference) << c.text;
    EXPECT_EQ(got->by_digest, c.by_digest) << c.text;
    EXPECT_EQ(got->str(), c.text);
  }
}

TEST(AdminReference, RefusesWhatIsNotOneReference) {
  struct Case {
    std::string text;
    Errc code;
  } cases[] = {
      {"alice/app", Errc::kTagInvalid},       // neither tag nor digest
      {"alice:5000/app", Errc::kTagInvalid},  // the ':' is before the last '/'
      {"alice/app:", Errc::kTagInvalid},      // empty tag
      {"alice/app:-x", Errc::kTagInvalid},    // bad tag
      {"alice/app:" + std::string(129, 'a'), Errc::kTagInvalid},
      {"Alice/app:v1", Errc::kNameInvalid},  // upper case
      {":v1", Errc::kNameInvalid},           // no repository
      {"alice//app:v1", Errc::kNameInvalid},
      {"registry.example:5000/alice/app:v1", Errc::kNameInvalid},  // host:port in front
      {"localhost:5000/app@sha256:" + kHex, Errc::kNameInvalid},   // host:port in front
      {"alice/app@sha256:abc", Errc::kDigestInvalid},
      {"alice/app@md5:" + kHex.substr(0, 32), Errc::kDigestInvalid},
      {"alice/app@", Errc::kDigestInvalid},
      {"alice/app:v1@sha256:" + kHex, Errc::kDigestInvalid},  // both
  };
  for (const auto& c : cases) {
    auto got = ParseImageReference(c.text);
    ASSERT_FALSE(got.ok()) << c.text;
    EXPECT_EQ(got.status().code(), c.code) << c.text << ": " << got.status().message();
    EXPECT_FALSE(got.status().message().empty());
  }
}

TEST(AdminReference, HintsAtTheUrlForARegistryHost) {
  auto got = ParseImageReference("registry.example:5000/alice/app:v1");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("--url"), std::string::npos) << got.status().message();
}

}  // namespace
}  // namespace berth::cli::admin
