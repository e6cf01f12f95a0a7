// Kills a process that appends in a loop at random moments and checks that nothing it was told
// is durable went missing, the sequence has no gaps and the chain verifies.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <random>
#include <string>

#include "events/event_log.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

#ifndef MARKETSYNC_CRASH_CHILD
#error "MARKETSYNC_CRASH_CHILD must name the crash_child binary"
#endif

namespace marketsync {
namespace {

struct ChildRun {
  uint64_t max_reported = 0;
  uint64_t reports = 0;
};

// Runs the child for `run_for`, reading its reports, then SIGKILLs it. Reports already in the
// pipe were acknowledged before the kill, so they count too.
ChildRun RunAndKill(const std::string& db, unsigned seed, std::chrono::milliseconds run_for) {
  testing::ChildProcess child(MARKETSYNC_CRASH_CHILD, {db, std::to_string(seed)});
  std::vector<std::string> lines = child.ReadLines(std::chrono::steady_clock::now() + run_for);
  child.Kill();
  for (auto& line : child.DrainLines()) lines.push_back(std::move(line));
  const int status = child.Wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child exited on its own: " << status;
  ChildRun run;
  for (const auto& line : lines) {
    run.max_reported = std::max<uint64_t>(run.max_reported, std::stoull(line));
    ++run.reports;
  }
  return run;
}

TEST(CrashTest, KilledAppenderLosesNothingAcknowledged) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  std::mt19937 rng(20261128);
  uint64_t acknowledged = 0;
  constexpr int kKills = 24;
  for (int round = 0; round < kKills; ++round) {
    auto run = RunAndKill(db, rng(), std::chrono::milliseconds(150 + rng() % 400));
    acknowledged = std::max(acknowledged, run.max_reported);

    EventLogOptions options = testing::TestLogOptions();
    options.projections.push_back(std::make_unique<testing::CountingProjection>());
    auto log = EventLog::Open(db, std::move(options));
    ASSERT_OK(log);
    const LogHead head = (*log)->Head();
    ASSERT_GE(head.seq, acknowledged) << "round " << round << ": acknowledged seq lost";
    auto report = (*log)->Verify();
    ASSERT_OK(report);
    ASSERT_TRUE(report->ok) << "round " << round << ": seq " << report->first_bad_seq << " " << report->reason;
    ASSERT_EQ(report->events_checked, head.seq);
    ASSERT_EQ(*(*log)->Checkpoint("counting"), head.seq);
    // The projection agrees with the log it was folded from.
    uint64_t counted = 0;
    for (int s = 0; s < 5; ++s) {
      auto v = (*log)->Get(testing::CountingProjection::kFamily, "run-" + std::to_string(s));
      ASSERT_OK(v);
      if (v->has_value()) counted += std::stoull(**v);
      EXPECT_EQ(*(*log)->StreamVersion("run-" + std::to_string(s)),
                v->has_value() ? std::stoull(**v) : 0u);
    }
    EXPECT_EQ(counted, head.seq);
  }
  EXPECT_GT(acknowledged, 0u);
}

}  // namespace
}  // namespace marketsync
