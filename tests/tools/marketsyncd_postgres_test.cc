// marketsyncd with its log on PostgreSQL (--store): the demo's sync end to end through the
// API, the log read back from the database by another process and verified, and the
// connection string's password in no line the server prints.

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <filesystem>
#include <regex>

#include "pglog/pg_event_log.h"
#include "projections/all.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/pg_server.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

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
    const std::regex listening(R"(listening on (http://127\.0\.0\.1:\d+))");
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (url.empty() && std::chrono::steady_clock::now() < deadline && !daemon.Exited()) {
      for (auto& line : daemon.ReadLines(std::chrono::steady_clock::now() + 200ms)) {
        std::smatch m;
        if (std::regex_search(line, m, listening)) url = m[1];
        printed.push_back(std::move(line));
      }
    }
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

}  // namespace
}  // namespace marketsync
