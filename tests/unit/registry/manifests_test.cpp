// Tests for registry/manifests.cpp without sockets: references that name no
// manifest, and manifest bodies held within the memory budget (429 with
// Retry-After past it, everything given back when a sink ends or is dropped).

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "open_registry.hpp"
#include "registry/handlers.hpp"

namespace berth::registry {
namespace {

using ManifestsTest = OpenRegistryTest;

// Regression: GET/HEAD of a reference that is neither a tag nor a digest
// answered 400; nothing can be stored under it, so it is not found (404).
TEST_F(ManifestsTest, ReferenceThatIsNeitherTagNorDigestIsNotFound) {
  const std::string config = PushBlob("a/b", "{}");
  ASSERT_EQ(PutManifest("a/b", "v1", ImageManifest(config, 2)).status, 201);
  const std::string bad[] = {
      "-bad",
      ".bad",
      "b@d",
      std::string(129, 't'),
      "md5:d41d8cd98f00b204e9800998ecf8427e",
      "sha256:zzz",
      "sha256:1234",
      "sha256:",
      ":" + std::string(64, '0'),
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
  for (const std::string& tag :
       {std::string("-bad"), std::string(".bad"), std::string("b@d"), std::string(129, 't')}) {
    SCOPED_TRACE(tag);
    http::Response r = PutManifest("a", tag, ImageManifest(config, 2));
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(Code(r), "MANIFEST_INVALID");
  }
  http::Response r = PutManifest("a", "sha256:zzz", ImageManifest(config, 2));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Code(r), "DIGEST_INVALID");
}

// Handler tests with a small budget of their own (the Registry uses the
// process-wide one).
class ManifestBudgetTest : public OpenRegistryTest {
 protected:
  static constexpr uint64_t kMax = 16 * 1024;  // max_manifest_bytes
  static constexpr uint64_t kBudget = 64 * 1024;

  Deps MakeDeps() {
    Options o;
    o.max_manifest_bytes = kMax;
    return Deps{*blobs_, *uploads_, *meta_, budget_, o, locks_, {}};
  }
  // Starts a manifest PUT under `tag`: a sink, or the immediate answer.
  http::Outcome Start(Deps& d, const std::string& tag, std::optional<uint64_t> length) {
    http::Request req = Req("PUT", "/v2/a/manifests/" + tag);
    req.headers.emplace_back("Content-Type", "application/vnd.oci.image.manifest.v1+json");
    req.content_length = length;
    req.has_body = true;
    auto route = ParseRoute(req.path);
    EXPECT_TRUE(route.ok());
    return registry::PutManifest(d, req, *route);
  }

  BodyBudget budget_{kBudget};

  storage::DigestLocks locks_;
};

TEST_F(ManifestBudgetTest, DeclaredLengthsPastTheBudgetGet429WithRetryAfter) {
  Deps d = MakeDeps();
  // Stalled PUTs, each declaring the largest manifest: 4 fit in the budget.
  std::vector<http::Outcome> stalled;
  for (int i = 0; i < 4; ++i) {
    stalled.push_back(Start(d, "t" + std::to_string(i), kMax));
    ASSERT_TRUE(stalled.back().sink) << stalled.back().response.body;
    std::string part(kMax - 1, 'x');  // all but the last byte
    ASSERT_TRUE(stalled.back().sink->Write({part.data(), part.size()}).ok());
  }
  EXPECT_EQ(budget_.used(), 4 * kMax);
  // The fifth is refused before its body is read.
  http::Outcome refused = Start(d, "t4", kMax);
  ASSERT_FALSE(refused.sink);
  EXPECT_EQ(refused.response.status, 429);
  EXPECT_EQ(Code(refused.response), "TOOMANYREQUESTS");
  EXPECT_EQ(Header(refused.response, "Retry-After"), "1");
  EXPECT_EQ(budget_.used(), 4 * kMax);

  // A client that vanishes (its sink dropped without Finish) gives its share back.
  stalled.pop_back();
  EXPECT_EQ(budget_.used(), 3 * kMax);
  // So does one that finishes, even with an error.
  http::Response r = stalled.back().sink->Finish(Status(Errc::kBlobUploadInvalid, "went away"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(budget_.used(), 2 * kMax);
  // Now two more fit.
  http::Outcome again = Start(d, "t5", kMax);
  ASSERT_TRUE(again.sink);
  stalled.clear();
  again.sink.reset();
  EXPECT_EQ(budget_.used(), 0u);
}

TEST_F(ManifestBudgetTest, ChunkedBodiesPastTheBudgetGet429) {
  Deps d = MakeDeps();
  std::vector<http::Outcome> stalled;
  Status s;
  // No declared length: each reserves as it grows, until the budget is spent.
  while (s.ok() && stalled.size() < 100) {
    stalled.push_back(Start(d, "c" + std::to_string(stalled.size()), std::nullopt));
    ASSERT_TRUE(stalled.back().sink);
    std::string part(1024, 'x');
    for (uint64_t sent = 0; sent + 1024 < kMax && s.ok(); sent += 1024) {
      s = stalled.back().sink->Write({part.data(), part.size()});
    }
  }
  EXPECT_EQ(s.code(), Errc::kTooManyRequests);
  EXPECT_LE(budget_.used(), kBudget);
  EXPECT_LT(stalled.size(), 100u);
  http::Response r = stalled.back().sink->Finish(s);
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(Code(r), "TOOMANYREQUESTS");
  EXPECT_EQ(Header(r, "Retry-After"), "1");
  stalled.clear();
  EXPECT_EQ(budget_.used(), 0u);
}

TEST_F(ManifestBudgetTest, StoredManifestGivesItsShareBack) {
  Deps d = MakeDeps();
  const std::string config = PushBlob("a", "{}");
  const std::string manifest = ImageManifest(config, 2);
  http::Outcome out = Start(d, "v1", manifest.size());
  ASSERT_TRUE(out.sink);
  EXPECT_EQ(budget_.used(), manifest.size());
  ASSERT_TRUE(out.sink->Write({manifest.data(), manifest.size()}).ok());
  http::Response r = out.sink->Finish(Status::Ok());
  EXPECT_EQ(r.status, 201) << r.body;
  // Given back in Finish, before the response is sent; the sink still exists.
  EXPECT_EQ(budget_.used(), 0u);
  EXPECT_EQ(Send(Req("GET", "/v2/a/manifests/v1")).body, manifest);
}

TEST_F(ManifestBudgetTest, DeclaredLengthPastTheLimitIs413) {
  Deps d = MakeDeps();
  http::Outcome out = Start(d, "big", kMax + 1);
  ASSERT_FALSE(out.sink);
  EXPECT_EQ(out.response.status, 413);
  EXPECT_EQ(budget_.used(), 0u);
}

}  // namespace
}  // namespace berth::registry
