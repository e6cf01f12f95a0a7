// marketsyncd with its log on PostgreSQL (--store): the demo's sync end to end through the
// API, the log read back from the database by another process and verified, and the
// connection string's password in no line the server prints.

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <atomic>
#include <thread>
#include <filesystem>
#include <csignal>

#include "pglog/pg_event_log.h"
#include "tools/emag-sim/simulator.h"
#include "projections/all.h"
#include "schema/event_type.h"
#include "schema/payload_codec.h"
#include "schema/sync_events.h"
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
    url = testing::WaitForListening(daemon, &printed);
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

// Two marketsyncd nodes, node-a and node-b, on one PostgreSQL server, both syncing account
// "main" of one simulator.
class TwoNodesTest : public ::testing::Test {
 protected:
  void StartNodes(uint32_t offers, uint32_t latency_ms, const std::vector<std::string>& flags = {}) {
    if (auto why = testing::PgServer::Unavailable()) GTEST_SKIP() << *why;
    auto server = testing::PgServer::Start();
    ASSERT_OK(server);
    server_ = std::move(server).value();
    sim::SimulatorOptions so;
    so.accounts = {sim::DemoAccount("main")};
    so.offers = offers;
    so.latency_ms = latency_ms;
    so.log_requests = false;
    auto simulator = sim::Simulator::Start(so, "127.0.0.1", 0);
    ASSERT_OK(simulator);
    simulator_ = std::move(simulator).value();
    ::setenv("EMAG_ACCOUNTS", "main", 1);
    ::setenv("EMAG_MAIN_USERNAME", "demo-main", 1);
    ::setenv("EMAG_MAIN_PASSWORD", "demo-main-secret", 1);
    ::setenv("EMAG_MAIN_BASE_URL", simulator_->BaseUrl().c_str(), 1);
    for (const char* name : {"node-a", "node-b"}) {
      std::vector<std::string> args{"--data", dir.Sub(name), "--store", server_->conninfo(), "--listen", "127.0.0.1:0",
                                    "--node-id", name};
      args.insert(args.end(), flags.begin(), flags.end());
      nodes.push_back(std::make_unique<testing::ChildProcess>(MARKETSYNCD, args));
      urls.push_back(testing::WaitForListening(*nodes.back(), &printed));
      ASSERT_FALSE(urls.back().empty()) << name << " did not start";
    }
  }

  // The pages a run stream's PageCommitted events name, in log order.
  static std::vector<uint32_t> Pages(const EventLog& log, const std::string& stream) {
    std::vector<uint32_t> out;
    auto events = log.ReadStream(stream);
    EXPECT_OK(events);
    if (!events.ok()) return out;
    for (const Envelope& e : *events) {
      if (e.type != static_cast<uint16_t>(EventType::kPageCommitted)) continue;
      out.push_back(DecodePayload<PageCommitted>(e.payload_version, e.payload)->page);
    }
    return out;
  }
  // The first run's stream once it has committed `pages` pages (empty after 15 s without).
  static std::string RunAfterPages(const EventLog& log, size_t pages) {
    std::string stream;
    for (int i = 0; i < 300 && (stream.empty() || Pages(log, stream).size() < pages); ++i) {
      if (stream.empty()) {
        auto ids = log.StreamIds("run-");
        if (ids.ok() && !ids->empty()) stream = ids->front();
      }
      std::this_thread::sleep_for(50ms);
    }
    return Pages(log, stream).size() >= pages ? stream : "";
  }
  // The history a node serves once a run completed there (or after 60 s, as it is).
  static std::string HistoryOnceCompleted(httplib::Client& node) {
    std::string body;
    for (int i = 0; i < 600; ++i) {
      auto h = node.Get("/api/v1/emag/products/history");
      if (h) body = h->body;
      if (body.find("\"completed\"") != std::string::npos) break;
      std::this_thread::sleep_for(100ms);
    }
    return body;
  }
  // The run's SyncInterrupted reasons, its SyncResumed and terminal events.
  struct Attempts {
    std::vector<std::string> interrupted;
    int resumed = 0, completed = 0;
    bool ends_completed = false;
  };
  static Attempts AttemptsOf(const EventLog& log, const std::string& stream) {
    Attempts out;
    auto events = log.ReadStream(stream);
    EXPECT_OK(events);
    if (!events.ok() || events->empty()) return out;
    for (const Envelope& e : *events) {
      if (e.type == static_cast<uint16_t>(EventType::kSyncInterrupted)) {
        out.interrupted.push_back(DecodePayload<SyncInterrupted>(e.payload_version, e.payload)->reason);
      }
      if (e.type == static_cast<uint16_t>(EventType::kSyncResumed)) ++out.resumed;
      if (e.type == static_cast<uint16_t>(EventType::kSyncCompleted)) ++out.completed;
    }
    out.ends_completed = events->back().type == static_cast<uint16_t>(EventType::kSyncCompleted);
    return out;
  }
  static std::vector<uint32_t> OneToThirteen() {
    std::vector<uint32_t> want(13);
    for (uint32_t p = 0; p < 13; ++p) want[p] = p + 1;
    return want;
  }

