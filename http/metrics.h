#pragma once

// Prometheus metrics of the server: counters and histograms keyed by name and label set,
// rendered in the text exposition format. Cheap enough to update on every request.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace marketsync::http {

// Thread safety: every method is thread-safe.
class Metrics {
 public:
  // `labels` is the rendered label set without braces, e.g. `route="/healthz",status="200"`.
  void Add(const std::string& name, const std::string& labels, double delta = 1);
  void Set(const std::string& name, const std::string& labels, double value);
  // Records one observation in a histogram with the given bucket bounds (seconds or counts).
  void Observe(const std::string& name, const std::string& labels, double value, const std::vector<double>& bounds);
  // HELP text and TYPE for a name; call once per name before rendering.
  void Describe(const std::string& name, const std::string& type, const std::string& help);
  std::string Render() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;  // per bound, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::string>> meta_;  // name -> type, help
  std::map<std::string, std::map<std::string, double>> values_;      // name -> labels -> value
  std::map<std::string, std::map<std::string, Histogram>> histograms_;
};

// Bucket bounds in seconds for latencies from 50 µs to 10 s.
const std::vector<double>& LatencyBuckets();

// Escapes a label value (backslash, quote, newline).
std::string LabelValue(const std::string& v);

}  // namespace marketsync::http
