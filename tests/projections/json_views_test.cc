// How the API, SSE and the CLI print JSON: Boost.JSON's text, numbers with a fraction as three
// fixed decimals.

#include "projections/json_views.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>

namespace marketsync {
namespace {

namespace json = boost::json;

TEST(JsonViewsTest, PricesKeepTheFourDecimalsEmagSends) {
  json::object o{{"price", 2228.1233}, {"sale_price", 12.5}, {"min_sale_price", 7.0}, {"duration_seconds", 2228.1233},
                 {"prices", json::array{1.25}}};
  EXPECT_EQ(RenderJson(o),
            R"({"price":2228.1233,"sale_price":12.50,"min_sale_price":7.00,"duration_seconds":2228.123,"prices":[1.250]})");
}

TEST(JsonViewsTest, FractionsPrintAsFixedDecimals) {
  EXPECT_EQ(RenderJson(json::value(1.030328)), "1.030");
  EXPECT_EQ(RenderJson(json::value(1.0)), "1.000");
  EXPECT_EQ(RenderJson(json::value(0.0005)), "0.001");
  EXPECT_EQ(RenderJson(json::value(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(RenderJson(json::value(std::numeric_limits<double>::infinity())), "null");
}

TEST(JsonViewsTest, EverythingElseAsBoostJsonPrintsIt) {
  const json::value v = json::parse(R"({"a":[1,-2,true,null,"q\"\n\u00e9"],"b":{"c":18446744073709551615}})");
  EXPECT_EQ(RenderJson(v), json::serialize(v));
  json::object o{{"duration_seconds", 12.3456789}, {"items", 3}, {"ok", true}};
  EXPECT_EQ(RenderJson(o), R"({"duration_seconds":12.346,"items":3,"ok":true})");
}

TEST(JsonViewsTest, ARunsDurationHasThreeDecimals) {
  RunRecord r;
  r.requested_at_us = 1'000'000;
  r.started_at_us = 1'000'000;
  r.completed_at_us = 2'030'328;
  r.status = "completed";
  const std::string text = RenderJson(RunJson(r, 0));
  EXPECT_NE(text.find(R"("duration_seconds":1.030)"), std::string::npos) << text;
  EXPECT_EQ(text.find("E0"), std::string::npos) << text;
}

}  // namespace
}  // namespace marketsync
