// One offer's history from its product stream: created, updated with what changed, removed,
// and as of an earlier point.

#include "projections/offer_history.h"
#include "tests/projections/projections_fixture.h"

namespace marketsync::testing {
namespace {

TEST_F(ProjectionsTest, AnOffersHistoryShowsEachChangeWithOldAndNewValues) {
  Run(Full("main"));
  const uint64_t after_first = log_->Head().seq;
  auto tick = sim_->Tick("main");
  ASSERT_OK(tick);
  ASSERT_FALSE(tick->updated.empty());
  ASSERT_FALSE(tick->removed.empty());
  Run(Full("main"));

  const uint64_t updated = tick->updated.front();
  auto h = ReadOfferHistory(*log_, "main", updated, FoldLimit{});
  ASSERT_OK(h);
  ASSERT_EQ(h->changes.size(), 2u);
  EXPECT_EQ(h->changes[0].kind, "created");
  EXPECT_TRUE(h->changes[0].changes.empty());
  EXPECT_EQ(h->changes[1].kind, "updated");
  EXPECT_FALSE(h->changes[1].changed_fields.empty());
  // The simulator changes a price or a stock: the diff says which, old -> new.
  ASSERT_FALSE(h->changes[1].changes.empty());
  const FieldChange& c = h->changes[1].changes.front();
  EXPECT_TRUE(c.field == "price" || c.field == "stock") << c.field;
  EXPECT_NE(c.old_value, c.new_value);
  EXPECT_EQ(c.old_value, c.field == "price" ? h->changes[0].summary.sale_price
                                            : std::to_string(h->changes[0].summary.stock));
  EXPECT_LT(h->changes[0].seq, h->changes[1].seq);
  EXPECT_FALSE(h->removed);
  EXPECT_NE(h->raw_json.find("\"id\":" + std::to_string(updated)), std::string::npos);

  // As of the end of the first run: only its creation.
  auto then = ReadOfferHistory(*log_, "main", updated, FoldLimit{after_first, std::nullopt});
  ASSERT_OK(then);
  EXPECT_EQ(then->changes.size(), 1u);

  auto removed = ReadOfferHistory(*log_, "main", tick->removed.front(), FoldLimit{});
  ASSERT_OK(removed);
  ASSERT_EQ(removed->changes.size(), 2u);
  EXPECT_EQ(removed->changes[1].kind, "removed");
  EXPECT_TRUE(removed->removed);
  EXPECT_FALSE(removed->raw_json.empty());  // the offer as last seen stays readable

  EXPECT_TRUE(ReadOfferHistory(*log_, "main", 1, FoldLimit{}).status().IsNotFound());
  EXPECT_TRUE(ReadOfferHistory(*log_, "nobody", updated, FoldLimit{}).status().IsNotFound());
  EXPECT_TRUE(ReadOfferHistory(*log_, "main", updated, FoldLimit{0, std::nullopt}).status().IsNotFound());
}

TEST(OfferHistoryTest, DiffSummariesNamesEachWatchedField) {
  OfferSummary a{"SKU-1", "Cana", "12.5000", "RON", 4, 1};
  OfferSummary b = a;
  EXPECT_TRUE(DiffSummaries(a, b).empty());
  b.sale_price = "13.0000";
  b.stock = 0;
  b.status = 0;
  auto d = DiffSummaries(a, b);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].field, "price");
  EXPECT_EQ(d[0].old_value, "12.5000");
  EXPECT_EQ(d[0].new_value, "13.0000");
  EXPECT_EQ(d[1].field, "stock");
  EXPECT_EQ(d[1].new_value, "0");
  EXPECT_EQ(d[2].field, "status");
}

}  // namespace
}  // namespace marketsync::testing
