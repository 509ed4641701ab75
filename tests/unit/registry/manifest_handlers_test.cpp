// Tests for registry/manifests.cpp without sockets, past manifests_test.cpp:
// PUT, GET, HEAD and DELETE by tag and by digest, the headers that come with
// them, and the manifests refused (bad JSON, a digest that does not match,
// blobs or child manifests the repository does not hold).
#include <gtest/gtest.h>

#include <string>

#include "crypto/hasher.hpp"
#include "open_registry.hpp"

namespace berth::registry {
namespace {

class ManifestHandlersTest : public OpenRegistryTest {
 protected:
  void SetUp() override {
    OpenRegistryTest::SetUp();
    config_ = PushBlob("a/b", "{}");
    manifest_ = ImageManifest(config_, 2);
    digest_ = DigestOf(manifest_);
  }
  static std::string DigestOf(const std::string& content) {
    return crypto::HashBytes(DigestAlgorithm::kSha256, content).str();
  }
  http::Response Get(const std::string& method, const std::string& reference) {
    return Send(Req(method, "/v2/a/b/manifests/" + reference));
  }

  std::string config_, manifest_, digest_;
};

TEST_F(ManifestHandlersTest, PutByTagThenGetAndHeadByTagAndDigest) {
  http::Response r = PutManifest("a/b", "v1", manifest_);
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "Location"), "/v2/a/b/manifests/" + digest_);
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest_);
  EXPECT_EQ(Header(r, "OCI-Subject"), "<none>");
  for (const std::string& ref : {std::string("v1"), digest_}) {
    SCOPED_TRACE(ref);
    r = Get("GET", ref);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, manifest_);
    EXPECT_EQ(Header(r, "Content-Type"), "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest_);
    EXPECT_EQ(Header(r, "Etag"), "\"" + digest_ + "\"");
    r = Get("HEAD", ref);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.head_length.value_or(0), manifest_.size());
    EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest_);
  }
  // Another repository does not see it.
  r = Send(Req("GET", "/v2/other/manifests/" + digest_));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "MANIFEST_UNKNOWN");
}

TEST_F(ManifestHandlersTest, PutByDigestMustMatchTheBody) {
  http::Response r = PutManifest("a/b", digest_, manifest_);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "Docker-Content-Digest"), digest_);
  EXPECT_EQ(Get("GET", digest_).body, manifest_);

  const std::string other = DigestOf("something else");
  r = PutManifest("a/b", other, manifest_);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
  EXPECT_EQ(Get("GET", other).status, 404);
}

TEST_F(ManifestHandlersTest, TagMovesToTheNewestManifest) {
  ASSERT_EQ(PutManifest("a/b", "v1", manifest_).status, 201);
  const std::string second = ImageManifest(config_, 2, R"(,"annotations":{"n":"2"})");
  ASSERT_EQ(PutManifest("a/b", "v1", second).status, 201);
  EXPECT_EQ(Get("GET", "v1").body, second);
  // The first stays reachable by digest.
  EXPECT_EQ(Get("GET", digest_).body, manifest_);
}

TEST_F(ManifestHandlersTest, BadJsonIsManifestInvalid) {
  for (const std::string bad : {"", "{", "not json", "[]", R"({"schemaVersion":2})"}) {
    SCOPED_TRACE(bad);
    http::Response r = PutManifest("a/b", "v1", bad);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Code(r), "MANIFEST_INVALID");
  }
  EXPECT_EQ(Get("GET", "v1").status, 404);
}

TEST_F(ManifestHandlersTest, WrongMediaTypeIsManifestInvalid) {
  auto put = [&](const std::string& reference, const std::string& content_type,
                 const std::string& body) {
    return Send(WithBody(Req("PUT", "/v2/a/b/manifests/" + reference), body, content_type), body);
  };
  const std::string schema1 = R"({"schemaVersion":1,"name":"a/b","tag":"v1","fsLayers":[]})";
  const struct {
    std::string content_type, body;
  } cases[] = {
      // The body says image manifest, the Content-Type says index.
      {"application/vnd.oci.image.index.v1+json", manifest_},
      {"application/vnd.docker.distribution.manifest.v2+json", manifest_},
      {"text/plain", manifest_},
      {"application/vnd.oci.image.config.v1+json", manifest_},
      {"application/vnd.docker.distribution.manifest.v1+prettyjws", schema1},
      {"application/json", schema1},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.content_type + " " + c.body);
    for (const std::string& reference : {std::string("v1"), DigestOf(c.body)}) {
      http::Response r = put(reference, c.content_type, c.body);
      EXPECT_EQ(r.status, 400) << r.body;
      EXPECT_EQ(Code(r), "MANIFEST_INVALID");
      EXPECT_EQ(Get("GET", reference).status, 404);
    }
  }
  // Parameters on the Content-Type are not part of the type.
  http::Response r =
      put("v1", "application/vnd.oci.image.manifest.v1+json; charset=utf-8", manifest_);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(Get("GET", "v1"), "Content-Type"), "application/vnd.oci.image.manifest.v1+json");
}

