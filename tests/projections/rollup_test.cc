// The rollup projection (runs per day by outcome, each account's failing streak) and the
// overview composed from it, on runs of a real engine against the simulator.

#include "base/clock.h"
#include "projections/overview.h"
#include "projections/rollup.h"
#include "tests/projections/projections_fixture.h"

namespace marketsync::testing {
namespace {

const DayRuns& Today(const std::vector<DayPoint>& days) { return days.back().runs; }

TEST_F(ProjectionsTest, RollupCountsTodaysRunsByOutcomeForEachAccountAndAll) {
  Run(Full("both"));
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","resource":"read","page":1,"fault":"invalid_ip"}]})"));
  Run(Full("fbe"));
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));

  auto all = RunsPerDay(*log_, std::nullopt, NowUs(), 3);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->back().day, UtcDay(NowUs()));
  EXPECT_EQ(Today(*all).requested, 3u);
  EXPECT_EQ(Today(*all).completed, 2u);
  EXPECT_EQ(Today(*all).failed, 1u);
  EXPECT_EQ(Today(*all).created_items, 2 * kOffers);
  for (size_t i = 0; i + 1 < all->size(); ++i) EXPECT_EQ((*all)[i].runs.requested, 0u) << (*all)[i].day;

  auto fbe = RunsPerDay(*log_, std::string("fbe"), NowUs(), 1);
  ASSERT_OK(fbe);
  EXPECT_EQ(Today(*fbe).requested, 2u);
  EXPECT_EQ(Today(*fbe).completed, 1u);
  EXPECT_EQ(Today(*fbe).failed, 1u);
  auto main = RunsPerDay(*log_, std::string("main"), NowUs(), 1);
  ASSERT_OK(main);
  EXPECT_EQ(Today(*main).requested, 1u);
  EXPECT_EQ(Today(*main).failed, 0u);

  EXPECT_FALSE(RunsPerDay(*log_, std::nullopt, NowUs(), 0).ok());
  EXPECT_FALSE(RunsPerDay(*log_, std::nullopt, NowUs(), 367).ok());
}

TEST_F(ProjectionsTest, AnAccountFailsFromItsFirstFailureUntilARunCompletes) {
  Run(Full("main"));
  auto health = GetAccountHealth(*log_, "main");
  ASSERT_OK(health);
  EXPECT_EQ(health->failing_since_us, 0);

  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"main","resource":"read","page":1,"fault":"invalid_ip"}]})"));
  const std::vector<std::string> first = Run(Full("main"));
  ASSERT_EQ(first.size(), 1u);
  health = GetAccountHealth(*log_, "main");
  ASSERT_OK(health);
  EXPECT_NE(health->failing_since_us, 0);
  EXPECT_EQ(health->failing_since_run_id, first[0]);
  EXPECT_EQ(health->failing_runs, 1u);
  const int64_t since = health->failing_since_us;

  Run(Full("main"));  // fails again: still failing since the first
  health = GetAccountHealth(*log_, "main");
  ASSERT_OK(health);
  EXPECT_EQ(health->failing_since_us, since);
  EXPECT_EQ(health->failing_runs, 2u);

  // A cancelled run changes nothing; a complete one ends the streak.
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
  RunAndCancel();
  health = GetAccountHealth(*log_, "main");
  ASSERT_OK(health);
  EXPECT_EQ(health->failing_runs, 2u);
  Run(Full("main"));
  health = GetAccountHealth(*log_, "main");
  ASSERT_OK(health);
  EXPECT_EQ(health->failing_since_us, 0);
  EXPECT_EQ(health->failing_runs, 0u);
}

TEST_F(ProjectionsTest, OverviewListsAccountsHealthDaysAndTheWindowsRuns) {
  Run(Full("main"));
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","resource":"read","page":1,"fault":"invalid_ip"}]})"));
  Run(Full("fbe"));
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
  Run(Full("main"));

  auto o = BuildOverview(*log_, OverviewQuery{}, {"fbe", "main", "spare"}, NowUs());
  ASSERT_OK(o);
  ASSERT_EQ(o->accounts.size(), 3u);
  EXPECT_EQ(o->accounts[0].stats.account, "fbe");
  EXPECT_EQ(o->accounts[0].health_word, "failing");
  EXPECT_EQ(o->accounts[1].stats.account, "main");
  EXPECT_EQ(o->accounts[1].health_word, "ok");
  EXPECT_EQ(o->accounts[1].stats.offers, kOffers);
  EXPECT_EQ(o->accounts[2].stats.account, "spare");
  EXPECT_EQ(o->accounts[2].health_word, "never_synced");
  EXPECT_FALSE(o->accounts[1].in_flight);
  ASSERT_EQ(o->days.size(), 30u);
  EXPECT_EQ(o->days.back().runs.requested, 3u);
  // The runs of the window, oldest first, as the history lists them.
  ASSERT_EQ(o->runs.size(), 3u);
  EXPECT_EQ(o->runs[0].account_type, "main");
  EXPECT_EQ(o->runs[1].status, kRunFailed);
  EXPECT_LT(o->runs[0].id, o->runs[2].id);
  EXPECT_FALSE(o->runs_truncated);

  // One account; fewer runs than the window holds.
  auto main = BuildOverview(*log_, OverviewQuery{std::string("main"), 7, 1}, {"fbe", "main"}, NowUs());
  ASSERT_OK(main);
  ASSERT_EQ(main->accounts.size(), 1u);
  EXPECT_EQ(main->days.size(), 7u);
  EXPECT_EQ(main->days.back().runs.requested, 2u);
  ASSERT_EQ(main->runs.size(), 1u);
  EXPECT_TRUE(main->runs_truncated);
  EXPECT_EQ(main->runs[0].id, o->runs[2].id);

  EXPECT_FALSE(BuildOverview(*log_, OverviewQuery{std::nullopt, 30, 0}, {}, NowUs()).ok());
}

TEST_F(ProjectionsTest, OverviewAsOfAnEarlierPointShowsTheEarlierNumbers) {
  Run(Full("main"));
  const uint64_t after_first = log_->Head().seq;
  Run(Full("fbe"));
  auto view = FoldAsOf(*log_, FoldLimit{after_first, std::nullopt});
  ASSERT_OK(view);
  auto then = BuildOverview((*view)->store, OverviewQuery{}, {}, (*view)->fold.last_recorded_at_us);
  ASSERT_OK(then);
  ASSERT_EQ(then->accounts.size(), 1u);
  EXPECT_EQ(then->accounts[0].stats.account, "main");
  EXPECT_EQ(then->days.back().runs.requested, 1u);
  EXPECT_EQ(then->runs.size(), 1u);
}

}  // namespace
}  // namespace marketsync::testing