  // Starts "main" on node-a and opens log_ (read-only); the run's stream once it has committed
  // `pages` pages, or "" when it did not get going.
  std::string StartRunOnNodeA(size_t pages) {
    httplib::Client a(urls[0]);
    auto started = a.Post("/api/v1/emag/products/sync", R"({"account_type":"main"})", "application/json");
    EXPECT_TRUE(started && started->status == 202) << (started ? started->body : "no answer");
    auto log = pglog::OpenPgEventLog(server_->conninfo(), SyncLogOptions(EventLogOptions::Mode::kReadOnly));
    EXPECT_OK(log);
    if (!log.ok()) return "";
    log_ = std::move(log).value();
    return RunAfterPages(*log_, pages);
  }

  std::unique_ptr<testing::PgServer> server_;
  std::unique_ptr<sim::Simulator> simulator_;
  testing::TempDir dir;
  std::vector<std::unique_ptr<testing::ChildProcess>> nodes;
  std::vector<std::string> urls, printed;
  std::unique_ptr<EventLog> log_;
};

// Two marketsyncd nodes on one database, one eMAG simulator: 200 starts for one account, spread
// over both nodes at once, make exactly one run (the lease is a row both nodes' appends check in
// their transactions); the others are told the account is busy.
TEST_F(TwoNodesTest, TwoHundredStartsAcrossTwoNodesMakeOneRun) {
  StartNodes(300, 200);  // the run lasts while the starts arrive
  if (IsSkipped() || HasFatalFailure()) return;
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

// A node that stops mid-run (SIGSTOP: as dead, and then worse, as alive again): another node
// takes the run over once the stopped node's heartbeat is older than the lease ttl, resumes it
// as attempt 2 and completes it; the stopped node, continued, writes nothing more for it (its
// steps expect to own the run); every page of the run is committed once.
TEST_F(TwoNodesTest, AStoppedNodesRunIsResumedByAnotherAndFenced) {
  StartNodes(1275, 400, {"--lease-ttl", "2"});  // 13 pages at 3 requests a second, 400 ms each: ~5 s
  if (IsSkipped() || HasFatalFailure()) return;
  httplib::Client b(urls[1]);
  const std::string stream = StartRunOnNodeA(3);
  ASSERT_FALSE(stream.empty()) << "the run did not get going";
  ::kill(nodes[0]->pid(), SIGSTOP);  // node-a stops beating, mid-run
  const std::string body = HistoryOnceCompleted(b);  // node-b takes over after the 2 s ttl, completes it
  ::kill(nodes[0]->pid(), SIGCONT);  // node-a wakes with the run it was executing
  // It goes on with the run until its next step, which is refused: it expects node-a to own
  // the run (or, when node-a was stopped inside a group's transaction, the server has ended
  // that session meanwhile); the run stops there on node-a.
  const std::string stopped_line = "run " + stream.substr(4) + " stopped";
  bool fenced = false;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!fenced && std::chrono::steady_clock::now() < deadline) {
    for (const std::string& line : nodes[0]->ReadLines(std::chrono::steady_clock::now() + 200ms)) {
      if (line.find(stopped_line) != std::string::npos) fenced = true;
    }
  }
  for (auto& n : nodes) n->Kill();
  EXPECT_TRUE(fenced) << "node-a never tried to write for the run again";
  EXPECT_NE(body.find("\"completed\""), std::string::npos) << body;
  EXPECT_EQ(json::parse(body).at("data").at("count").as_int64(), 1) << body;
  EXPECT_EQ(Pages(*log_, stream), OneToThirteen()) << "each page once, in order";
  const Attempts attempts = AttemptsOf(*log_, stream);
  EXPECT_EQ(attempts.interrupted, std::vector<std::string>{"its node (node-a) stopped beating"});
  EXPECT_EQ(attempts.resumed, 1);
  EXPECT_EQ(attempts.completed, 1);
  EXPECT_TRUE(attempts.ends_completed) << "nothing after the end";
}

