// The stats projection: offers per account, outcomes, last run, success rate.

#include "tests/projections/projections_fixture.h"

namespace marketsync::testing {
namespace {

TEST_F(ProjectionsTest, StatsCountOffersOutcomesAndSuccessRate) {
  Run(Full("both"));
  // Drift: the stats follow what the simulator changed.
  auto tick = sim_->Tick("main");
  ASSERT_OK(tick);
  Run(Full("main"));
  auto stats = GetStats(*log_);
  ASSERT_OK(stats);
  ASSERT_EQ(stats->accounts.size(), 2u);
  const AccountStats& m = stats->accounts[1].account == "main" ? stats->accounts[1] : stats->accounts[0];
  EXPECT_EQ(m.offers, kOffers + tick->created.size() - tick->removed.size());
  EXPECT_EQ(m.runs_completed, 2u);
  EXPECT_DOUBLE_EQ(m.SuccessRate(), 1.0);
  EXPECT_EQ(stats->total_offers, 2 * kOffers + tick->created.size() - tick->removed.size());

  // A cancelled run counts as run, not as a success.
  const std::string cancelled = RunAndCancel();
  stats = GetStats(*log_);
  ASSERT_OK(stats);
  const AccountStats& m2 = stats->accounts[1].account == "main" ? stats->accounts[1] : stats->accounts[0];
  EXPECT_EQ(m2.runs_cancelled, 1u);
  EXPECT_EQ(m2.last_run_id, cancelled);
  EXPECT_NEAR(m2.SuccessRate(), 2.0 / 3.0, 1e-9);
}

}  // namespace
}  // namespace marketsync::testing
