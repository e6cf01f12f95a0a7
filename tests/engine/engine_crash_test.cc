// The crash campaign: the engine runs syncs in a child process that is killed with SIGKILL at
// random moments and restarted. Every start that was answered keeps its SyncRequested; after
// recovery every run ends; the log has no gaps and its chain verifies; after a last clean sync
// the mirror equals what the simulator serves. And a run killed at 40% resumes where its
// durable progress says.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <random>
#include <set>

#include "schema/payload_codec.h"
#include "projections/all.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

#ifndef MARKETSYNC_ENGINE_CHILD
#error "MARKETSYNC_ENGINE_CHILD must name the engine_child binary"
#endif

namespace marketsync {
namespace {

using namespace std::chrono_literals;

TEST(EngineCrashTest, KilledEngineLosesNothingAndEveryRunEnds) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  sim::SimulatorOptions so = testing::QuietSimulator(700);
  so.latency_ms = 4;
  auto sim = sim::Simulator::Start(so, "127.0.0.1", 0);
  ASSERT_OK(sim);
  ASSERT_OK((*sim)->SetFaults(R"({"rules":[{"probability":0.03,"fault":"http_500"}]})"));
  std::mt19937 rng(20261128);
  std::set<std::string> answered;
  constexpr int kKills = 30;
  for (int round = 0; round < kKills; ++round) {
    if (round % 5 == 4) ASSERT_OK((*sim)->Tick(round % 10 == 4 ? "main" : "fbe"));
    testing::ChildProcess child(MARKETSYNC_ENGINE_CHILD, {db, (*sim)->BaseUrl(), "drive"});
    std::vector<std::string> lines =
        child.ReadLines(std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 600));
    child.Kill();
    for (auto& line : child.DrainLines()) lines.push_back(std::move(line));  // acknowledged before the kill
    const int status = child.Wait();
    ASSERT_TRUE(WIFSIGNALED(status)) << "round " << round << ": the child exited by itself (" << status << ")";
    for (const auto& line : lines) {
      if (line.starts_with("started ")) answered.insert(line.substr(8));
    }
    // Between kills: every answered start is in the log, and the log verifies.
    auto log = testing::OpenEngineLog(db);
    ASSERT_OK(log);
    auto report = (*log)->Verify();
    ASSERT_OK(report);
    ASSERT_TRUE(report->ok) << "round " << round << ": seq " << report->first_bad_seq << " " << report->reason;
    for (const auto& id : answered) {
      auto events = (*log)->ReadStream(RunStreamId(id));
      ASSERT_OK(events);
      ASSERT_FALSE(events->empty()) << "run " << id << " was answered but is not in the log";
      EXPECT_EQ(events->front().type, static_cast<uint16_t>(EventType::kSyncRequested));
    }
  }
  EXPECT_GT(answered.size(), 4u);

  ASSERT_OK((*sim)->SetFaults(R"({"rules":[]})"));
  testing::ChildProcess finisher(MARKETSYNC_ENGINE_CHILD, {db, (*sim)->BaseUrl(), "finish"});
  std::vector<std::string> lines;
  for (int i = 0; i < 1200 && !finisher.Exited(); ++i) {
    for (auto& line : finisher.ReadLines(std::chrono::steady_clock::now() + 100ms)) lines.push_back(std::move(line));
  }
  for (auto& line : finisher.DrainLines()) lines.push_back(std::move(line));
  const int status = finisher.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "final run failed: " << status;
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "done");

  auto log = testing::OpenEngineLog(db);
  ASSERT_OK(log);
  auto report = (*log)->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok) << report->first_bad_seq << " " << report->reason;
  EXPECT_EQ(report->events_checked, (*log)->Head().seq);
  // Every run ever requested reached a terminal event.
  std::set<std::string> requested;
  int resumed = 0;
  for (auto it = (*log)->Read(1); it->Valid(); it->Next()) {
    if (it->envelope().type == static_cast<uint16_t>(EventType::kSyncRequested)) {
      requested.insert(it->envelope().stream_id.substr(4));
    }
    resumed += it->envelope().type == static_cast<uint16_t>(EventType::kSyncResumed) ? 1 : 0;
  }
  // The kills landed inside runs, so recovery had work to do.
  EXPECT_GT(resumed, 0);
  std::printf("%zu starts answered, %zu runs, %d resumptions\n", answered.size(), requested.size(), resumed);
  for (const auto& id : answered) EXPECT_TRUE(requested.contains(id));
  for (const auto& id : requested) {
    auto events = (*log)->ReadStream(RunStreamId(id));
    ASSERT_OK(events);
    RunRecord r;
    for (const auto& e : *events) ASSERT_OK(ApplyRunEvent(r, e));
    EXPECT_TRUE(r.terminal()) << "run " << id << " ended " << r.status;
  }
  EXPECT_EQ(testing::MirroredProducts(**log, "main"), testing::ServedProducts(**sim, "main"));
  EXPECT_EQ(testing::MirroredProducts(**log, "fbe"), testing::ServedProducts(**sim, "fbe"));
  // The projections folded step by step across every kill equal a refold of the whole log.
  auto checks = VerifyProjections(**log);
  ASSERT_OK(checks);
  EXPECT_EQ(checks->size(), AllProjectionNames().size());
  for (const auto& c : *checks) {
    EXPECT_TRUE(c.ok()) << c.name << " differs at " << (c.first_difference ? PrintableKey(c.first_difference->key) : "?");
  }
}

