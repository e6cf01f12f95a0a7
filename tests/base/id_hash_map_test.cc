#include "base/id_hash_map.h"

#include <gtest/gtest.h>

#include <array>
#include <map>
#include <random>

namespace marketsync {
namespace {

using Value = std::array<char, 16>;

Value HashOf(uint64_t v) {
  Value h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<char>((v >> (8 * (i % 8))) + i);
  return h;
}

// Random inserts, replacements and erasures against std::map, with ids drawn from a small
// range (long probe runs, erasures in the middle of runs, wrap-around at the table's end) and
// from a wide one.
TEST(IdHashMapTest, AgreesWithAMapUnderRandomOperations) {
  for (uint64_t range : {uint64_t{3'000}, uint64_t{1} << 62}) {
    std::mt19937_64 rng(range);
    IdHashMap<Value> table;
    std::map<uint64_t, Value> model;
    std::vector<uint64_t> ids;
    for (int op = 0; op < 200'000; ++op) {
      const bool reuse = !ids.empty() && rng() % 2 == 0;
      const uint64_t id = reuse ? ids[rng() % ids.size()] : rng() % range;
      if (!reuse) ids.push_back(id);
      const uint64_t kind = rng() % 4;
      if (kind == 0) {
        table.Erase(id);
        model.erase(id);
      } else if (kind == 1) {
        const auto h = HashOf(rng());
        ASSERT_EQ(table.Insert(id, h), model.try_emplace(id, h).second) << id;  // keeps a present value
      } else {
        const auto h = HashOf(rng());
        table.Set(id, h);
        model[id] = h;
      }
      if (op % 997 == 0) {
        ASSERT_EQ(table.size(), model.size());
        for (const auto& [k, v] : model) {
          const auto* found = table.Find(k);
          ASSERT_NE(found, nullptr) << k;
          ASSERT_EQ(*found, v) << k;
        }
      }
    }
    ASSERT_EQ(table.size(), model.size());
    std::map<uint64_t, Value> visited;
    table.ForEach([&](uint64_t id, const Value& v) { EXPECT_TRUE(visited.emplace(id, v).second) << id; });
    EXPECT_EQ(visited, model);
    for (uint64_t id : ids) {
      const auto* found = table.Find(id);
      auto it = model.find(id);
      ASSERT_EQ(found != nullptr, it != model.end()) << id;
      if (found != nullptr) {
        EXPECT_EQ(*found, it->second);
      }
    }
  }
}

TEST(IdHashMapTest, ReserveMakesRoomWithoutLosingEntries) {
  IdHashMap<Value> table;
  table.Reserve(0);
  table.Set(7, HashOf(7));
  table.Reserve(10'000);
  for (uint64_t id = 100; id < 10'100; ++id) EXPECT_TRUE(table.Insert(id, HashOf(id)));
  EXPECT_EQ(table.size(), 10'001u);
  EXPECT_EQ(*table.Find(7), HashOf(7));
  EXPECT_EQ(*table.Find(10'099), HashOf(10'099));
  EXPECT_FALSE(table.Insert(7, HashOf(8)));
  EXPECT_EQ(*table.Find(7), HashOf(7));
}

TEST(IdHashMapTest, EmptyTableFindsNothingAndErasesQuietly) {
  IdHashMap<Value> table;
  EXPECT_EQ(table.Find(0), nullptr);
  table.Erase(42);
  EXPECT_EQ(table.size(), 0u);
  table.Set(0, HashOf(1));  // id 0 is an id like any other
  ASSERT_NE(table.Find(0), nullptr);
  EXPECT_EQ(*table.Find(0), HashOf(1));
  table.Erase(0);
  EXPECT_EQ(table.Find(0), nullptr);
}

}  // namespace
}  // namespace marketsync
