// HttpMetrics: the request metrics of one listener, recorded as each
// request is answered (an http::RequestObserver):
//   berth_http_requests_total{listener,endpoint,method,status_class}
//   berth_http_request_duration_seconds{listener,endpoint}   (histogram)
//   berth_http_request_body_bytes_total{listener,endpoint}   (bytes in)
//   berth_http_response_body_bytes_total{listener,endpoint}  (bytes out)
// Endpoints are the handler's names (Outcome::endpoint), known up front so
// that the request path finds its series without a lock or an allocation;
// any other name is counted as "other".
//
// Thread-safety: Observe may run on many threads at once.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"
#include "metrics/metrics.hpp"

namespace berth::ops {

class HttpMetrics final : public http::RequestObserver {
 public:
  // `registry` must outlive this object.
  HttpMetrics(metrics::Registry& registry, std::string listener,
              std::vector<std::string_view> endpoints);

  void Observe(const http::RequestRecord& record) override;

 private:
  static constexpr size_t kMethods = 8;  // GET HEAD POST PUT PATCH DELETE OPTIONS other
  static constexpr size_t kClasses = 5;  // 1xx … 5xx
  struct Endpoint {
    std::string name;
    metrics::Histogram* latency = nullptr;
    metrics::Counter* bytes_in = nullptr;
    metrics::Counter* bytes_out = nullptr;
    // Created on first use (most combinations never happen).
    std::array<std::atomic<metrics::Counter*>, kMethods * kClasses> requests{};
  };

  Endpoint& Find(std::string_view name);
  metrics::Counter& RequestsOf(Endpoint& e, size_t method, size_t status_class);

  const std::string listener_;
  metrics::Family<metrics::Counter>& requests_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;  // the last is "other"
};

}  // namespace berth::ops
