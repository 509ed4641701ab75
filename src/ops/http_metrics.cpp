#include "ops/http_metrics.hpp"

namespace berth::ops {
namespace {

constexpr std::array<std::string_view, 8> kMethodNames{"GET",   "HEAD",   "POST",    "PUT",
                                                       "PATCH", "DELETE", "OPTIONS", "other"};
constexpr std::array<std::string_view, 5> kClassNames{"1xx", "2xx", "3xx", "4xx", "5xx"};

size_t MethodIndex(std::string_view m) {
  for (size_t i = 0; i + 1 < kMethodNames.size(); ++i) {
    if (m == kMethodNames[i]) return i;
  }
  return kMethodNames.size() - 1;
}

size_t ClassIndex(int status) {
  if (status < 100 || status > 599) return 4;  // never sent; count it as a server fault
  return static_cast<size_t>(status / 100 - 1);
}

}  // namespace

HttpMetrics::HttpMetrics(metrics::Registry& registry, std::string listener,
                         std::vector<std::string_view> endpoints)
    : listener_(std::move(listener)),
      requests_(registry.Counters("berth_http_requests_total",
                                  "HTTP requests answered, by endpoint, method and status class.",
                                  {"listener", "endpoint", "method", "status_class"})) {
  auto& latency = registry.Histograms("berth_http_request_duration_seconds",
                                      "Time from a request's head to the last byte of its answer.",
                                      {"listener", "endpoint"}, metrics::LatencyBuckets());
  auto& in = registry.Counters("berth_http_request_body_bytes_total",
                               "Request body bytes received.", {"listener", "endpoint"});
  auto& out = registry.Counters("berth_http_response_body_bytes_total", "Response body bytes sent.",
                                {"listener", "endpoint"});
  endpoints.emplace_back("other");
  for (auto name : endpoints) {
    auto e = std::make_unique<Endpoint>();
    e->name = std::string(name);
    e->latency = &latency.With({listener_, e->name});
    e->bytes_in = &in.With({listener_, e->name});
    e->bytes_out = &out.With({listener_, e->name});
    endpoints_.push_back(std::move(e));
  }
}

HttpMetrics::Endpoint& HttpMetrics::Find(std::string_view name) {
  for (size_t i = 0; i + 1 < endpoints_.size(); ++i) {
    if (endpoints_[i]->name == name) return *endpoints_[i];
  }
  return *endpoints_.back();
}

metrics::Counter& HttpMetrics::RequestsOf(Endpoint& e, size_t method, size_t status_class) {
  auto& slot = e.requests[method * kClasses + status_class];
  metrics::Counter* c = slot.load(std::memory_order_acquire);
  if (!c) {
    // With() returns the same child to every thread, so a race stores the same pointer.
    c = &requests_.With({listener_, e.name, std::string(kMethodNames[method]),
                         std::string(kClassNames[status_class])});
    slot.store(c, std::memory_order_release);
  }
  return *c;
}

void HttpMetrics::Observe(const http::RequestRecord& r) {
  Endpoint& e = Find(r.endpoint);
  RequestsOf(e, MethodIndex(r.method), ClassIndex(r.status)).Inc();
  e.latency->Observe(r.seconds);
  if (r.bytes_in > 0) e.bytes_in->Inc(r.bytes_in);
  if (r.bytes_out > 0) e.bytes_out->Inc(r.bytes_out);
}

}  // namespace berth::ops
