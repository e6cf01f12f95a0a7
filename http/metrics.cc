#include "http/metrics.h"

#include <fmt/format.h>

namespace marketsync::http {

void Metrics::Add(const std::string& name, const std::string& labels, double delta) {
  std::lock_guard lk(mu_);
  values_[name][labels] += delta;
}

void Metrics::Set(const std::string& name, const std::string& labels, double value) {
  std::lock_guard lk(mu_);
  values_[name][labels] = value;
}

void Metrics::Observe(const std::string& name, const std::string& labels, double value,
                      const std::vector<double>& bounds) {
  std::lock_guard lk(mu_);
  Histogram& h = histograms_[name][labels];
  if (h.bounds.empty()) {
    h.bounds = bounds;
    h.counts.assign(bounds.size(), 0);
  }
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    if (value <= h.bounds[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

void Metrics::Describe(const std::string& name, const std::string& type, const std::string& help) {
  std::lock_guard lk(mu_);
  meta_[name] = {type, help};
}

std::string Metrics::Render() const {
  std::lock_guard lk(mu_);
  std::string out;
  auto header = [&](const std::string& name) {
    if (auto it = meta_.find(name); it != meta_.end()) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, it->second.second, name, it->second.first);
    }
  };
  for (const auto& [name, series] : values_) {
    header(name);
    for (const auto& [labels, v] : series) {
      out += labels.empty() ? fmt::format("{} {}\n", name, v) : fmt::format("{}{{{}}} {}\n", name, labels, v);
    }
  }
  for (const auto& [name, series] : histograms_) {
    header(name);
    for (const auto& [labels, h] : series) {
      const std::string sep = labels.empty() ? "" : ",";
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        out += fmt::format("{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, h.bounds[i], cumulative);
      }
      out += fmt::format("{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, h.count);
      out += labels.empty() ? fmt::format("{}_sum {}\n{}_count {}\n", name, h.sum, name, h.count)
                            : fmt::format("{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels, h.sum, name, labels, h.count);
    }
  }
  return out;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                               0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1,
                                               2.5,     5,      10};
  return kBuckets;
}

std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace marketsync::http
