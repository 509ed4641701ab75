// Tests for registry/manifests.cpp without sockets: references that name no
// manifest.

#include <gtest/gtest.h>

#include <string>

#include "open_registry.hpp"

namespace berth::registry {
namespace {

using ManifestsTest = OpenRegistryTest;

// Regression: GET/HEAD of a reference that is neither a tag nor a digest
// answered 400; nothing can be stored under it, so it is not found (404).
TEST_F(ManifestsTest, ReferenceThatIsNeitherTagNorDigestIsNotFound) {
  const std::string config = PushBlob("a/b", "{}");
  ASSERT_EQ(PutManifest("a/b", "v1", ImageManifest(config, 2)).status, 201);
  const std::string bad[] = {
      "-bad", ".bad", "b@d", std::string(129, 't'), "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha256:zzz", "sha256:1234", "sha256:", ":" + std::string(64, '0'),
  };
  for (const auto& ref : bad) {
    for (const char* method : {"GET", "HEAD"}) {
      SCOPED_TRACE(std::string(method) + " " + ref);
      http::Response r = Send(Req(method, "/v2/a/b/manifests/" + ref));
      EXPECT_EQ(r.status, 404);
      EXPECT_EQ(Code(r), "MANIFEST_UNKNOWN");
    }
  }
  // A valid but unknown tag or digest stays 404 too, and a known tag 200.
  EXPECT_EQ(Send(Req("GET", "/v2/a/b/manifests/" + std::string(128, 't'))).status, 404);
  EXPECT_EQ(Send(Req("GET", "/v2/a/b/manifests/sha256:" + std::string(64, '0'))).status, 404);
  EXPECT_EQ(Send(Req("HEAD", "/v2/a/b/manifests/v1")).status, 200);
}

TEST_F(ManifestsTest, PutUnderAnInvalidTagStays400) {
  const std::string config = PushBlob("a", "{}");
  for (const std::string& tag : {std::string("-bad"), std::string(".bad"), std::string("b@d"), std::string(129, 't')}) {
    SCOPED_TRACE(tag);
    http::Response r = PutManifest("a", tag, ImageManifest(config, 2));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Code(r), "MANIFEST_INVALID");
  }
  http::Response r = PutManifest("a", "sha256:zzz", ImageManifest(config, 2));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
}

}  // namespace
}  // namespace berth::registry
