// MetricsHandler: the metrics listener's application. GET /metrics answers
// the registry's text exposition (Prometheus format 0.0.4); /healthz
// answers 200; everything else 404. The listener is separate from the
// registry's and the token server's (metrics.addr, metrics.port), plain
// HTTP and unauthenticated, so it belongs on loopback or a management
// network.
//
// Thread-safety: Handle may run on many threads at once.
#pragma once

#include "http/message.hpp"
#include "metrics/metrics.hpp"

namespace berth::ops {

class MetricsHandler final : public http::Handler {
 public:
  // `registry` must outlive the handler.
  explicit MetricsHandler(const metrics::Registry& registry) : registry_(registry) {}

  http::Outcome Handle(const http::Request& request) override;
  http::Response Reject(int status, std::string_view reason) override;

 private:
  const metrics::Registry& registry_;
};

}  // namespace berth::ops