TEST_F(ManifestHandlersTest, UnknownBlobIsManifestBlobUnknown) {
  const std::string absent = "sha256:" + std::string(64, 'a');
  http::Response r = PutManifest("a/b", "v1", ImageManifest(absent, 2));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "MANIFEST_BLOB_UNKNOWN");
  // A layer the repository does not hold, though another one does.
  const std::string layer = PushBlob("elsewhere", "layer bytes");
  const std::string with_layer =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.example.config","digest":")" +
      config_ +
      R"(","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
      layer + R"(","size":11}]})";
  r = PutManifest("a/b", "v1", with_layer);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "MANIFEST_BLOB_UNKNOWN");
  EXPECT_EQ(Get("GET", "v1").status, 404);
}

TEST_F(ManifestHandlersTest, IndexNeedsItsChildManifests) {
  auto index = [](const std::string& child, size_t size) {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
           R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
           child + R"(","size":)" + std::to_string(size) + "}]}";
  };
  auto put_index = [&](const std::string& body) {
    return Send(WithBody(Req("PUT", "/v2/a/b/manifests/multi"), body,
                         "application/vnd.oci.image.index.v1+json"),
                body);
  };
  http::Response r = put_index(index(digest_, manifest_.size()));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "MANIFEST_BLOB_UNKNOWN");
  ASSERT_EQ(PutManifest("a/b", digest_, manifest_).status, 201);
  r = put_index(index(digest_, manifest_.size()));
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(Get("GET", "multi"), "Content-Type"), "application/vnd.oci.image.index.v1+json");
}

TEST_F(ManifestHandlersTest, SubjectIsEchoed) {
  ASSERT_EQ(PutManifest("a/b", "v1", manifest_).status, 201);
  const std::string referrer = ImageManifest(
      config_, 2,
      R"(,"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
          digest_ + R"(","size":)" + std::to_string(manifest_.size()) + "}");
  http::Response r = PutManifest("a/b", DigestOf(referrer), referrer);
  EXPECT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Header(r, "OCI-Subject"), digest_);
}

TEST_F(ManifestHandlersTest, DeleteByTagKeepsTheManifest) {
  ASSERT_EQ(PutManifest("a/b", "v1", manifest_).status, 201);
  http::Response r = Send(Req("DELETE", "/v2/a/b/manifests/v1"));
  EXPECT_EQ(r.status, 202);
  r = Get("GET", "v1");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "MANIFEST_UNKNOWN");
  EXPECT_EQ(Get("GET", digest_).status, 200);
  r = Send(Req("DELETE", "/v2/a/b/manifests/v1"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "MANIFEST_UNKNOWN");
}

TEST_F(ManifestHandlersTest, DeleteByDigestRemovesItAndItsTags) {
  ASSERT_EQ(PutManifest("a/b", "v1", manifest_).status, 201);
  EXPECT_EQ(Send(Req("DELETE", "/v2/a/b/manifests/" + digest_)).status, 202);
  for (const std::string& ref : {std::string("v1"), digest_}) {
    SCOPED_TRACE(ref);
    for (const char* method : {"GET", "HEAD"}) {
      http::Response r = Get(method, ref);
      EXPECT_EQ(r.status, 404);
      EXPECT_EQ(Code(r), "MANIFEST_UNKNOWN");
    }
  }
  http::Response r = Send(Req("DELETE", "/v2/a/b/manifests/" + digest_));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "MANIFEST_UNKNOWN");
  r = Send(Req("DELETE", "/v2/never/manifests/v1"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "MANIFEST_UNKNOWN");
}

TEST_F(ManifestHandlersTest, OtherMethodsAreUnsupported) {
  for (const char* method : {"POST", "PATCH"}) {
    http::Response r = Get(method, "v1");
    EXPECT_EQ(r.status, 405);
    EXPECT_EQ(Code(r), "UNSUPPORTED");
  }
}

}  // namespace
}  // namespace berth::registry