// A run killed at 40% resumes from the pages it committed, not from page 1: the durable
// progress is the progress.
TEST(EngineCrashTest, ARunKilledAt40PercentResumesFromItsLastCommittedPage) {
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  sim::SimulatorOptions so = testing::QuietSimulator(1275);  // 13 pages
  so.latency_ms = 300;
  auto sim = sim::Simulator::Start(so, "127.0.0.1", 0);
  ASSERT_OK(sim);
  std::string id;
  uint32_t durable = 0;  // pages the child saw durable before the kill
  {
    testing::ChildProcess child(MARKETSYNC_ENGINE_CHILD, {db, (*sim)->BaseUrl(), "one"});
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (durable < 6 && std::chrono::steady_clock::now() < give_up) {  // 6 of 13: past 40%
      for (const auto& line : child.ReadLines(std::chrono::steady_clock::now() + 5ms)) {
        if (line.starts_with("started ")) id = line.substr(8);
        if (line.starts_with("pages ")) durable = static_cast<uint32_t>(std::stoul(line.substr(6)));
      }
    }
    child.Kill();
    ASSERT_TRUE(WIFSIGNALED(child.Wait())) << "the child ended by itself";
  }
  ASSERT_FALSE(id.empty());
  ASSERT_GE(durable, 6u);
  ASSERT_LT(durable, 13u) << "the run ended before the kill";
  const uint64_t requests_before = (*sim)->Stats("main")->requests;

  auto recover = testing::RunProgram(MARKETSYNC_ENGINE_CHILD, {db, (*sim)->BaseUrl(), "recover"});
  ASSERT_EQ(recover.exit_code, 0) << recover.text();

  auto log = testing::OpenEngineLog(db);
  ASSERT_OK(log);
  auto events = (*log)->ReadStream(RunStreamId(id));
  ASSERT_OK(events);
  RunRecord r;
  std::vector<uint32_t> committed;  // page numbers, across both attempts
  uint32_t resumed_from = 0;
  for (const auto& e : *events) {
    ASSERT_OK(ApplyRunEvent(r, e));
    if (e.type == static_cast<uint16_t>(EventType::kPageCommitted)) committed.push_back(r.last_page);
    if (e.type == static_cast<uint16_t>(EventType::kSyncResumed)) {
      auto p = DecodePayload<SyncResumed>(e.payload_version, e.payload);
      ASSERT_OK(p);
      resumed_from = p->from_page;
    }
  }
  EXPECT_EQ(r.status, kRunCompleted);
  EXPECT_EQ(r.attempt, 2u);
  EXPECT_GE(resumed_from, durable + 1) << "attempt 2 started over";
  std::vector<uint32_t> each_once(13);
  for (uint32_t p = 1; p <= 13; ++p) each_once[p - 1] = p;
  EXPECT_EQ(committed, each_once) << "every page committed once, in order";
  // Attempt 2 asked for the count and the pages from resumed_from on (and at most the one page
  // past the end that the bound before the count allows), not for page 1 again.
  const uint64_t requests_after = (*sim)->Stats("main")->requests - requests_before;
  EXPECT_GE(requests_after, 1 + (13 - resumed_from + 1));
  EXPECT_LE(requests_after, 2 + (13 - resumed_from + 1));
  EXPECT_EQ(r.processed_items, 1275u);
}

}  // namespace
}  // namespace marketsync
