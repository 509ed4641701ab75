#include "ops/http_metrics.hpp"

#include <gtest/gtest.h>

namespace berth::ops {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST(HttpMetricsTest, CountsByEndpointMethodAndStatusClass) {
  metrics::Registry r;
  HttpMetrics m(r, "registry", {"manifest", "blob"});
  m.Observe({"manifest", "GET", 200, 0, 512, 0.002});
  m.Observe({"manifest", "GET", 404, 0, 90, 0.0001});
  m.Observe({"blob", "PUT", 201, 1000, 0, 0.3});
  m.Observe({"", "BREW", 400, 0, 10, 0.0001});          // never reached a handler
  m.Observe({"not-listed", "GET", 200, 0, 0, 0.0001});  // unknown name: other
  const std::string t = r.Render();
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_requests_total{listener="registry",endpoint="manifest",method="GET",status_class="2xx"} 1)"))
      << t;
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_requests_total{listener="registry",endpoint="manifest",method="GET",status_class="4xx"} 1)"));
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_requests_total{listener="registry",endpoint="blob",method="PUT",status_class="2xx"} 1)"));
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_requests_total{listener="registry",endpoint="other",method="other",status_class="4xx"} 1)"));
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_requests_total{listener="registry",endpoint="other",method="GET",status_class="2xx"} 1)"));
  EXPECT_TRUE(
      Has(t, R"(berth_http_request_body_bytes_total{listener="registry",endpoint="blob"} 1000)"));
  EXPECT_TRUE(Has(
      t, R"(berth_http_response_body_bytes_total{listener="registry",endpoint="manifest"} 602)"));
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_request_duration_seconds_count{listener="registry",endpoint="manifest"} 2)"));
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_request_duration_seconds_bucket{listener="registry",endpoint="blob",le="0.25"} 0)"));
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_request_duration_seconds_bucket{listener="registry",endpoint="blob",le="0.5"} 1)"));
}

TEST(HttpMetricsTest, TwoListenersShareFamiliesWithTheirOwnSeries) {
  metrics::Registry r;
  HttpMetrics a(r, "registry", {"base"});
  HttpMetrics b(r, "token", {"token"});
  a.Observe({"base", "GET", 401, 0, 0, 0.001});
  b.Observe({"token", "GET", 200, 0, 0, 0.001});
  const std::string t = r.Render();
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_requests_total{listener="registry",endpoint="base",method="GET",status_class="4xx"} 1)"));
  EXPECT_TRUE(Has(
      t,
      R"(berth_http_requests_total{listener="token",endpoint="token",method="GET",status_class="2xx"} 1)"));
}

}  // namespace
}  // namespace berth::ops
