#include "ops/metrics_handler.hpp"

namespace berth::ops {
namespace {

http::Response Text(int status, std::string body, std::string type = "text/plain; charset=utf-8") {
  http::Response r;
  r.status = status;
  r.Set("Content-Type", std::move(type));
  r.Set("Cache-Control", "no-store");
  r.body = std::move(body);
  return r;
}

}  // namespace

http::Outcome MetricsHandler::Handle(const http::Request& request) {
  if (request.path == "/healthz") return http::Outcome::Reply(Text(200, "ok\n"));
  if (request.path != "/metrics")
    return http::Outcome::Reply(Text(404, "not found; try /metrics\n"));
  if (request.method != "GET" && request.method != "HEAD") {
    http::Response r = Text(405, "use GET\n");
    r.Set("Allow", "GET, HEAD");
    return http::Outcome::Reply(std::move(r));
  }
  http::Outcome out = http::Outcome::Reply(
      Text(200, registry_.Render(), "text/plain; version=0.0.4; charset=utf-8"));
  out.endpoint = "metrics";
  return out;
}

http::Response MetricsHandler::Reject(int status, std::string_view reason) {
  return Text(status, std::string(reason) + "\n");
}

}  // namespace berth::ops
