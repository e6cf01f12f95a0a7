// Many accounts on one node (issue 16): 200 accounts added through the HTTP API, synced together
// against the simulator with eMAG's limits while both cores are kept busy. Every run completes,
// no account is ever answered 429 (its own limit was never exceeded at the simulator), every
// account asked only for what it needed, and the process's threads stay within a bound set by
// the engine's configuration, not by the number of accounts.

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <boost/json.hpp>
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
constexpr uint32_t kRunsInFlight = 16;
constexpr uint32_t kWindow = 4;

int ThreadsNow() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("Threads:")) return std::stoi(line.substr(8));
  }
  return -1;
}

std::string Name(int i) { return "acct-" + std::to_string(1000 + i); }

TEST(ManyAccountsTest, TwoHundredAccountsSyncTogetherWithinEmagsLimits) {
  sim::SimulatorOptions so = testing::QuietSimulator(kOffers);
  so.accounts.clear();
  for (int i = 0; i < kAccounts; ++i) so.accounts.push_back(sim::DemoAccount(Name(i)));
  so.rate_limit = true;  // 3 a second, 180 a minute, per account: 429 past that
  so.latency_ms = 100;
  so.threads = 512;      // a connection per worker: enough for every connection the engine opens
  auto sim = sim::Simulator::Start(so, "127.0.0.1", 0);
  ASSERT_OK(sim);

  testing::TempDir dir;
  auto log = testing::OpenEngineLog(dir.Sub("db"));
  ASSERT_OK(log);
  EngineOptions eo;  // no accounts from the environment: all of them come through the API
  eo.secret_key = *SecretKey::Generate();
  eo.max_runs_in_flight = kRunsInFlight;
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
  // Both cores busy the whole time.
  std::atomic<bool> stop{false};
  std::vector<std::thread> burners;
  for (int i = 0; i < 2; ++i) {
    burners.emplace_back([&] {
      volatile uint64_t x = 0;
      while (!stop) x = x + 1;
    });
  }
  int threads_peak = 0;
  std::atomic<int> threads_before{0};
  std::thread sampler([&] {
    threads_before = ThreadsNow();  // the simulator's, the server's and the engine's pool, the burners, this
    while (!stop) {
      threads_peak = std::max(threads_peak, ThreadsNow());
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
    EXPECT_EQ(stats->requests, 3u) << Name(i) << " asked for more than its count and two pages";
  }
  // Each run adds at most its count, its page window and its step writer to the engine's pool of
  // run workers; accounts add none.
  const int bound = threads_before + static_cast<int>(kRunsInFlight * (kWindow + 2));
  EXPECT_LE(threads_peak, bound) << "threads before " << threads_before.load();
  std::printf("%d accounts: %llu requests, %llu answered 429; threads %d before, %d at the peak (bound %d)\n",
              kAccounts, static_cast<unsigned long long>(requests), static_cast<unsigned long long>(rate_limited),
              threads_before.load(), threads_peak, bound);
  (*server)->Stop();
  (*engine)->Shutdown();
}

}  // namespace
}  // namespace marketsync
