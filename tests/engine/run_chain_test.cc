// The run's step chain (RunState::chain): steps prepared one after another land in that order
// or not at all. A page step queued behind one that failed must be refused, or a run could
// commit page 3 without page 2 (found by the marketsyncd failover campaign on PostgreSQL, where
// a group that fails before its COMMIT does not stop the log).

#include <gtest/gtest.h>

#include "engine/internal/commands.h"
#include "engine/internal/run_journal.h"
#include "schema/payload_codec.h"
#include "schema/store_keys.h"
#include "schema/sync_events.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

constexpr const char* kRun = "000661b0173149941c1f85a1";

RunStep PageStep(uint32_t page) {
  PageCommitted p;
  p.page = page;
  RunStep s;
  s.run_events.push_back(MakeEvent(p));
  return s;
}

TEST(RunChainTest, AStepQueuedBehindAFailedOneIsRefused) {
  testing::TempDir dir;
  auto log = testing::OpenEngineLog(dir.Sub("db"));
  ASSERT_OK(log);
  RawHashIndex hashes;
  RunJournal journal(**log, hashes);
  ASSERT_OK((*log)->Append(StartStep(testing::FullSync("main"), {"main"}, "group-1", {kRun}, "node-a")));
  auto loaded = journal.Load(kRun, false);
  ASSERT_OK(loaded);
  RunState st = std::move(loaded).value();
  st.holder = "node-a";
  EXPECT_FALSE(st.chain.has_value());

  // Pages 1 and 2 prepared back to back, as the step pipeline does; page 1's write is lost.
  std::vector<RunStep> one, two;
  one.push_back(PageStep(1));
  two.push_back(PageStep(2));
  RunJournal::Prepared first = RunJournal::Prepare(st, std::move(one));
  RunJournal::Prepared second = RunJournal::Prepare(st, std::move(two));
  auto refused = (*log)->AppendAll(std::move(second.steps));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].status().code(), Status::Code::kFailedPrecondition) << refused[0].status().ToString();

  // In order, both land, and a fresh load continues the chain.
  auto landed = (*log)->AppendAll(std::move(first.steps));
  ASSERT_OK(landed[0]);
  std::vector<RunStep> again;
  again.push_back(PageStep(2));
  RunJournal::Prepared retry = RunJournal::Prepare(st, std::move(again));  // chain 2 expected: stale
  auto stale = (*log)->AppendAll(std::move(retry.steps));
  EXPECT_FALSE(stale[0].ok());
  auto reloaded = journal.Load(kRun, false);
  ASSERT_OK(reloaded);
  EXPECT_EQ(reloaded->chain, std::optional<uint64_t>(1));
  reloaded->holder = "node-a";
  std::vector<RunStep> next;
  next.push_back(PageStep(2));
  RunJournal::Prepared resumed = RunJournal::Prepare(*reloaded, std::move(next));
  auto continued = (*log)->AppendAll(std::move(resumed.steps));
  ASSERT_OK(continued[0]);
  EXPECT_EQ(*(*log)->Get(EventLog::kMetaFamily, ChainKey(kRun)), std::optional<std::string>("2"));
}

}  // namespace
}  // namespace marketsync
