#include "metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace berth::metrics {
namespace {

TEST(MetricsTest, CounterFamilyRendersHelpTypeAndSortedSeries) {
  Registry r;
  auto& f = r.Counters("berth_things_total", "Things.", {"kind"});
  f.With({"b"}).Inc(2);
  f.With({"a"}).Inc();
  EXPECT_EQ(r.Render(),
            "# HELP berth_things_total Things.\n"
            "# TYPE berth_things_total counter\n"
            "berth_things_total{kind=\"a\"} 1\n"
            "berth_things_total{kind=\"b\"} 2\n");
}

TEST(MetricsTest, SameNameGivesTheSameFamilyAndChild) {
  Registry r;
  r.GetCounter("x_total", "X.").Inc();
  r.GetCounter("x_total", "other help").Inc();
  EXPECT_EQ(r.GetCounter("x_total", "X.").Value(), 2u);
  EXPECT_THROW(r.GetGauge("x_total", "X."), std::logic_error);
}

TEST(MetricsTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Registry r;
  const double bounds[] = {0.25, 1};
  auto& h = r.Histograms("d_seconds", "D.", {}, bounds).With({});
  h.Observe(0.125);
  h.Observe(0.25);  // le is inclusive
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(r.Render(),
            "# HELP d_seconds D.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.25\"} 2\n"
            "d_seconds_bucket{le=\"1\"} 3\n"
            "d_seconds_bucket{le=\"+Inf\"} 4\n"
            "d_seconds_sum 7.875\n"
            "d_seconds_count 4\n");
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry r;
  r.Gauges("g", "G.", {"v"}).With({"a\"b\\c\nd"}).Set(1.5);
  EXPECT_NE(r.Render().find("g{v=\"a\\\"b\\\\c\\nd\"} 1.5\n"), std::string::npos);
}

TEST(MetricsTest, FormatValue) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(1e300), "1e+300");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
}

TEST(MetricsTest, CollectorsWriteAfterTheFamilies) {
  Registry r;
  r.GetCounter("a_total", "A.").Inc();
  r.AddCollector([](Writer& w) {
    w.Begin("z_bytes", "Z.", "gauge");
    w.Sample("z_bytes", {{"k", "v"}}, 3);
  });
  EXPECT_EQ(r.Render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
            "# HELP z_bytes Z.\n# TYPE z_bytes gauge\nz_bytes{k=\"v\"} 3\n");
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  Registry r;
  auto& c = r.GetCounter("c_total", "C.");
  auto& h = r.Histograms("h_seconds", "H.", {}, LatencyBuckets()).With({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        h.Observe(0.001);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 40000u);
  EXPECT_EQ(h.Take().cumulative.back(), 40000u);
  EXPECT_NEAR(h.Take().sum, 40.0, 1e-6);
}

}  // namespace
}  // namespace berth::metrics
