// The status projection: the runs in flight.

#include "tests/projections/projections_fixture.h"

namespace marketsync::testing {
namespace {

// A run shows in the status projection while it runs (RunAndCancel checks its page, total and
// id), and nothing is left once it ended.
TEST_F(ProjectionsTest, StatusShowsARunWhileItRunsAndNothingAfter) {
  auto empty = ListActiveRuns(*log_, 0);
  ASSERT_OK(empty);
  EXPECT_TRUE(empty->empty());
  Run(Full("both"));
  RunAndCancel();
  auto active = ListActiveRuns(*log_, 0);
  ASSERT_OK(active);
  EXPECT_TRUE(active->empty());
}

}  // namespace
}  // namespace marketsync::testing
