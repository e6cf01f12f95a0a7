// A disk that fills up (ENOSPC injected under the log) while the server runs: the command whose
// write failed and every command after it answer 503 log_fail_stopped with the reason, /readyz
// turns 503, /metrics says so, queries keep answering; after a restart on a healthy disk
// everything acknowledged is there and the log verifies.

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <thread>

#include "http/metrics.h"
#include "http/server.h"
#include "projections/all.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/faulty_fs.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

const std::string kSync = "/api/v1/emag/products/sync";

json::object Json(const httplib::Result& r) {
  EXPECT_TRUE(r) << "no answer";
  if (!r) return {};
  boost::system::error_code ec;
  json::value v = json::parse(r->body, ec);
  EXPECT_FALSE(ec) << r->body;
  return v.is_object() ? v.as_object() : json::object{};
}

TEST(FailStopTest, AFullDiskStopsCommandsNotQueriesAndLosesNothingAcknowledged) {
  testing::TempDir dir;
  auto sim = sim::Simulator::Start(testing::QuietSimulator(150), "127.0.0.1", 0);
  ASSERT_OK(sim);
  auto fs = std::make_shared<testing::FaultyFs>();
  std::unique_ptr<rocksdb::Env> env = testing::EnvOver(fs);
  EventLogOptions lo = SyncLogOptions();
  lo.env_for_test = env.get();
  auto log = EventLog::Open(dir.Sub("db"), std::move(lo));
  ASSERT_OK(log);
  auto engine = SyncEngine::Create(**log, testing::EngineFor(**sim));
  ASSERT_OK(engine);
  ASSERT_OK((*engine)->Start());
  http::Metrics metrics;
  http::ServerOptions so;
  so.port = 0;
  auto server = http::Server::Create(**log, **engine, metrics, so);
  ASSERT_OK(server);
  ASSERT_OK((*server)->Start());
  httplib::Client c("127.0.0.1", (*server)->port());
  c.set_read_timeout(30, 0);

  // One run acknowledged and finished on a healthy disk.
  auto first = c.Post(kSync, R"({"account_type":"main","include_inactive":true})", "application/json");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202) << first->body;
  const std::string run_id(Json(first)["sync_id"].as_string());
  ASSERT_OK((*engine)->WaitForRun(run_id, 30s));

  fs->fault = testing::FaultyFs::Fault::kNoSpace;
  for (int i = 0; i < 2; ++i) {  // the command whose write failed, then one refused up front
    auto r = c.Post(kSync, R"({"account_type":"fbe"})", "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 503) << r->body;
    json::object body = Json(r);
    EXPECT_EQ(body["error"].as_object()["code"], "log_fail_stopped") << r->body;
    EXPECT_NE(std::string(body["detail"].as_string()).find("fail-stopped"), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("no space left on device"), std::string::npos) << r->body;
  }
  auto cancel = c.Delete((kSync + "/" + run_id).c_str());
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 503) << cancel->body;
  auto ready = c.Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_EQ(Json(ready)["error"].as_object()["code"], "log_fail_stopped");
  EXPECT_EQ(c.Get("/healthz")->status, 200);  // alive, just not writing
  auto m = c.Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_NE(m->body.find("\nmarketsync_log_fail_stopped 1\n"), std::string::npos) << m->body;
  auto history = c.Get("/api/v1/emag/products/history");
  ASSERT_TRUE(history);
  EXPECT_EQ(history->status, 200);
  EXPECT_NE(history->body.find(run_id), std::string::npos);

  (*server)->Stop();
  (*engine)->Shutdown();
  engine->reset();
  log->reset();

  // Restarted with space: the acknowledged run is there, the refused ones are not.
  fs->fault = testing::FaultyFs::Fault::kNone;
  auto reopened = testing::OpenEngineLog(dir.Sub("db"));
  ASSERT_OK(reopened);
  auto report = (*reopened)->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok) << report->reason;
  auto runs = (*reopened)->ReadStream(RunStreamId(run_id));
  ASSERT_OK(runs);
  RunRecord r;
  for (const auto& e : *runs) ASSERT_OK(ApplyRunEvent(r, e));
  EXPECT_EQ(r.status, kRunCompleted);
  size_t requested = 0;
  for (auto it = (*reopened)->Read(1); it->Valid(); it->Next()) {
    requested += it->envelope().type == static_cast<uint16_t>(EventType::kSyncRequested) ? 1 : 0;
  }
  EXPECT_EQ(requested, 1u);
  auto checks = VerifyProjections(**reopened);
  ASSERT_OK(checks);
  for (const auto& check : *checks) EXPECT_TRUE(check.ok()) << check.name;
}

}  // namespace
}  // namespace marketsync
