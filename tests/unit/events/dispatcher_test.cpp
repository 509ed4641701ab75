// Tests for events::Dispatcher: filters per endpoint, the queue bound (oldest
// dropped first, counted), in-order at-least-once delivery with retries, and
// a receiver that is down not holding up another. A real SqliteMetadataStore
// holds the queue; receivers are FakeHttpServers on 127.0.0.1.

#include "events/dispatcher.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <mutex>
#include <thread>

#include "../auth/fake_http_server.hpp"
#include "storage/db/sqlite_metadata_store.hpp"

namespace berth::events {
namespace {

namespace fs = std::filesystem;
using testutil::FakeHttpServer;
using testutil::FakeReply;
using testutil::FakeRequest;

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "berth-dispatch-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto s = storage::SqliteMetadataStore::Open(dir_ + "/metadata.db");
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static EndpointOptions Endpoint(const std::string& name, const std::string& url) {
    EndpointOptions ep;
    ep.name = name;
    ep.url = url;
    ep.timeout_ms = 1000;
    ep.backoff_ms = 20;
    ep.backoff_max_ms = 80;
    return ep;
  }
  static Event Push(const std::string& repo, const std::string& tag) {
    Event e;
    e.action = std::string(kPush);
    e.target.media_type = "application/vnd.oci.image.manifest.v1+json";
    e.target.repository = repo;
    e.target.tag = tag;
    e.target.url = "/v2/" + repo + "/manifests/" + tag;
    e.request.host = "reg:9001";
    e.request.method = "PUT";
    return e;
  }
  // Records `e` as a handler does: rows in a transaction, then Recorded().
  void Record(Dispatcher& d, Event e) {
    auto rows = d.Rows(std::move(e));
    ASSERT_TRUE(store_->Enqueue(rows).ok());
    d.Recorded();
  }
  // Waits up to 5 s for `pred`.
  template <typename Pred>
  static bool Eventually(Pred pred) {
    for (int i = 0; i < 1500; ++i) {
      if (pred()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
  }
  // The tags of the events in an envelope, in order.
  static std::vector<std::string> Tags(const std::string& envelope) {
    std::vector<std::string> out;
    const boost::json::value v = boost::json::parse(envelope);  // outlives the loop
    for (const auto& e : v.as_object().at("events").as_array()) {
      out.emplace_back(e.as_object().at("target").as_object().at("tag").as_string());
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<storage::SqliteMetadataStore> store_;
};

TEST_F(DispatcherTest, RowsFollowEachEndpointsFilter) {
  DispatcherOptions o;
  o.endpoints = {Endpoint("all", "http://127.0.0.1:1/"),
                 Endpoint("deletes", "http://127.0.0.1:1/")};
  o.endpoints[1].filter.actions = {"delete"};
  o.source_addr = "node:9001";
  o.instance_id = "inst";
  Dispatcher d(*store_, o);
  auto rows = d.Rows(Push("a/b", "v1"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].endpoint, "all");
  auto ev = boost::json::parse(rows[0].payload).as_object();
  EXPECT_EQ(ev.at("id").as_string(), rows[0].id);
  EXPECT_EQ(ev.at("source").as_object().at("instanceID").as_string(), "inst");
  EXPECT_EQ(ev.at("target").as_object().at("url").as_string(),
            "https://reg:9001/v2/a/b/manifests/v1");

  Event del;
  del.action = std::string(kDelete);
  del.target.repository = "a/b";
  rows = d.Rows(del);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].id, rows[1].id);  // one event, one id, whichever endpoint
  EXPECT_NE(rows[0].id, d.Rows(del)[0].id);
}

TEST_F(DispatcherTest, TheOldestAreDroppedPastQueueMax) {
  DispatcherOptions o;
  o.endpoints = {Endpoint("down", "http://127.0.0.1:1/")};
  o.queue_max = 3;
  Dispatcher d(*store_, o);  // not started: nothing is delivered
  for (int i = 1; i <= 5; ++i) Record(d, Push("a/b", "t" + std::to_string(i)));
  for (int i = 6; i <= 7; ++i) d.Post(Push("a/b", "t" + std::to_string(i)));
  d.Housekeep();
  auto p = store_->Pending("down", 10);
  ASSERT_TRUE(p.ok());
  std::vector<std::string> tags;
  for (const auto& e : *p) tags.push_back(Tags(R"({"events":[)" + e.payload + "]}")[0]);
  EXPECT_EQ(tags, (std::vector<std::string>{"t5", "t6", "t7"}));
  EXPECT_EQ(d.Stats().dropped, 4u);
  EXPECT_EQ(d.Stats().pending, 3u);
}

TEST_F(DispatcherTest, DeliversInOrderRetryingUntilA2xx) {
  std::mutex mu;
  std::vector<FakeRequest> seen;
  FakeHttpServer server([&](const FakeRequest& r) {
    std::lock_guard lock(mu);
    seen.push_back(r);
    return FakeReply{seen.size() <= 2 ? 503 : 200, "", 0, ""};
  });
  DispatcherOptions o;
  o.endpoints = {Endpoint("hook", server.url() + "/events")};
  o.endpoints[0].headers = {{"Authorization", "Bearer t"}};
  Dispatcher d(*store_, o);
  for (const char* t : {"a", "b", "c"}) Record(d, Push("x/y", t));
  d.Start();
  ASSERT_TRUE(Eventually([&] { return *store_->Count("hook") == 0; }));
  d.Stop();
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  for (const auto& r : seen) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/events");
    EXPECT_NE(r.head.find("Content-Type: application/vnd.docker.distribution.events.v1+json"),
              std::string::npos)
        << r.head;
    EXPECT_NE(r.head.find("Authorization: Bearer t"), std::string::npos);
    EXPECT_EQ(Tags(r.body), (std::vector<std::string>{"a", "b", "c"}));
  }
  EXPECT_EQ(seen[0].body, seen[2].body);  // retries resend the same events, same ids
  EXPECT_EQ(d.Stats().delivered, 3u);
  EXPECT_EQ(d.Stats().failed, 2u);
}

TEST_F(DispatcherTest, ADownReceiverDoesNotHoldUpAnother) {
  std::atomic<int> got{0};
  FakeHttpServer up([&](const FakeRequest& r) {
    got += static_cast<int>(Tags(r.body).size());
    return FakeReply{};
  });
  DispatcherOptions o;
  o.endpoints = {
      Endpoint("down", "http://127.0.0.1:" + std::to_string(FakeHttpServer::ClosedPort()) + "/"),
      Endpoint("up", up.url() + "/")};
  Dispatcher d(*store_, o);
  d.Start();
  for (int i = 0; i < 20; ++i) Record(d, Push("x/y", "t" + std::to_string(i)));
  EXPECT_TRUE(Eventually([&] { return got == 20; }));
  EXPECT_EQ(*store_->Count("down"), 20u);  // kept until that receiver answers
  EXPECT_GT(d.Stats().failed, 0u);
  d.Stop();
}

TEST_F(DispatcherTest, PostedEventsAreWrittenAndDelivered) {
  std::atomic<int> got{0};
  FakeHttpServer up([&](const FakeRequest& r) {
    got += static_cast<int>(Tags(r.body).size());
    return FakeReply{};
  });
  DispatcherOptions o;
  o.endpoints = {Endpoint("up", up.url() + "/")};
  Dispatcher d(*store_, o);
  d.Start();
  d.Post(Push("x/y", "pulled"));
  EXPECT_TRUE(Eventually([&] { return got == 1; }));
  d.Stop();
  // Posted after the threads stopped: Stop() still writes it to the queue.
  d.Post(Push("x/y", "late"));
  d.Stop();
  EXPECT_EQ(*store_->Count("up"), 1u);
}

}  // namespace
}  // namespace berth::events
