// Prometheus text: counters and gauges per label set, cumulative histogram buckets, HELP and
// TYPE, escaped label values.

#include "http/metrics.h"

#include <gtest/gtest.h>

namespace marketsync::http {
namespace {

bool Has(const std::string& text, const std::string& line) { return text.find(line + "\n") != std::string::npos; }

TEST(MetricsTest, CountersAddAndGaugesSet) {
  Metrics m;
  m.Describe("requests_total", "counter", "Requests");
  m.Add("requests_total", "route=\"/a\"");
  m.Add("requests_total", "route=\"/a\"", 2);
  m.Add("requests_total", "route=\"/b\"");
  m.Set("head", "", 7);
  m.Set("head", "", 9);
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "# HELP requests_total Requests")) << text;
  EXPECT_TRUE(Has(text, "# TYPE requests_total counter")) << text;
  EXPECT_TRUE(Has(text, "requests_total{route=\"/a\"} 3")) << text;
  EXPECT_TRUE(Has(text, "requests_total{route=\"/b\"} 1")) << text;
  EXPECT_TRUE(Has(text, "head 9")) << text;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Metrics m;
  const std::vector<double> bounds = {1, 5, 10};
  for (double v : {0.5, 3.0, 3.0, 7.0, 100.0}) m.Observe("latency", "route=\"/a\"", v, bounds);
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "latency_bucket{route=\"/a\",le=\"1\"} 1")) << text;
  EXPECT_TRUE(Has(text, "latency_bucket{route=\"/a\",le=\"5\"} 3")) << text;
  EXPECT_TRUE(Has(text, "latency_bucket{route=\"/a\",le=\"10\"} 4")) << text;
  EXPECT_TRUE(Has(text, "latency_bucket{route=\"/a\",le=\"+Inf\"} 5")) << text;
  EXPECT_TRUE(Has(text, "latency_sum{route=\"/a\"} 113.5")) << text;
  EXPECT_TRUE(Has(text, "latency_count{route=\"/a\"} 5")) << text;
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(LabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(LabelValue("/api/v1/emag/products/sync/{id}"), "/api/v1/emag/products/sync/{id}");
}

TEST(MetricsTest, LatencyBucketsAscend) {
  const auto& b = LatencyBuckets();
  ASSERT_FALSE(b.empty());
  for (size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]);
}

}  // namespace
}  // namespace marketsync::http
