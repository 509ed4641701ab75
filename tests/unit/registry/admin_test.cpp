// Tests for registry/admin.cpp without sockets: POST /v2/_berth/gc and
// GET /v2/_berth/usage, answered only when the lifecycle parts are there,
// and namespace quotas refusing an upload that would pass them.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "lifecycle/collector.hpp"
#include "lifecycle/quota.hpp"
#include "open_registry.hpp"
#include "storage/digest_locks.hpp"

namespace berth::registry {
namespace {

class AdminTest : public OpenRegistryTest {
 protected:
  // Rebuilds the registry with quotas (10 bytes for "small", none for the
  // rest), the usage store and an on-demand collector without delays.
  void WithLifecycle() {
    quotas_ = lifecycle::QuotaPolicy(0, {{"small", 10}});
    lifecycle::CollectorOptions o;
    o.interval = 0;
    o.delay = 0;
    o.untagged_delay = 0;
    o.dry_run_path = dir_.path() + "/gc-dry-run.db";
    collector_ = std::make_unique<lifecycle::Collector>(*meta_, *meta_, *blobs_, *uploads_, locks_,
                                                        nullptr, std::move(o));
    registry_ = std::make_unique<Registry>(
        *blobs_, *uploads_, *meta_, Options{}, nullptr, &locks_,
        LifecycleParts{meta_.get(), &quotas_, nullptr, collector_.get()});
  }
  void TearDown() override {
    registry_.reset();
    collector_.reset();
    OpenRegistryTest::TearDown();
  }

  storage::DigestLocks locks_;
  lifecycle::QuotaPolicy quotas_;
  std::unique_ptr<lifecycle::Collector> collector_;
};

TEST_F(AdminTest, WithoutLifecycleBothAreUnsupported) {
  http::Response r = Send(Req("POST", "/v2/_berth/gc"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Code(r), "UNSUPPORTED");
  r = Send(Req("GET", "/v2/_berth/usage"));
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(Code(r), "UNSUPPORTED");
  // And the wrong methods.
  EXPECT_EQ(Send(Req("GET", "/v2/_berth/gc")).status, 405);
  EXPECT_EQ(Send(Req("POST", "/v2/_berth/usage")).status, 405);
}

TEST_F(AdminTest, UsagePerNamespace) {
  WithLifecycle();
  PushBlob("small/app", "12345");
  PushBlob("big/x", "abc");
  PushBlob("big/y", "defg");
  http::Response r = Send(Req("GET", "/v2/_berth/usage", {{"namespace", "small"}}));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Header(r, "Content-Type"), "application/json");
  EXPECT_EQ(
      r.body,
      R"({"namespaces":[{"namespace":"small","used_bytes":5,"quota_bytes":10,"repositories":1,"blobs":1}]})");
  r = Send(Req("GET", "/v2/_berth/usage"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(
      r.body,
      R"({"namespaces":[{"namespace":"big","used_bytes":7,"quota_bytes":0,"repositories":2,"blobs":2},)"
      R"({"namespace":"small","used_bytes":5,"quota_bytes":10,"repositories":1,"blobs":1}]})");
  r = Send(Req("GET", "/v2/_berth/usage", {{"namespace", "nobody"}}));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Code(r), "NAME_UNKNOWN");
}

TEST_F(AdminTest, QuotaRefusesAnUploadPastIt) {
  WithLifecycle();
  PushBlob("small/app", "12345");
  const std::string content = "678901";  // 5 + 6 > 10
  const std::string digest = crypto::HashBytes(DigestAlgorithm::kSha256, content).str();
  http::Response r =
      Send(WithBody(Req("POST", "/v2/small/app/blobs/uploads/", {{"digest", digest}}), content,
                    "application/octet-stream"),
           content);
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Code(r), "DENIED");
  EXPECT_EQ(Send(Req("HEAD", "/v2/small/app/blobs/" + digest)).status, 404);
  // Without a quota the same bytes go in.
  r = Send(WithBody(Req("POST", "/v2/big/app/blobs/uploads/", {{"digest", digest}}), content,
                    "application/octet-stream"),
           content);
  EXPECT_EQ(r.status, 201) << r.body;
}

TEST_F(AdminTest, GcRemovesWhatNothingReferences) {
  WithLifecycle();
  const std::string config = PushBlob("a", "{}");
  ASSERT_EQ(PutManifest("a", "v1", ImageManifest(config, 2)).status, 201);
  const std::string loose = PushBlob("a", "unreferenced");
  http::Response r = Send(Req("POST", "/v2/_berth/gc", {{"dry_run", "true"}}));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("dry_run":true)"), std::string::npos) << r.body;
  EXPECT_EQ(Send(Req("HEAD", "/v2/a/blobs/" + loose)).status, 200);  // a dry run removes nothing

  r = Send(Req("POST", "/v2/_berth/gc"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.body.find(R"("dry_run":false)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("links_deleted":1)"), std::string::npos) << r.body;
  EXPECT_EQ(Send(Req("HEAD", "/v2/a/blobs/" + loose)).status, 404);
  EXPECT_EQ(Send(Req("GET", "/v2/a/manifests/v1")).status, 200);
  EXPECT_EQ(Send(Req("HEAD", "/v2/a/blobs/" + config)).status, 200);
}

}  // namespace
}  // namespace berth::registry
