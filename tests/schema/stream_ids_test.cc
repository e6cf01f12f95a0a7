// The stream-id grammar: built and parsed in one place.

#include "schema/stream_ids.h"

#include <gtest/gtest.h>

namespace marketsync {
namespace {

TEST(StreamIdsTest, ProductStreamIdsNameTheirOffer) {
  EXPECT_EQ(ProductStreamId("main", 1000001), "product-main-1000001");
  EXPECT_TRUE(IsProductStreamOf("product-main-1000001", "main", 1000001));
  EXPECT_TRUE(IsProductStreamOf("product-fb-e-7", "fb-e", 7));  // an account with a dash
  EXPECT_FALSE(IsProductStreamOf("product-fb-e-7", "fb", 7));
  EXPECT_FALSE(IsProductStreamOf("product-main-10", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("product-main-1", "main", 10));
  EXPECT_FALSE(IsProductStreamOf("product-main_1", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("products-main-1", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("product-fbe-1", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("", "main", 1));
}


TEST(StreamIdsTest, ProductStreamIdsParseBackToTheirParts) {
  const std::string id = ProductStreamId("fb-e", 1000001);
  auto parts = ParseProductStreamId(id);  // views into `id`
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->account, "fb-e");
  EXPECT_EQ(parts->offer_id, 1000001u);
  EXPECT_EQ(ProductStreamAccount("product-fb-e-7"), "fb-e");
  for (const char* bad : {"product-main-", "product-main-x1", "product-7", "run-main-1", "product--1x", ""}) {
    EXPECT_FALSE(ParseProductStreamId(bad).has_value()) << bad;
  }
  EXPECT_EQ(ProductStreamAccount("run-abc"), "");
}

TEST(StreamIdsTest, RunStreamsNameTheirRun) {
  EXPECT_EQ(RunStreamId("0006619c24a581f5c3ebb7a2"), "run-0006619c24a581f5c3ebb7a2");
  EXPECT_TRUE(IsRunStream("run-x"));
  EXPECT_FALSE(IsRunStream("product-main-1"));
  EXPECT_EQ(RunIdOfStream("run-abc"), "abc");
  EXPECT_EQ(RunIdOfStream("product-main-1"), "");
}

}  // namespace
}  // namespace marketsync
