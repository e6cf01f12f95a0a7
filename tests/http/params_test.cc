// Request validation without a server: query parameters and the sync body, refused with a
// message naming what is wrong, never with an exception.

#include "http/internal/params.h"

#include <gtest/gtest.h>

namespace marketsync::http {
namespace {

Request With(std::vector<std::pair<std::string, std::string>> params) {
  Request r;
  r.params = std::move(params);
  return r;
}

TEST(ParamsTest, WholeNumbersInRangeOrAFallback) {
  EXPECT_EQ(*UintParam(With({}), "limit", 50, 1, 1000), 50u);
  EXPECT_EQ(*UintParam(With({{"limit", "7"}}), "limit", 50, 1, 1000), 7u);
  for (const char* bad : {"0", "1001", "-1", "1e3", "", "7 ", "99999999999999999999999"}) {
    auto r = UintParam(With({{"limit", bad}}), "limit", 50, 1, 1000);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("limit must be a whole number in 1..1000"), std::string::npos);
  }
}

TEST(ParamsTest, LongValuesAreRefused) {
  auto r = Param(With({{"cursor", std::string(201, 'x')}}), "cursor");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cursor is longer than 200 bytes"), std::string::npos);
}

TEST(ParamsTest, TimesAndAsOf) {
  auto t = TimeParam(With({{"from", "2026-11-28T18:00:00Z"}}), "from");
  ASSERT_TRUE(t.ok());
  ASSERT_TRUE(t->has_value());
  EXPECT_FALSE(TimeParam(With({{"from", "yesterday"}}), "from").ok());
  EXPECT_FALSE(TimeParam(With({{"from", ""}}), "from")->has_value());
  auto seq = AsOfParam(With({{"as_of", "42"}}));
  ASSERT_TRUE(seq.ok());
  EXPECT_EQ((*seq)->to_seq, 42u);
  auto time = AsOfParam(With({{"as_of", "2026-11-28T18:00:00Z"}}));
  ASSERT_TRUE(time.ok());
  EXPECT_TRUE((*time)->to_time_us.has_value());
  EXPECT_FALSE(AsOfParam(With({{"as_of", "soon"}})).ok());
}

TEST(ParamsTest, JsonMediaTypes) {
  EXPECT_TRUE(IsJsonMediaType("application/json"));
  EXPECT_TRUE(IsJsonMediaType("Application/JSON; charset=utf-8"));
  EXPECT_FALSE(IsJsonMediaType("application/x-www-form-urlencoded"));
  EXPECT_FALSE(IsJsonMediaType(""));
}

TEST(ParamsTest, TheSyncBodyIsCheckedForShapeOnly) {
  auto ok = ParseSyncBody(R"({"account_type":"main","max_pages":3,"items_per_page":20,"run_async":false})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->request.account_type, "main");
  EXPECT_EQ(ok->request.max_pages, 3);
  EXPECT_EQ(ok->request.items_per_page, 20);
  EXPECT_FALSE(ok->run_async);
  EXPECT_EQ(ok->request.triggered_by, "api");
  // Ranges and meanings are the engine's to check: the shape is right, so these pass here.
  auto out_of_range = ParseSyncBody(R"({"items_per_page":500,"max_pages":0,"mode":"fast"})");
  ASSERT_TRUE(out_of_range.ok());
  EXPECT_EQ(out_of_range->request.items_per_page, 500);
  EXPECT_EQ(out_of_range->request.account_type, "both");
  auto huge = ParseSyncBody(R"({"max_pages":18446744073709551615})");
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->request.max_pages, INT64_MAX);  // clamped, then refused by the engine
}

TEST(ParamsTest, AMisshapenSyncBodyIsRefusedWithWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "the body must be a JSON object"},
      {"[1]", "the body must be a JSON object"},
      {"{", "the body is not valid JSON"},
      {R"({"account_type":1})", "account_type must be a string"},
      {R"({"max_pages":1.5})", "max_pages must be a whole number"},
      {R"({"include_inactive":"yes"})", "include_inactive must be true or false"},
      {R"({"force":true})", "unknown field \"force\""},
  };
  for (const auto& [body, says] : cases) {
    auto r = ParseSyncBody(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(says), std::string::npos) << body << ": " << r.status().message();
  }
}

}  // namespace
}  // namespace marketsync::http
