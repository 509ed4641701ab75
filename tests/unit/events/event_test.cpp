// Tests for events/event.hpp and events/filter.hpp: the envelope's JSON
// shape (the reference registry's field names), times, ids and filters.

#include "events/event.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>

#include "events/filter.hpp"

namespace berth::events {
namespace {

namespace json = boost::json;

Event PushEvent() {
  Event e;
  e.id = "7c8e5d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e";
  e.timestamp = "2026-12-03T14:06:41.000000001Z";
  e.action = std::string(kPush);
  e.target.media_type = "application/vnd.oci.image.manifest.v1+json";
  e.target.size = 1234;
  e.target.digest = "sha256:abc";
  e.target.repository = "alice/app";
  e.target.url = "https://reg:9001/v2/alice/app/manifests/sha256:abc";
  e.target.tag = "v1";
  e.request = {"req-1", "127.0.0.1:5555", "reg:9001", "PUT", "skopeo/1.9"};
  e.actor = "alice";
  e.source_addr = "node1:9001";
  e.instance_id = "inst";
  return e;
}

TEST(EventTest, JsonHasTheReferenceFields) {
  json::object o = json::parse(ToJson(PushEvent())).as_object();
  EXPECT_EQ(o.at("id").as_string(), "7c8e5d0e-1f2a-4b3c-8d4e-5f6a7b8c9d0e");
  EXPECT_EQ(o.at("timestamp").as_string(), "2026-12-03T14:06:41.000000001Z");
  EXPECT_EQ(o.at("action").as_string(), "push");
  const json::object& t = o.at("target").as_object();
  EXPECT_EQ(t.at("mediaType").as_string(), "application/vnd.oci.image.manifest.v1+json");
  EXPECT_EQ(t.at("size").to_number<int64_t>(), 1234);
  EXPECT_EQ(t.at("length").to_number<int64_t>(), 1234);
  EXPECT_EQ(t.at("digest").as_string(), "sha256:abc");
  EXPECT_EQ(t.at("repository").as_string(), "alice/app");
  EXPECT_EQ(t.at("url").as_string(), "https://reg:9001/v2/alice/app/manifests/sha256:abc");
  EXPECT_EQ(t.at("tag").as_string(), "v1");
  EXPECT_FALSE(t.contains("fromRepository"));
  const json::object& r = o.at("request").as_object();
  EXPECT_EQ(r.at("id").as_string(), "req-1");
  EXPECT_EQ(r.at("addr").as_string(), "127.0.0.1:5555");
  EXPECT_EQ(r.at("host").as_string(), "reg:9001");
  EXPECT_EQ(r.at("method").as_string(), "PUT");
  EXPECT_EQ(r.at("useragent").as_string(), "skopeo/1.9");
  EXPECT_EQ(o.at("actor").as_object().at("name").as_string(), "alice");
  EXPECT_EQ(o.at("source").as_object().at("addr").as_string(), "node1:9001");
  EXPECT_EQ(o.at("source").as_object().at("instanceID").as_string(), "inst");
}

TEST(EventTest, EmptyFieldsAreLeftOutButRequestKeepsItsRequiredOnes) {
  Event e;
  e.id = "x";
  e.action = std::string(kDelete);
  e.target.repository = "a/b";
  e.target.tag = "old";
  json::object o = json::parse(ToJson(e)).as_object();
  const json::object& t = o.at("target").as_object();
  EXPECT_FALSE(t.contains("size"));
  EXPECT_FALSE(t.contains("length"));
  EXPECT_FALSE(t.contains("mediaType"));
  EXPECT_FALSE(t.contains("digest"));
  EXPECT_EQ(t.at("tag").as_string(), "old");
  const json::object& r = o.at("request").as_object();
  EXPECT_TRUE(r.contains("id"));
  EXPECT_TRUE(r.contains("method"));
  EXPECT_TRUE(r.contains("useragent"));
  EXPECT_FALSE(r.contains("addr"));
  EXPECT_TRUE(o.at("actor").as_object().empty());  // anonymous
}

TEST(EventTest, EnvelopeHoldsEventsInOrder) {
  Event a = PushEvent(), b = PushEvent();
  b.id = "second";
  json::value v = json::parse(Envelope({ToJson(a), ToJson(b)}));
  const json::array& events = v.as_object().at("events").as_array();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].as_object().at("id").as_string(), a.id);
  EXPECT_EQ(events[1].as_object().at("id").as_string(), "second");
  EXPECT_EQ(Envelope({}), R"({"events":[]})");
  EXPECT_EQ(kEnvelopeMediaType, "application/vnd.docker.distribution.events.v1+json");
}

TEST(EventTest, Rfc3339HasNanosecondsInUtc) {
  using namespace std::chrono;
  system_clock::time_point t{seconds(1700000000) + nanoseconds(5)};
  EXPECT_EQ(Rfc3339(t), "2023-11-14T22:13:20.000000005Z");
  EXPECT_EQ(Rfc3339(system_clock::time_point{}), "1970-01-01T00:00:00.000000000Z");
}

TEST(EventTest, UuidsAreVersion4AndDistinct) {
  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::string a = NewUuid(), b = NewUuid();
  EXPECT_TRUE(std::regex_match(a, uuid)) << a;
  EXPECT_TRUE(std::regex_match(b, uuid)) << b;
  EXPECT_NE(a, b);
}

TEST(FilterTest, Table) {
  const std::string manifest = "application/vnd.oci.image.manifest.v1+json";
  const std::string index = "application/vnd.oci.image.index.v1+json";
  struct Case {
    Filter filter;
    std::string action, media_type, repository;
    bool accepted;
  };
  const Case cases[] = {
      {{}, "push", manifest, "a/b", true},
      {{{"push"}, {}, {}}, "push", manifest, "a/b", true},
      {{{"push"}, {}, {}}, "delete", "", "a/b", false},
      {{{"delete", "push"}, {}, {}}, "delete", "", "a/b", true},
      {{{}, {manifest}, {}}, "push", manifest, "a/b", true},
      {{{}, {manifest}, {}}, "push", index, "a/b", false},
      {{{}, {manifest}, {}}, "delete", "", "a/b", true},  // deletes carry no media type
      {{{}, {}, {"team/*"}}, "push", manifest, "team/app", true},
      {{{}, {}, {"team/*"}}, "push", manifest, "team/x/app", false},
      {{{}, {}, {"team/**"}}, "push", manifest, "team/x/app", true},
      {{{}, {}, {"team/*"}}, "push", manifest, "teamx/app", false},
      {{{}, {}, {"other/*", "team/*"}}, "push", manifest, "team/app", true},
      {{{"push"}, {manifest}, {"team/*"}}, "push", manifest, "team/app", true},
      {{{"push"}, {manifest}, {"team/*"}}, "pull", manifest, "team/app", false},
  };
  for (const auto& c : cases) {
    Event e;
    e.action = c.action;
    e.target.media_type = c.media_type;
    e.target.repository = c.repository;
    EXPECT_EQ(Accepts(c.filter, e), c.accepted)
        << c.action << " " << c.media_type << " " << c.repository;
  }
}

}  // namespace
}  // namespace berth::events