// A node killed -9 mid-run: its heartbeat stops, and once it is older than the lease ttl the
// other node takes the run over and completes it; the history shows one run with two attempts,
// every page committed once.
TEST_F(TwoNodesTest, AKilledNodesRunIsResumedByAnother) {
  StartNodes(1275, 400, {"--lease-ttl", "2"});
  if (IsSkipped() || HasFatalFailure()) return;
  httplib::Client b(urls[1]);
  const std::string stream = StartRunOnNodeA(3);
  ASSERT_FALSE(stream.empty()) << "the run did not get going";
  nodes[0]->Kill();  // SIGKILL: no clean stop, its heartbeat row stays until it expires
  nodes[0]->Wait();
  const std::string body = HistoryOnceCompleted(b);
  nodes[1]->Kill();
  EXPECT_NE(body.find("\"completed\""), std::string::npos) << body;
  EXPECT_EQ(json::parse(body).at("data").at("count").as_int64(), 1) << body;
  EXPECT_NE(body.find("\"attempt\":2"), std::string::npos) << body;
  EXPECT_EQ(Pages(*log_, stream), OneToThirteen()) << "each page once, in order";
  const Attempts attempts = AttemptsOf(*log_, stream);
  EXPECT_EQ(attempts.interrupted, std::vector<std::string>{"its node (node-a) stopped beating"});
  EXPECT_EQ(attempts.resumed, 1);
  EXPECT_EQ(attempts.completed, 1);
  EXPECT_TRUE(attempts.ends_completed);
}

// The server restarted under a node mid-run: the run's next write is refused while the server
// is down and the run stops there on node-a, which is alive and beating, so no other node may
// take it; node-a's own scan finds its run neither running nor starting and resumes it (attempt
// 2, from the last committed page); it completes with every page committed once.
TEST_F(TwoNodesTest, ARunStoppedByALostServerIsResumedByItsOwnNode) {
  StartNodes(1275, 400, {"--lease-ttl", "10"});  // a scan every 5 s; node-a's heartbeat outlives the outage
  if (IsSkipped() || HasFatalFailure()) return;
  httplib::Client a(urls[0]);
  const std::string stream = StartRunOnNodeA(3);
  ASSERT_FALSE(stream.empty()) << "the run did not get going";
  log_.reset();  // opened again once the server is back
  server_->Kill();
  std::this_thread::sleep_for(1500ms);  // pages keep arriving; their writes are refused
  ASSERT_OK(server_->Restart());
  const std::string body = HistoryOnceCompleted(a);
  for (auto& n : nodes) n->Kill();
  EXPECT_NE(body.find("\"completed\""), std::string::npos) << body;
  auto log = pglog::OpenPgEventLog(server_->conninfo(), SyncLogOptions(EventLogOptions::Mode::kReadOnly));
  ASSERT_OK(log);
  EXPECT_EQ(Pages(**log, stream), OneToThirteen()) << "each page once, in order";
  const Attempts attempts = AttemptsOf(**log, stream);
  EXPECT_EQ(attempts.interrupted, std::vector<std::string>{"it stopped on an error (a write the log refused)"});
  EXPECT_EQ(attempts.resumed, 1);
  EXPECT_EQ(attempts.completed, 1);
}

}  // namespace
}  // namespace marketsync
