#include "events/internal/stream_versions.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace marketsync {
namespace {

// Random inserts and version moves against std::map, through several growths, with ids that
// prefix each other ("product-main-1" and "product-main-10") and an empty-looking one.
TEST(StreamVersionsTest, AgreesWithAMapThroughGrowth) {
  std::mt19937_64 rng(7);
  StreamVersions table;
  std::map<std::string, uint64_t> model;
  for (int op = 0; op < 100'000; ++op) {
    const std::string id = rng() % 5 == 0 ? "run-" + std::to_string(rng() % 50) : "product-main-" + std::to_string(rng() % 20'000);
    std::optional<StreamVersions::Entry> e = table.Find(id);
    auto it = model.find(id);
    ASSERT_EQ(e.has_value(), it != model.end()) << id;
    if (!e) {
      const uint64_t stored = rng() % 3;
      e = table.Insert(id, stored);
      it = model.emplace(id, stored).first;
    }
    ASSERT_EQ(table.version(*e), it->second) << id;
    table.version(*e) += 1;
    it->second += 1;
  }
  ASSERT_EQ(table.size(), model.size());
  for (const auto& [id, version] : model) {
    const auto e = table.Find(id);
    ASSERT_TRUE(e.has_value()) << id;
    EXPECT_EQ(table.version(*e), version) << id;
  }
  EXPECT_FALSE(table.Find("product-main-").has_value());
  EXPECT_FALSE(table.Find("product-main-200000").has_value());
}

TEST(StreamVersionsTest, EntriesStayValidAcrossGrowthAndClearForgetsAll) {
  StreamVersions table;
  EXPECT_FALSE(table.Find("a").has_value());  // empty: no table yet
  const StreamVersions::Entry first = table.Insert("a", 41);
  for (int i = 0; i < 5'000; ++i) table.Insert("s" + std::to_string(i), i);  // grows several times
  EXPECT_EQ(table.version(first), 41u);
  EXPECT_EQ(table.Find("a"), first);
  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.Find("a").has_value());
  EXPECT_FALSE(table.Find("s4999").has_value());
  const StreamVersions::Entry again = table.Insert("a", 1);
  EXPECT_EQ(table.version(again), 1u);
}

}  // namespace
}  // namespace marketsync
