#pragma once

// Small helpers shared by the bench tools: timing, percentiles, a markdown table.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace marketsync::bench {

using Clock = std::chrono::steady_clock;

inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The p-th percentile (0..100) of samples, which it sorts.
inline double Percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const size_t i = std::min(samples.size() - 1, static_cast<size_t>(p / 100.0 * samples.size()));
  return samples[i];
}

// Rows of cells printed as a GitHub markdown table.
class Table {
 public:
  explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void Print() const {
    auto line = [](const std::vector<std::string>& cells) {
      std::string out = "|";
      for (const auto& c : cells) out += " " + c + " |";
      fmt::print("{}\n", out);
    };
    line(header_);
    std::vector<std::string> sep(header_.size(), "---");
    line(sep);
    for (const auto& r : rows_) line(r);
    fmt::print("\n");
  }

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

inline std::string Thousands(double v) {
  auto n = static_cast<uint64_t>(v + 0.5);
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace marketsync::bench
