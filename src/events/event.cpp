#include "events/event.hpp"

#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "crypto/random.hpp"

namespace berth::events {
namespace {

void PutIf(boost::json::object& o, std::string_view key, const std::string& v) {
  if (!v.empty()) o[key] = v;
}

}  // namespace

std::string ToJson(const Event& e) {
  boost::json::object target;
  PutIf(target, "mediaType", e.target.media_type);
  if (e.target.size > 0) {
    target["size"] = e.target.size;
    target["length"] = e.target.size;
  }
  PutIf(target, "digest", e.target.digest);
  PutIf(target, "repository", e.target.repository);
  PutIf(target, "fromRepository", e.target.from_repository);
  PutIf(target, "url", e.target.url);
  PutIf(target, "tag", e.target.tag);

  boost::json::object request{{"id", e.request.id}};
  PutIf(request, "addr", e.request.addr);
  PutIf(request, "host", e.request.host);
  request["method"] = e.request.method;
  request["useragent"] = e.request.useragent;

  boost::json::object actor;
  PutIf(actor, "name", e.actor);
  boost::json::object source;
  PutIf(source, "addr", e.source_addr);
  PutIf(source, "instanceID", e.instance_id);

  boost::json::object o;
  o["id"] = e.id;
  o["timestamp"] = e.timestamp;
  o["action"] = e.action;
  o["target"] = std::move(target);
  o["request"] = std::move(request);
  o["actor"] = std::move(actor);
  o["source"] = std::move(source);
  return boost::json::serialize(o);
}

std::string Envelope(const std::vector<std::string>& events) {
  std::string out = "{\"events\":[";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    out += events[i];
  }
  return out + "]}";
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ns = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::string NewUuid() {
  auto hex = crypto::RandomHex(16);
  if (!hex) return "";
  std::string h = std::move(hex).value();
  h[12] = '4';                                                  // version 4
  h[16] = "89ab"[std::stoi(h.substr(16, 1), nullptr, 16) & 3];  // RFC 4122 variant
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace berth::events
