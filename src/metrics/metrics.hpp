// Prometheus metrics: counters, gauges and histograms kept in memory, and
// their text exposition (format 0.0.4) for a scrape. Recording is a relaxed
// atomic add, so a metric can sit on the request path; everything that costs
// more (a store query, reading /proc) is a Collector run at scrape time.
//
// Names and units follow Prometheus conventions: base units (seconds,
// bytes), counters end in _total, one family has one type and one help text.
//
// Thread-safety: recording and Render may run on many threads at once.
// Families and their children are created under a mutex and live as long as
// the Registry, so a pointer to a child may be kept and used without a lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/thread_annotations.hpp"

namespace berth::metrics {

// Label values of one series, in the order of the family's label names.
using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into fixed buckets (upper bounds, ascending; +Inf is
// implied) and keeps their sum.
class Histogram {
 public:
  explicit Histogram(std::span<const double> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (= count)
    double sum = 0;
  };
  Snapshot Take() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1
  std::atomic<double> sum_{0};
};

// Latency buckets for requests and calls, 0.5 ms to 60 s.
std::span<const double> LatencyBuckets();

// One metric name with its label names and a child per label value tuple.
template <typename M>
class Family {
 public:
  Family(std::vector<std::string> label_names, std::function<std::unique_ptr<M>()> make)
      : label_names_(std::move(label_names)), make_(std::move(make)) {}

  // The child for `values` (created on first use); values.size() must equal
  // the number of label names.
  M& With(const LabelValues& values) {
    MutexLock lock(mu_);
    auto& slot = children_[values];
    if (!slot) slot = make_();
    return *slot;
  }

  const std::vector<std::string>& label_names() const { return label_names_; }

  // Calls fn(values, child) for each child, in label order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    MutexLock lock(mu_);
    for (const auto& [values, child] : children_) fn(values, *child);
  }

 private:
  const std::vector<std::string> label_names_;
  const std::function<std::unique_ptr<M>()> make_;
  mutable Mutex mu_;
  std::map<LabelValues, std::unique_ptr<M>> children_ GUARDED_BY(mu_);
};

// Writes samples of families computed at scrape time (Registry::AddCollector).
// Each family is written whole: Begin, then its samples.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  // type: "counter" or "gauge".
  void Begin(std::string_view name, std::string_view help, std::string_view type);
  void Sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value);
  void Sample(std::string_view name, double value) { Sample(name, {}, value); }

 private:
  std::string& out_;
};

class Registry {
 public:
  // The families, by name; asking again for a name returns the same family
  // (help and labels of the first call win).
  Family<Counter>& Counters(const std::string& name, const std::string& help,
                            std::vector<std::string> labels);
  Family<Gauge>& Gauges(const std::string& name, const std::string& help,
                        std::vector<std::string> labels);
  Family<Histogram>& Histograms(const std::string& name, const std::string& help,
                                std::vector<std::string> labels, std::span<const double> bounds);

  // Unlabelled shorthands.
  Counter& GetCounter(const std::string& name, const std::string& help) {
    return Counters(name, help, {}).With({});
  }
  Gauge& GetGauge(const std::string& name, const std::string& help) {
    return Gauges(name, help, {}).With({});
  }

  // Adds families computed at scrape time. A collector must be cheap enough
  // to run on every scrape and safe to run from any thread; it must outlive
  // the Registry's last Render.
  void AddCollector(std::function<void(Writer&)> collect);

  // The text exposition of every family and collector.
  std::string Render() const;

 private:
  struct Entry {
    std::string help;
    std::string type;
    std::unique_ptr<Family<Counter>> counters;
    std::unique_ptr<Family<Gauge>> gauges;
    std::unique_ptr<Family<Histogram>> histograms;
  };
  Entry& EntryFor(const std::string& name, const std::string& help, const char* type) REQUIRES(mu_);

  mutable Mutex mu_;
  std::map<std::string, Entry> families_ GUARDED_BY(mu_);
  std::vector<std::function<void(Writer&)>> collectors_ GUARDED_BY(mu_);
};

// A value as the exposition format writes it: integers without a fraction,
// others in the shortest form that reads back exactly, +Inf/-Inf/NaN.
std::string FormatValue(double v);

// `v` escaped for a label value (backslash, double quote, newline).
std::string EscapeLabel(std::string_view v);

}  // namespace berth::metrics
