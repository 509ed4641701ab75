// Tests for the events the registry's handlers record (registry/notify.cpp,
// manifests.cpp, uploads.cpp, blobs.cpp): which requests make which events,
// with what target, and that a failed change records none. A Dispatcher that
// is never started writes to the real metadata store; the test reads its queue.

#include <boost/json.hpp>

#include "events/dispatcher.hpp"
#include "open_registry.hpp"

namespace berth::registry {
namespace {

namespace json = boost::json;

class NotifyTest : public OpenRegistryTest {
 protected:
  void UseEvents(bool blobs, bool pulls) {
    events::DispatcherOptions o;
    events::EndpointOptions ep;
    ep.name = "hook";
    ep.url = "http://127.0.0.1:1/";
    o.endpoints = {ep};
    o.blobs = blobs;
    o.pulls = pulls;
    registry_.reset();
    dispatcher_ = std::make_unique<events::Dispatcher>(*meta_, o);
    registry_ = std::make_unique<Registry>(*blobs_, *uploads_, *meta_, Options{}, nullptr, nullptr,
                                           LifecycleParts{}, dispatcher_.get());
  }
  void TearDown() override {
    registry_.reset();
    dispatcher_.reset();
    OpenRegistryTest::TearDown();
  }
  static http::Request Named(http::Request r) {
    r.headers.emplace_back("Host", "reg.example:9001");
    r.headers.emplace_back("User-Agent", "test-client/1");
    r.request_id = "rid-1";
    return r;
  }
  // The queued events (posted ones written first), oldest first.
  std::vector<json::object> Queued() {
    dispatcher_->Housekeep();
    auto p = meta_->Pending("hook", 100);
    EXPECT_TRUE(p.ok());
    std::vector<json::object> out;
    for (const auto& e : *p) out.push_back(json::parse(e.payload).as_object());
    return out;
  }
  static std::string Str(const json::object& o, std::string_view a, std::string_view b) {
    const json::value* v = o.at(a).as_object().if_contains(b);
    return v ? std::string(v->as_string()) : "<none>";
  }

  std::unique_ptr<events::Dispatcher> dispatcher_;
};

TEST_F(NotifyTest, ManifestPushAndDeletesAreRecorded) {
  UseEvents(false, false);
  std::string config = PushBlob("a/b", "cfg");
  std::string manifest = ImageManifest(config, 3);
  std::string digest = crypto::HashBytes(DigestAlgorithm::kSha256, manifest).str();
  http::Response r = Send(Named(WithBody(Req("PUT", "/v2/a/b/manifests/v1"), manifest,
                                         "application/vnd.oci.image.manifest.v1+json")),
                          manifest);
  ASSERT_EQ(r.status, 201) << r.body;
  auto q = Queued();
  ASSERT_EQ(q.size(), 1u);  // blobs are off: no event for the config blob
  EXPECT_EQ(q[0].at("action").as_string(), "push");
  EXPECT_EQ(Str(q[0], "target", "repository"), "a/b");
  EXPECT_EQ(Str(q[0], "target", "tag"), "v1");
  EXPECT_EQ(Str(q[0], "target", "digest"), digest);
  EXPECT_EQ(Str(q[0], "target", "mediaType"), "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(q[0].at("target").as_object().at("size").to_number<uint64_t>(), manifest.size());
  EXPECT_EQ(Str(q[0], "target", "url"), "https://reg.example:9001/v2/a/b/manifests/" + digest);
  EXPECT_EQ(Str(q[0], "request", "id"), "rid-1");
  EXPECT_EQ(Str(q[0], "request", "addr"), "10.0.0.1:1234");
  EXPECT_EQ(Str(q[0], "request", "useragent"), "test-client/1");

  ASSERT_EQ(Send(Named(Req("DELETE", "/v2/a/b/manifests/v1"))).status, 202);
  ASSERT_EQ(Send(Named(Req("DELETE", "/v2/a/b/manifests/" + digest))).status, 202);
  q = Queued();
  ASSERT_EQ(q.size(), 3u);
  EXPECT_EQ(q[1].at("action").as_string(), "delete");
  EXPECT_EQ(Str(q[1], "target", "tag"), "v1");
  EXPECT_EQ(Str(q[1], "target", "digest"), "<none>");
  EXPECT_EQ(q[2].at("action").as_string(), "delete");
  EXPECT_EQ(Str(q[2], "target", "digest"), digest);
  EXPECT_EQ(Str(q[2], "target", "tag"), "<none>");
}

TEST_F(NotifyTest, FailedChangesRecordNothing) {
  UseEvents(false, false);
  std::string manifest =
      ImageManifest(crypto::HashBytes(DigestAlgorithm::kSha256, "absent").str(), 6);
  EXPECT_EQ(PutManifest("a/b", "v1", manifest).status, 400);
  EXPECT_EQ(Send(Req("DELETE", "/v2/a/b/manifests/nosuch")).status, 404);
  EXPECT_TRUE(Queued().empty());
}

TEST_F(NotifyTest, BlobAndPullEventsOnlyWhenAskedFor) {
  UseEvents(false, true);
  std::string config = PushBlob("a/b", "cfg");
  ASSERT_EQ(PutManifest("a/b", "v1", ImageManifest(config, 3)).status, 201);
  ASSERT_EQ(Send(Req("HEAD", "/v2/a/b/manifests/v1")).status, 200);
  ASSERT_EQ(Send(Req("GET", "/v2/a/b/blobs/" + config)).status, 200);
  auto q = Queued();
  ASSERT_EQ(q.size(), 1u);  // the manifest push; HEAD and blob pulls (blobs off) make none
  ASSERT_EQ(Send(Req("GET", "/v2/a/b/manifests/v1")).status, 200);
  q = Queued();
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[1].at("action").as_string(), "pull");
  EXPECT_EQ(Str(q[1], "target", "tag"), "v1");

  UseEvents(true, true);
  std::string layer = PushBlob("a/b", "layer");
  ASSERT_EQ(Send(Req("GET", "/v2/a/b/blobs/" + layer)).status, 200);
  ASSERT_EQ(Send(Req("POST", "/v2/c/d/blobs/uploads/", {{"mount", layer}, {"from", "a/b"}})).status,
            201);
  q = Queued();
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[2].at("action").as_string(), "push");
  EXPECT_EQ(Str(q[2], "target", "digest"), layer);
  EXPECT_EQ(Str(q[2], "target", "mediaType"), "application/octet-stream");
  EXPECT_EQ(q[3].at("action").as_string(), "pull");
  EXPECT_EQ(q[4].at("action").as_string(), "mount");
  EXPECT_EQ(Str(q[4], "target", "fromRepository"), "a/b");
  EXPECT_EQ(Str(q[4], "target", "repository"), "c/d");
}

}  // namespace
}  // namespace berth::registry
