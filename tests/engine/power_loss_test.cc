// The power-loss campaign (docs/RELIABILITY.md §1): real syncs of three accounts against the
// simulator (with server errors, cancels and drift), the log on PowerLossFs, and the power cut
// at a random moment — while runs page, while start-up recovery resumes them, or while nothing
// happens. What the cut kept (synced bytes only, unsynced names undone, sometimes a torn tail) is
// reopened and must hold: every start and cancel that was answered; a gap-free seq whose chain
// verifies; projections equal to a refold; no run showing less progress than was reported before
// the cut; after recovery, every run ends. At the end one clean sync makes each mirror equal what
// the simulator serves.
//
// MARKETSYNC_POWER_CUTS (default 100) and MARKETSYNC_POWER_SEED (default fixed) set the
// campaign; `make power-loss` runs the long one. A failure prints the seed and the cut.

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "projections/all.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/faulty_fs.h"
#include "tests/testutil/power_loss_fs.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kAccounts = {"main", "fbe", "extra"};

uint64_t EnvNumber(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

// What was answered before a cut, and what was shown.
struct Acknowledged {
  std::mutex mu;
  std::set<std::string> starts;                // run ids
  std::set<std::string> cancels;               // runs whose cancel was answered "requested"
  std::map<std::string, uint32_t> progress;    // run id -> most pages GetRun showed
  std::vector<std::string> recent;             // runs to cancel and watch
};

// Starts, cancels and watches runs until told to stop (the cut makes every command fail).
class Driver {
 public:
  Driver(SyncEngine& engine, Acknowledged& ack, uint64_t seed) : engine_(engine), ack_(ack), rng_(seed) {
    commands_ = std::thread([this] { Commands(); });
    watcher_ = std::thread([this] { Watch(); });
  }
  ~Driver() { Stop(); }
  void Stop() {
    stop_ = true;
    if (commands_.joinable()) commands_.join();
    if (watcher_.joinable()) watcher_.join();
  }

 private:
  void Commands() {
    while (!stop_) {
      const uint32_t dice = rng_() % 10;
      if (dice < 6) {
        StartSyncRequest r = testing::FullSync(dice == 0 ? "both" : kAccounts[rng_() % kAccounts.size()],
                                               static_cast<uint32_t>(10 + rng_() % 51));
        r.include_inactive = rng_() % 2 == 0;
        r.triggered_by = "power-loss-test";
        auto started = engine_.StartSync(r);
        if (started.ok()) {
          std::lock_guard lk(ack_.mu);
          for (const auto& run : started->runs) {
            ack_.starts.insert(run.run_id);
            ack_.recent.push_back(run.run_id);
          }
        }
      } else if (dice < 7) {
        std::string id;
        {
          std::lock_guard lk(ack_.mu);
          const size_t n = std::min<size_t>(ack_.recent.size(), 3);  // the latest runs: likely still running
          if (n > 0) id = ack_.recent[ack_.recent.size() - 1 - rng_() % n];
        }
        auto cancelled = id.empty() ? Result<CancelResult>(Status::NotFound("")) : engine_.CancelSync(id, "power-loss-test");
        if (cancelled.ok() && cancelled->outcome == CancelResult::Outcome::kRequested) {
          std::lock_guard lk(ack_.mu);
          ack_.cancels.insert(id);
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(rng_() % 15));
    }
  }

  void Watch() {
    while (!stop_) {
      std::vector<std::string> ids;
      {
        std::lock_guard lk(ack_.mu);
        const size_t from = ack_.recent.size() > 12 ? ack_.recent.size() - 12 : 0;
        ids.assign(ack_.recent.begin() + static_cast<std::ptrdiff_t>(from), ack_.recent.end());
      }
      for (const auto& id : ids) {
        auto r = engine_.GetRun(id);
        if (!r.ok()) continue;
        std::lock_guard lk(ack_.mu);
        uint32_t& seen = ack_.progress[id];
        seen = std::max(seen, r->pages_processed);
      }
      std::this_thread::sleep_for(2ms);
    }
  }

  SyncEngine& engine_;
  Acknowledged& ack_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  std::thread commands_;
  std::thread watcher_;
};

// Every run the log holds, folded.
std::map<std::string, RunRecord> Runs(const EventLog& log) {
  std::map<std::string, RunRecord> runs;
  for (auto it = log.Read(1); it->Valid(); it->Next()) {
    const Envelope& e = it->envelope();
    if (!e.stream_id.starts_with("run-")) continue;
    EXPECT_OK(ApplyRunEvent(runs[e.stream_id.substr(4)], e));
  }
  return runs;
}

// What a reopened log must hold after a cut.
void CheckSurvivors(const EventLog& log, Acknowledged& ack, bool refold) {
  auto report = log.Verify();
  ASSERT_OK(report);
  ASSERT_TRUE(report->ok) << "seq " << report->first_bad_seq << ": " << report->reason;
  ASSERT_EQ(report->events_checked, log.Head().seq) << "the seq has a gap";
  const std::map<std::string, RunRecord> runs = Runs(log);
  std::lock_guard lk(ack.mu);
  for (const auto& id : ack.starts) EXPECT_TRUE(runs.contains(id)) << "answered start " << id << " is gone";
  for (const auto& id : ack.cancels) {
    auto events = log.ReadStream(RunStreamId(id));
    ASSERT_OK(events);
    bool found = false;
    for (const auto& e : *events) found |= e.type == static_cast<uint16_t>(EventType::kSyncCancelRequested);
    EXPECT_TRUE(found) << "answered cancel of " << id << " is gone";
  }
  for (const auto& [id, pages] : ack.progress) {
    auto it = runs.find(id);
    ASSERT_NE(it, runs.end()) << id;
    EXPECT_GE(it->second.pages_processed, pages) << "run " << id << " showed " << pages << " pages before the cut";
  }
  if (!refold) return;
  auto checks = VerifyProjections(log);
  ASSERT_OK(checks);
  for (const auto& c : *checks) {
    EXPECT_TRUE(c.ok()) << c.name << " differs at " << (c.first_difference ? PrintableKey(c.first_difference->key) : "?");
  }
}

// Every run left open by the cut ends after recovery.
void CheckEveryRunEnds(const EventLog& log, SyncEngine& engine) {
  for (const auto& [id, record] : Runs(log)) {
    if (record.terminal()) continue;
    auto r = engine.WaitForRun(id, 60s);
    ASSERT_OK(r);
    EXPECT_TRUE(r->terminal()) << "run " << id << " is still " << r->status << " after recovery";
  }
}

TEST(PowerLossTest, ACutLosesNothingAnsweredAndEveryRunEnds) {
  spdlog::set_level(spdlog::level::warn);
  const uint64_t seed = EnvNumber("MARKETSYNC_POWER_SEED", 20261202);
  const uint64_t cuts = EnvNumber("MARKETSYNC_POWER_CUTS", 100);
  testing::TempDir dir;
  const std::string db = dir.Sub("db");
  sim::SimulatorOptions so = testing::QuietSimulator(240);
  so.accounts.push_back(sim::DemoAccount("extra"));
  so.latency_ms = 2;
  so.jitter_ms = 6;
  auto sim = sim::Simulator::Start(so, "127.0.0.1", 0);
  ASSERT_OK(sim);
  ASSERT_OK((*sim)->SetFaults(R"({"rules":[{"probability":0.02,"fault":"http_500"}]})"));
  EngineOptions eo = testing::EngineFor(**sim, kAccounts);
  std::mt19937_64 rng(seed);
  Acknowledged ack;
  uint64_t during_recovery = 0, torn_cuts = 0, files_changed = 0;

  for (uint64_t cut = 0; cut < cuts; ++cut) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed << ", cut " << cut
                                      << " (rerun: MARKETSYNC_POWER_SEED=" << seed << ")");
    if (cut % 7 == 6) ASSERT_OK((*sim)->Tick(kAccounts[cut % kAccounts.size()]));
    auto fs = std::make_shared<testing::PowerLossFs>(db);
    std::unique_ptr<rocksdb::Env> env = testing::EnvOver(fs);
    EventLogOptions lo = SyncLogOptions();
    lo.env_for_test = env.get();
    auto log = EventLog::Open(db, std::move(lo));
    ASSERT_OK(log);
    CheckSurvivors(**log, ack, cut % 10 == 0);
    if (::testing::Test::HasFailure()) return;
    auto engine = SyncEngine::Create(**log, eo);
    ASSERT_OK(engine);
    ASSERT_OK((*engine)->Start());
    const bool cut_in_recovery = rng() % 4 == 0;
    during_recovery += cut_in_recovery ? 1 : 0;
    {
      std::unique_ptr<Driver> driver;
      if (!cut_in_recovery) {
        CheckEveryRunEnds(**log, **engine);
        driver = std::make_unique<Driver>(**engine, ack, rng());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(cut_in_recovery ? rng() % 40 : 10 + rng() % 240));
      fs->Cut();
      if (driver) driver->Stop();
    }
    (*engine)->Shutdown();
    engine->reset();
    log->reset();
    env.reset();
    const bool torn = rng() % 2 == 0;
    torn_cuts += torn ? 1 : 0;
    const std::string changed = fs->Restore(rng, torn);
    files_changed += static_cast<uint64_t>(std::count(changed.begin(), changed.end(), '\n'));
    fs.reset();
    if ((cut + 1) % 100 == 0 && cut + 1 < cuts) {
      std::printf("  %llu cuts, %zu starts answered, nothing lost so far\n", static_cast<unsigned long long>(cut + 1),
                  ack.starts.size());
      std::fflush(stdout);
    }
  }

  // Power stays on: recover, end every run, one clean sync of every account.
  ASSERT_OK((*sim)->SetFaults(R"({"rules":[]})"));
  auto log = testing::OpenEngineLog(db);
  ASSERT_OK(log);
  CheckSurvivors(**log, ack, true);
  auto engine = SyncEngine::Create(**log, eo);
  ASSERT_OK(engine);
  ASSERT_OK((*engine)->Start());
  CheckEveryRunEnds(**log, **engine);
  for (const auto& account : kAccounts) {
    for (const auto& id : testing::SyncToEnd(**engine, testing::FullSync(account))) {
      auto r = (*engine)->GetRun(id);
      ASSERT_OK(r);
      EXPECT_EQ(r->status, kRunCompleted);
    }
    EXPECT_EQ(testing::MirroredProducts(**log, account), testing::ServedProducts(**sim, account)) << account;
  }
  (*engine)->Shutdown();
  CheckSurvivors(**log, ack, true);
  uint64_t resumed = 0;
  for (auto it = (*log)->Read(1); it->Valid(); it->Next()) {
    resumed += it->envelope().type == static_cast<uint16_t>(EventType::kSyncResumed) ? 1 : 0;
  }
  EXPECT_GT(resumed, 0u);  // the cuts landed inside runs
  std::printf("power-loss campaign: seed %llu, %llu cuts (%llu during recovery, %llu with torn tails), "
              "%llu files cut back, %zu starts and %zu cancels answered, %llu resumptions, %llu events: "
              "nothing answered was lost\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(cuts),
              static_cast<unsigned long long>(during_recovery), static_cast<unsigned long long>(torn_cuts),
              static_cast<unsigned long long>(files_changed), ack.starts.size(), ack.cancels.size(),
              static_cast<unsigned long long>(resumed), static_cast<unsigned long long>((*log)->Head().seq));
}

}  // namespace
}  // namespace marketsync
