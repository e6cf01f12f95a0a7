// Many accounts on one node (issue 16): 200 accounts added through the HTTP API, synced together
// against the simulator with eMAG's limits while both cores are kept busy. Every run completes,
// no account is ever answered 429 (its own limit was never exceeded at the simulator), no account
// asked past the bound before its count answered, and the process's threads do not grow with
// the runs: all 200 run at once as coroutines on the engine's few threads.

#include <gtest/gtest.h>
#include <httplib.h>
#include <sched.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "http/metrics.h"
#include "http/server.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

constexpr int kAccounts = 200;
constexpr uint32_t kOffers = 150;       // a count and two pages of 100
constexpr uint32_t kWindow = 4;

// The threads of the engine, the server and RocksDB: named "ms-…" and "rocksdb:…". Not the
// simulator's (it runs in this process and grows a worker per connection, as a server facing
// many clients does; a newborn one still carries the process's name), the burners or gtest's.
int ThreadsNow(std::string* names = nullptr) {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (!name.starts_with("ms-") && !name.starts_with("rocksdb")) continue;
    ++n;
    if (names != nullptr) *names += name + " ";
  }
  return n;
}

std::string Name(int i) { return "acct-" + std::to_string(1000 + i); }

TEST(ManyAccountsTest, TwoHundredAccountsSyncTogetherWithinEmagsLimits) {
  sim::SimulatorOptions so = testing::QuietSimulator(kOffers);
  so.accounts.clear();
  for (int i = 0; i < kAccounts; ++i) so.accounts.push_back(sim::DemoAccount(Name(i)));
  so.rate_limit = true;  // 3 a second, 180 a minute, per account: 429 past that
  so.latency_ms = 100;
  auto sim = sim::Simulator::Start(so, "127.0.0.1", 0);
  ASSERT_OK(sim);

  testing::TempDir dir;
  auto log = testing::OpenEngineLog(dir.Sub("db"));
  ASSERT_OK(log);
  EngineOptions eo;  // no accounts from the environment: all of them come through the API
  eo.secret_key = *SecretKey::Generate();
  eo.max_runs_in_flight = kAccounts;  // all at once
  eo.page_window = kWindow;
  eo.client.retry.base = 50ms;
  auto engine = SyncEngine::Create(**log, eo);
  ASSERT_OK(engine);
  ASSERT_OK((*engine)->Start());
  http::Metrics metrics;
  http::ServerOptions hs;
  hs.port = 0;
  hs.operator_token = "op";
  auto server = http::Server::Create(**log, **engine, metrics, hs);
  ASSERT_OK(server);
  ASSERT_OK((*server)->Start());
  httplib::Client api("127.0.0.1", (*server)->port());
  api.set_bearer_token_auth("op");
  for (int i = 0; i < kAccounts; ++i) {
    const std::string body = boost::json::serialize(boost::json::object{
        {"name", Name(i)}, {"username", "demo-" + Name(i)}, {"password", "demo-" + Name(i) + "-secret"},
        {"base_url", (*sim)->BaseUrl()}});
    auto r = api.Post("/api/v1/accounts", body, "application/json");
    ASSERT_TRUE(r && r->status == 201) << Name(i) << ": " << (r ? r->body : httplib::to_string(r.error()));
  }
  // Both cores busy the whole time, with work that yields to anything else runnable
  // (SCHED_IDLE): at normal priority the burners starve the in-process simulator too, whose
  // clock then sees requests sent a second apart arrive together; eMAG's is not on this machine.
  std::atomic<bool> stop{false};
  std::vector<std::thread> burners;
  for (int i = 0; i < 2; ++i) {
    burners.emplace_back([&] {
      sched_param idle{};
      ::sched_setscheduler(0, SCHED_IDLE, &idle);  // this thread only (Linux)
      volatile uint64_t x = 0;
      while (!stop) x = x + 1;
    });
  }
  int threads_peak = 0;
  std::string peak_names;
  std::atomic<int> threads_before{0};
  std::thread sampler([&] {
    threads_before = ThreadsNow();  // the server's, the engine's pool and writer, RocksDB's
    while (!stop) {
      std::string names;
      const int now = ThreadsNow(&names);
      if (now > threads_peak) {
        threads_peak = now;
        peak_names = names;
      }
      std::this_thread::sleep_for(20ms);
    }
  });

  auto started = api.Post("/api/v1/emag/products/sync", R"({"account_type":"both","include_inactive":true})",
                          "application/json");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202) << started->body;
  const auto runs = boost::json::parse(started->body).as_object().at("runs").as_array();
  ASSERT_EQ(runs.size(), static_cast<size_t>(kAccounts));
  for (const auto& run : runs) {
    auto r = (*engine)->WaitForRun(std::string(run.as_object().at("sync_id").as_string()), 300s);
    ASSERT_OK(r);
    EXPECT_EQ(r->status, kRunCompleted) << r->account_type << ": " << r->error_message;
  }
  stop = true;
  for (auto& t : burners) t.join();
  sampler.join();

  uint64_t rate_limited = 0, requests = 0;
  for (int i = 0; i < kAccounts; ++i) {
    auto stats = (*sim)->Stats(Name(i));
    ASSERT_OK(stats);
    rate_limited += stats->rate_limited;
    requests += stats->requests;
    EXPECT_EQ(stats->rate_limited, 0u) << Name(i) << " was answered 429";
    // Its count and two pages; before the count answers a first sync may have asked for pages up
    // to its window (a busy machine can keep the answer from the engine for a second or more).
    EXPECT_GE(stats->requests, 3u) << Name(i);
    EXPECT_LE(stats->requests, 1u + kWindow) << Name(i) << " asked past its window before the count";
  }
  // Runs, requests in flight and accounts add no thread: the IoPool and the step writer are
  // there before. Slack of 4 for threads RocksDB starts on first use (flush, compaction, its
  // timer) and Asio's resolver.
  const int bound = threads_before + 4;
  EXPECT_LE(threads_peak, bound) << "threads before " << threads_before.load() << "; at the peak: " << peak_names;
  std::printf("%d accounts: %llu requests (%d needed), %llu answered 429; threads %d before, %d at the peak (bound %d)\n",
              kAccounts, static_cast<unsigned long long>(requests), 3 * kAccounts,
              static_cast<unsigned long long>(rate_limited),
              threads_before.load(), threads_peak, bound);
  (*server)->Stop();
  (*engine)->Shutdown();
}

}  // namespace
}  // namespace marketsync
