// Tests for ParseRoute (registry/routes.hpp): the URL grammar, matched from
// the right because repository names contain '/'.

#include "registry/routes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace berth::registry {
namespace {

const std::string kDigest =
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const std::string kUploadId = "0123456789abcdef0123456789abcdef";

TEST(ParseRouteTest, Endpoints) {
  struct Case {
    std::string path;
    Endpoint endpoint;
    std::string name;
    std::string param;
  } cases[] = {
      {"/v2/", Endpoint::kBase, "", ""},
      {"/v2", Endpoint::kBase, "", ""},
      {"/v2/_catalog", Endpoint::kCatalog, "", ""},
      {"/v2/a/tags/list", Endpoint::kTags, "a", ""},
      {"/v2/library/ubuntu/tags/list", Endpoint::kTags, "library/ubuntu", ""},
      {"/v2/a/manifests/latest", Endpoint::kManifest, "a", "latest"},
      {"/v2/a/b/c/manifests/v1.0", Endpoint::kManifest, "a/b/c", "v1.0"},
      {"/v2/foo.bar/x__y-z/manifests/" + kDigest, Endpoint::kManifest, "foo.bar/x__y-z", kDigest},
      {"/v2/a/blobs/" + kDigest, Endpoint::kBlob, "a", kDigest},
      {"/v2/a/blobs/uploads/", Endpoint::kUploadStart, "a", ""},
      {"/v2/a/blobs/uploads", Endpoint::kUploadStart, "a", ""},
      {"/v2/a/blobs/uploads/" + kUploadId, Endpoint::kUpload, "a", kUploadId},
      {"/v2/x/y/blobs/uploads/" + kUploadId, Endpoint::kUpload, "x/y", kUploadId},
      {"/v2/a/referrers/" + kDigest, Endpoint::kReferrers, "a", kDigest},
      // Names whose segments look like endpoint keywords.
      {"/v2/blobs/manifests/latest", Endpoint::kManifest, "blobs", "latest"},
      {"/v2/manifests/manifests/latest", Endpoint::kManifest, "manifests", "latest"},
      {"/v2/a/manifests/b/manifests/latest", Endpoint::kManifest, "a/manifests/b", "latest"},
      {"/v2/a/blobs/b/blobs/" + kDigest, Endpoint::kBlob, "a/blobs/b", kDigest},
      {"/v2/blobs/blobs/" + kDigest, Endpoint::kBlob, "blobs", kDigest},
      {"/v2/manifests/blobs/" + kDigest, Endpoint::kBlob, "manifests", kDigest},
      {"/v2/blobs/blobs/uploads/", Endpoint::kUploadStart, "blobs", ""},
      {"/v2/a/blobs/uploads/blobs/uploads/", Endpoint::kUploadStart, "a/blobs/uploads", ""},
      {"/v2/a/blobs/uploads/blobs/uploads/" + kUploadId, Endpoint::kUpload, "a/blobs/uploads",
       kUploadId},
      {"/v2/uploads/blobs/uploads", Endpoint::kUploadStart, "uploads", ""},
      {"/v2/tags/tags/list", Endpoint::kTags, "tags", ""},
      {"/v2/a/tags/list/manifests/x", Endpoint::kManifest, "a/tags/list", "x"},
      {"/v2/referrers/referrers/" + kDigest, Endpoint::kReferrers, "referrers", kDigest},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    auto r = ParseRoute(c.path);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->endpoint, c.endpoint);
    EXPECT_EQ(r->name, c.name);
    EXPECT_EQ(r->param, c.param);
  }
}

TEST(ParseRouteTest, InvalidNames) {
  const std::string errors[] = {
      "/v2/A/manifests/latest",
      "/v2/A/b/tags/list",
      "/v2/../manifests/latest",
      "/v2/../../etc/blobs/" + kDigest,
      "/v2/a/../b/tags/list",
      "/v2/%2e%2e/manifests/latest",
      "/v2/a%2fb/manifests/latest",
      "/v2/a//b/manifests/latest",
      "/v2//manifests/latest",
      "/v2/a_/blobs/uploads/",
      "/v2/a___b/blobs/uploads/" + kUploadId,
      "/v2/_catalog/manifests/x",
      "/v2/" + std::string(300, 'a') + "/tags/list",
  };
  for (const auto& path : errors) {
    SCOPED_TRACE(path);
    auto r = ParseRoute(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Errc::kNameInvalid);
  }
}

TEST(ParseRouteTest, UnknownPaths) {
  const std::string errors[] = {
      "",
      "/",
      "/v1/",
      "/v3/a/manifests/latest",
      "v2/a/manifests/latest",
      "/v2x/a/manifests/latest",
      "/v2/a",
      "/v2/a/b",
      "/v2/manifests/latest",  // no name
      "/v2/a/manifests/",      // no reference
      "/v2/a/blobs/",          // no digest
      "/v2/a/referrers/",      // no digest
      "/v2/a/tags",
      "/v2/a/tags/list/",
      "/v2/a/tags/lists",
      "/v2/a/unknown/x",
      "/v2/a/blobs/uploads/" + kUploadId + "/extra",
      "/v2/_catalog/",
  };
  for (const auto& path : errors) {
    SCOPED_TRACE(path);
    auto r = ParseRoute(path);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Errc::kNotFound);
  }
}

}  // namespace
}  // namespace berth::registry
