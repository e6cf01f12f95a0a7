// The failover campaign (issue 17): nodes append to the log on a replicated PostgreSQL
// (tools/pg-cluster: Patroni, a synchronous standby, strict mode) while the primary's
// postmaster is killed with SIGKILL at random moments, Patroni promotes the standby and the
// old primary rejoins as one. Afterwards: every acknowledged step is in the log and no step
// that was not (each lost answer was looked up and told truly), seqs are
// gap-free, the chain verifies, the projection equals a refold. `make failover` runs
// FAILOVER_CYCLES (default 50) cycles; make test runs MARKETSYNC_FAILOVER_CYCLES or 5.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "events/projection_fold.h"
#include "pglog/pg_event_log.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/pg_cluster.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::pglog {
namespace {

using namespace std::chrono_literals;
using testing::MakeStep;

// One node: a log of its own, appending one step at a time with expected versions. A COMMIT
// whose answer was lost is looked up by the log itself once a primary answers, so the node is
// told the truth and goes on; only a log that fail-stopped (no primary for kInDoubtDeadline)
// is reopened, and its stream's version says what landed.
class Node {
 public:
  Node(std::string conninfo, std::string stream) : conninfo_(std::move(conninfo)), stream_(std::move(stream)) {}

  // Appends until `stop`; records each acknowledged version and when the first append after a
  // failure succeeded.
  void Run(const std::atomic<bool>& stop) {
    while (!stop) {
      if (!log_ && !Reopen()) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
      auto r = log_->Append(MakeStep(stream_, 1, 64, version_));
      if (r.ok()) {
        acked_.push_back(++version_);
        last_ok_ = std::chrono::steady_clock::now();
        continue;
      }
      ++failures_;
      if (!log_->WriterStatus().ok()) {
        ++unresolved_;  // the outcome of this one step stays unknown
        log_.reset();
      } else if (r.status().IsFailedPrecondition()) {
        ADD_FAILURE() << stream_ << ": version " << version_ << " moved: a step landed that was not acknowledged";
        log_.reset();
      } else {
        std::this_thread::sleep_for(50ms);  // no primary yet: try again
      }
    }
    log_.reset();
  }

  const std::vector<uint64_t>& acked() const { return acked_; }
  const std::string& stream() const { return stream_; }
  uint64_t failures() const { return failures_; }
  uint64_t unresolved() const { return unresolved_; }
  std::chrono::steady_clock::time_point last_ok() const { return last_ok_.load(); }

 private:
  bool Reopen() {
    auto log = OpenPgEventLog(conninfo_, testing::CountingLogOptions());
    if (!log.ok()) return false;
    auto v = (*log)->StreamVersion(stream_);
    if (!v.ok()) return false;
    version_ = *v;  // what landed, acknowledged or not
    log_ = std::move(log).value();
    return true;
  }

  const std::string conninfo_, stream_;
  std::unique_ptr<EventLog> log_;
  uint64_t version_ = 0;
  std::vector<uint64_t> acked_;
  uint64_t failures_ = 0;
  uint64_t unresolved_ = 0;
  std::atomic<std::chrono::steady_clock::time_point> last_ok_{};
};

TEST(FailoverTest, KillingThePrimaryLosesNoAcknowledgedStep) {
  if (auto why = testing::PgCluster::Unavailable()) GTEST_SKIP() << *why;
  const uint64_t cycles = testing::CampaignSetting("MARKETSYNC_FAILOVER_CYCLES", 5);
  std::mt19937_64 rng(testing::CampaignSetting("MARKETSYNC_FAILOVER_SEED", 20261202));
  auto cluster = testing::PgCluster::Start();
  ASSERT_OK(cluster);
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 4; ++i) nodes.push_back(std::make_unique<Node>((*cluster)->conninfo(), "node-" + std::to_string(i)));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (auto& n : nodes) threads.emplace_back([&, node = n.get()] { node->Run(stop); });

  std::vector<double> pauses;
  for (uint64_t c = 0; c < cycles; ++c) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1700));
    const auto killed_at = std::chrono::steady_clock::now();
    auto killed = (*cluster)->KillPrimary();  // returns once a primary runs again
    ASSERT_TRUE(killed.ok()) << killed.status().ToString() << "\n" << (*cluster)->Describe();
    const auto promoted_at = std::chrono::steady_clock::now();
    // The failover pause: from the kill to the first append acknowledged after the promotion
    // (the killed postmaster's backends may still answer for a moment before they notice).
    const auto deadline = killed_at + 120s;
    auto first_after = [&] {
      std::chrono::steady_clock::time_point t{};
      for (auto& n : nodes) {
        if (n->last_ok() > promoted_at && (t == decltype(t){} || n->last_ok() < t)) t = n->last_ok();
      }
      return t;
    };
    while (first_after() == std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_NE(first_after(), std::chrono::steady_clock::time_point{}) << "no append after the kill\n" << (*cluster)->Describe();
    pauses.push_back(std::chrono::duration<double>(first_after() - killed_at).count());
    ASSERT_OK((*cluster)->WaitHealthy(120s));
  }
  std::this_thread::sleep_for(500ms);
  stop = true;
  for (auto& t : threads) t.join();

  auto log = OpenPgEventLog((*cluster)->conninfo(), testing::CountingLogOptions());
  ASSERT_OK(log);
  uint64_t acknowledged = 0, failures = 0, events = 0, lost = 0, unresolved = 0;
  for (auto& n : nodes) {
    acknowledged += n->acked().size();
    failures += n->failures();
    auto stored = (*log)->ReadStream(n->stream());
    ASSERT_OK(stored);
    events += stored->size();
    // Every acknowledged version is there, and nothing else but the steps of a fail-stop.
    const uint64_t acked = n->acked().empty() ? 0 : n->acked().back();
    EXPECT_GE(stored->size(), acked) << n->stream();
    EXPECT_LE(stored->size(), acked + n->unresolved()) << n->stream();
    lost += acked > stored->size() ? acked - stored->size() : 0;
    unresolved += n->unresolved();
    for (size_t i = 0; i < stored->size(); ++i) EXPECT_EQ((*stored)[i].stream_version, i + 1);
  }
  EXPECT_EQ((*log)->Head().seq, events);  // nothing but these streams: gap-free seqs
  auto verify = (*log)->Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok) << verify->first_bad_seq << ": " << verify->reason;
  EXPECT_EQ(verify->events_checked, events);
  MemoryStore refold;
  testing::CountingProjection counting;
  ASSERT_OK(FoldLog(**log, {&counting}, refold));
  const std::vector<std::string> families{std::string(testing::CountingProjection::kFamily)};
  EXPECT_EQ(*DigestFamilies(**log, families), *DigestFamilies(refold, families));
  std::sort(pauses.begin(), pauses.end());
  const double median = pauses.empty() ? 0 : pauses[pauses.size() / 2];
  std::printf("failover campaign: %llu kills, %llu steps acknowledged, %llu events in the log, %llu failed appends "
              "(retried), %llu outcomes left unknown (fail-stops), %llu acknowledged lost; pause from kill to the "
              "next acknowledged append: median %.2f s, max %.2f s\n",
              static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(acknowledged),
              static_cast<unsigned long long>(events), static_cast<unsigned long long>(failures),
              static_cast<unsigned long long>(unresolved), static_cast<unsigned long long>(lost), median,
              pauses.empty() ? 0.0 : pauses.back());
}

}  // namespace
}  // namespace marketsync::pglog
