// marketsyncd with its log on PostgreSQL (--store): the demo's sync end to end through the
// API, the log read back from the database by another process and verified, and the
// connection string's password in no line the server prints.

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <atomic>
#include <thread>
#include <filesystem>
#include <regex>

#include "pglog/pg_event_log.h"
#include "tools/emag-sim/simulator.h"
#include "projections/all.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/pg_server.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// Reads a starting marketsyncd's output until it says where it listens; every line into *printed.
std::string WaitListening(testing::ChildProcess& daemon, std::vector<std::string>* printed) {
  const std::regex listening(R"(listening on (http://127\.0\.0\.1:\d+))");
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::string url;
  while (url.empty() && std::chrono::steady_clock::now() < deadline && !daemon.Exited()) {
    for (auto& line : daemon.ReadLines(std::chrono::steady_clock::now() + 200ms)) {
      std::smatch m;
      if (std::regex_search(line, m, listening)) url = m[1];
      printed->push_back(std::move(line));
    }
  }
  return url;
}

TEST(MarketsyncdPostgresTest, TheDemoSyncsIntoPostgresAndTheLogVerifies) {
  if (auto why = testing::PgServer::Unavailable()) GTEST_SKIP() << *why;
  auto server = testing::PgServer::Start();
  ASSERT_OK(server);
  testing::TempDir dir;
  // The test server trusts loopback, so the password is never checked, only carried.
  const std::string store = (*server)->conninfo() + " password=hunter2-in-the-conninfo";
  std::vector<std::string> printed;
  std::string url;
  {
    testing::ChildProcess daemon(MARKETSYNCD, {"--demo", "--data", dir.Sub("unused"), "--store", store, "--listen",
                                               "127.0.0.1:0"});
    url = WaitListening(daemon, &printed);
    ASSERT_FALSE(url.empty()) << "marketsyncd did not start";
    httplib::Client client(url);
    client.set_read_timeout(60, 0);
    auto sync = client.Post("/api/v1/emag/products/sync", R"({"account_type":"both","run_async":false})",
                            "application/json");
    ASSERT_TRUE(sync);
    ASSERT_EQ(sync->status, 200) << sync->body;
    EXPECT_EQ(json::parse(sync->body).as_object().at("status"), "completed") << sync->body;
    auto history = client.Get("/api/v1/emag/products/history");
    ASSERT_TRUE(history);
    EXPECT_EQ(json::parse(history->body).at("data").at("count").as_int64(), 2) << history->body;
    daemon.Kill();
    daemon.Wait();
    for (auto& line : daemon.DrainLines()) printed.push_back(std::move(line));
  }
  for (const std::string& line : printed) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("unused")));  // nothing went to RocksDB
  // Another process (an auditor) reads the log from the database.
  auto log = pglog::OpenPgEventLog((*server)->conninfo(), SyncLogOptions(EventLogOptions::Mode::kReadOnly));
  ASSERT_OK(log);
  EXPECT_GT((*log)->Head().seq, 10u);
  auto verify = (*log)->Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok) << verify->first_bad_seq << ": " << verify->reason;
  // Every projection folded in the append's transactions equals a refold of the log.
  auto projections = VerifyProjections(**log);
  ASSERT_OK(projections);
  EXPECT_FALSE(projections->empty());
  for (const ProjectionCheck& check : *projections) {
    EXPECT_TRUE(check.ok()) << check.name << ": " << check.live_digest << " vs " << check.rebuilt_digest;
    EXPECT_EQ(check.checkpoint, (*log)->Head().seq) << check.name;
  }
}

// Two marketsyncd nodes on one database, one eMAG simulator: 200 starts for one account, spread
// over both nodes at once, make exactly one run (the lease is a row both nodes' appends check in
// their transactions); the others are told the account is busy.
TEST(MarketsyncdPostgresTest, TwoHundredStartsAcrossTwoNodesMakeOneRun) {
  if (auto why = testing::PgServer::Unavailable()) GTEST_SKIP() << *why;
  auto server = testing::PgServer::Start();
  ASSERT_OK(server);
  sim::SimulatorOptions so;
  so.accounts = {sim::DemoAccount("main")};
  so.offers = 300;
  so.latency_ms = 200;  // the run lasts while the starts arrive
  so.log_requests = false;
  auto simulator = sim::Simulator::Start(so, "127.0.0.1", 0);
  ASSERT_OK(simulator);
  ::setenv("EMAG_ACCOUNTS", "main", 1);
  ::setenv("EMAG_MAIN_USERNAME", "demo-main", 1);
  ::setenv("EMAG_MAIN_PASSWORD", "demo-main-secret", 1);
  ::setenv("EMAG_MAIN_BASE_URL", (*simulator)->BaseUrl().c_str(), 1);
  testing::TempDir dir;
  std::vector<std::unique_ptr<testing::ChildProcess>> nodes;
  std::vector<std::string> urls, printed;
  for (int i = 0; i < 2; ++i) {
    nodes.push_back(std::make_unique<testing::ChildProcess>(
        MARKETSYNCD, std::vector<std::string>{"--data", dir.Sub("unused-" + std::to_string(i)), "--store",
                                              (*server)->conninfo(), "--listen", "127.0.0.1:0"}));
    urls.push_back(WaitListening(*nodes.back(), &printed));
    ASSERT_FALSE(urls.back().empty()) << "node " << i << " did not start";
  }
  std::atomic<int> accepted{0}, busy{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 20; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client(urls[static_cast<size_t>(t % 2)]);
      for (int i = 0; i < 10; ++i) {
        auto r = client.Post("/api/v1/emag/products/sync", R"({"account_type":"main"})", "application/json");
        if (r && r->status == 202) {
          ++accepted;
        } else if (r && r->status == 409 && r->body.find("account_busy") != std::string::npos) {
          ++busy;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(busy.load(), 199);
  EXPECT_EQ(other.load(), 0);
  // The one run ends, and both nodes' histories show it alone.
  httplib::Client client(urls[1]);
  std::string body;
  for (int i = 0; i < 600; ++i) {
    auto h = client.Get("/api/v1/emag/products/history");
    ASSERT_TRUE(h);
    body = h->body;
    if (body.find("\"completed\"") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(json::parse(body).at("data").at("count").as_int64(), 1) << body;
  EXPECT_NE(body.find("\"completed\""), std::string::npos) << body;
  for (auto& n : nodes) n->Kill();
}

}  // namespace
}  // namespace marketsync
