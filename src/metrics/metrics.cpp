#include "metrics/metrics.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace berth::metrics {

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.end()), counts_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Take() const {
  Snapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::span<const double> LatencyBuckets() {
  static constexpr std::array<double, 16> kBounds{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBounds;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::abs(v) < 9.007199254740992e15 && v == std::floor(v)
                       ? std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v))
                       : std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  std::string_view type) {
  out.append("# HELP ").append(name).append(" ");
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

// name{a="x",b="y"[,extra="z"]} value
void AppendSample(std::string& out, std::string_view name, const std::vector<std::string>& names,
                  const LabelValues& values, std::string_view extra_name,
                  std::string_view extra_value, double value) {
  out.append(name);
  if (!names.empty() || !extra_name.empty()) {
    out += '{';
    bool first = true;
    for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
      if (!first) out += ',';
      first = false;
      out.append(names[i]).append("=\"").append(EscapeLabel(values[i])).append("\"");
    }
    if (!extra_name.empty()) {
      if (!first) out += ',';
      out.append(extra_name).append("=\"").append(extra_value).append("\"");
    }
    out += '}';
  }
  out.append(" ").append(FormatValue(value)).append("\n");
}

}  // namespace

void Writer::Begin(std::string_view name, std::string_view help, std::string_view type) {
  AppendHeader(out_, name, help, type);
}

void Writer::Sample(std::string_view name,
                    const std::vector<std::pair<std::string, std::string>>& labels, double value) {
  std::vector<std::string> names;
  LabelValues values;
  for (const auto& [k, v] : labels) {
    names.push_back(k);
    values.push_back(v);
  }
  AppendSample(out_, name, names, values, {}, {}, value);
}

Registry::Entry& Registry::EntryFor(const std::string& name, const std::string& help,
                                    const char* type) {
  auto [it, fresh] = families_.try_emplace(name);
  if (fresh) {
    it->second.help = help;
    it->second.type = type;
  } else if (it->second.type != type) {
    throw std::logic_error("metric " + name + " registered as " + it->second.type + " and " + type);
  }
  return it->second;
}

Family<Counter>& Registry::Counters(const std::string& name, const std::string& help,
                                    std::vector<std::string> labels) {
  MutexLock lock(mu_);
  auto& e = EntryFor(name, help, "counter");
  if (!e.counters) {
    e.counters = std::make_unique<Family<Counter>>(std::move(labels),
                                                   [] { return std::make_unique<Counter>(); });
  }
  return *e.counters;
}

Family<Gauge>& Registry::Gauges(const std::string& name, const std::string& help,
                                std::vector<std::string> labels) {
  MutexLock lock(mu_);
  auto& e = EntryFor(name, help, "gauge");
  if (!e.gauges) {
    e.gauges = std::make_unique<Family<Gauge>>(std::move(labels),
                                               [] { return std::make_unique<Gauge>(); });
  }
  return *e.gauges;
}

Family<Histogram>& Registry::Histograms(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels,
                                        std::span<const double> bounds) {
  MutexLock lock(mu_);
  auto& e = EntryFor(name, help, "histogram");
  if (!e.histograms) {
    std::vector<double> b(bounds.begin(), bounds.end());
    e.histograms = std::make_unique<Family<Histogram>>(
        std::move(labels), [b] { return std::make_unique<Histogram>(b); });
  }
  return *e.histograms;
}

void Registry::AddCollector(std::function<void(Writer&)> collect) {
  MutexLock lock(mu_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::Render() const {
  std::string out;
  std::vector<std::function<void(Writer&)>> collectors;
  {
    MutexLock lock(mu_);
    // Not a structured binding: clang 14 cannot capture one in the lambdas below.
    for (const auto& family : families_) {
      const std::string& name = family.first;
      const Entry& e = family.second;
      AppendHeader(out, name, e.help, e.type);
      if (e.counters) {
        e.counters->ForEach([&](const LabelValues& v, const Counter& c) {
          AppendSample(out, name, e.counters->label_names(), v, {}, {},
                       static_cast<double>(c.Value()));
        });
      } else if (e.gauges) {
        e.gauges->ForEach([&](const LabelValues& v, const Gauge& g) {
          AppendSample(out, name, e.gauges->label_names(), v, {}, {}, g.Value());
        });
      } else if (e.histograms) {
        const auto& names = e.histograms->label_names();
        e.histograms->ForEach([&](const LabelValues& v, const Histogram& h) {
          auto snap = h.Take();
          const std::string bucket = name + "_bucket";
          for (size_t i = 0; i < h.bounds().size(); ++i) {
            AppendSample(out, bucket, names, v, "le", FormatValue(h.bounds()[i]),
                         static_cast<double>(snap.cumulative[i]));
          }
          AppendSample(out, bucket, names, v, "le", "+Inf",
                       static_cast<double>(snap.cumulative.back()));
          AppendSample(out, name + "_sum", names, v, {}, {}, snap.sum);
          AppendSample(out, name + "_count", names, v, {}, {},
                       static_cast<double>(snap.cumulative.back()));
        });
      }
    }
    collectors = collectors_;
  }
  Writer w(out);
  for (const auto& c : collectors) c(w);
  return out;
}

}  // namespace berth::metrics
