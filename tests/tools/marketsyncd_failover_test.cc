// The failover campaign with marketsyncd nodes (issue 17): two nodes on the replicated log
// (tools/pg-cluster: Patroni, a synchronous standby, strict mode), syncs of two accounts
// started through both nodes' APIs with Idempotency-Keys, the primary PostgreSQL killed with
// SIGKILL at random moments while they run. A client whose answer was lost (no answer, or a
// 5xx) sends the same command again with the same key, as the API asks; an acknowledged key is
// sometimes replayed on the other node. Afterwards: every run in the log was acknowledged to a
// client and every acknowledged run is in the log (no run lost, none made twice for one key),
// every run ended, each run's pages were committed once each, in order (a run is never written
// by two nodes at once), seqs are gap-free, the chain verifies and every projection equals a
// refold. Every second cycle also kills a node with SIGKILL mid-run and starts it again 6 s
// later (past the 4 s ttl: the other node may have taken its runs over). make test runs
// MARKETSYNC_FAILOVER_CYCLES or 5 cycles; `make failover` runs FAILOVER_CYCLES.

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "pglog/pg_event_log.h"
#include "projections/all.h"
#include "projections/history.h"
#include "schema/event_type.h"
#include "schema/payload_codec.h"
#include "schema/sync_events.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/pg_cluster.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// A marketsyncd node whose output a thread of its own keeps reading (a full pipe would stop it).
class NodeProcess {
 public:
  NodeProcess(const std::vector<std::string>& args) : process_(MARKETSYNCD, args) {
    url_ = testing::WaitForListening(process_, &printed_);
    reader_ = std::thread([this] {
      while (!stop_ && !process_.Exited()) (void)process_.ReadLines(std::chrono::steady_clock::now() + 200ms);
    });
  }
  ~NodeProcess() { Stop(); }
  void Stop() {
    stop_ = true;
    if (reader_.joinable()) reader_.join();
    process_.Kill();
    process_.Wait();
  }
  const std::string& url() const { return url_; }

 private:
  testing::ChildProcess process_;
  std::vector<std::string> printed_;
  std::string url_;
  std::atomic<bool> stop_{false};
  std::thread reader_;
};

// What the clients were told.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> run_of_key;  // acknowledged Idempotency-Key -> its run
  std::set<std::string> runs;                     // every run acknowledged
  uint64_t busy = 0, retried = 0, replays = 0, replay_mismatches = 0, gave_up = 0;
};

// Sends one start with `key` to `node` until a clear answer: 202 (a run, recorded) or 409
// (the account is busy: no run). A lost answer or a 5xx is sent again, same key.
void StartWithKey(const std::string& node, const std::string& account, const std::string& key, Ledger& ledger) {
  httplib::Client client(node);
  client.set_read_timeout(60, 0);
  const std::string body = R"({"account_type":")" + account + R"(","items_per_page":100})";
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = client.Post("/api/v1/emag/products/sync", {{"Idempotency-Key", key}}, body, "application/json");
    if (r && r->status == 202) {
      const std::string run(json::parse(r->body).at("sync_id").as_string());
      std::lock_guard lk(ledger.mu);
      auto [it, fresh] = ledger.run_of_key.try_emplace(key, run);
      if (!fresh && it->second != run) ++ledger.replay_mismatches;
      ledger.runs.insert(run);
      return;
    }
    if (r && r->status == 409) {
      std::lock_guard lk(ledger.mu);
      ++ledger.busy;
      return;
    }
    {
      std::lock_guard lk(ledger.mu);
      ++ledger.retried;
    }
    std::this_thread::sleep_for(200ms);
  }
  std::lock_guard lk(ledger.mu);
  ++ledger.gave_up;
}

class MarketsyncdFailoverTest : public ::testing::Test {
 protected:
  // The cluster, the simulator serving accounts main and fbe, and two nodes on the cluster.
  void StartAll() {
    if (auto why = testing::PgCluster::Unavailable()) GTEST_SKIP() << *why;
    auto cluster = testing::PgCluster::Start();
    ASSERT_OK(cluster);
    cluster_ = std::move(cluster).value();
    sim::SimulatorOptions so;
    so.offers = 600;  // 6 pages of 100 per run, ~3 s at eMAG's 3 requests a second
    so.latency_ms = 100;
    so.log_requests = false;
    auto simulator = sim::Simulator::Start(so, "127.0.0.1", 0);
    ASSERT_OK(simulator);
    simulator_ = std::move(simulator).value();
    ::setenv("EMAG_ACCOUNTS", "main,fbe", 1);
    for (const std::string account : {"main", "fbe"}) {
      const std::string upper = account == "main" ? "MAIN" : "FBE";
      ::setenv(("EMAG_" + upper + "_USERNAME").c_str(), ("demo-" + account).c_str(), 1);
      ::setenv(("EMAG_" + upper + "_PASSWORD").c_str(), ("demo-" + account + "-secret").c_str(), 1);
      ::setenv(("EMAG_" + upper + "_BASE_URL").c_str(), simulator_->BaseUrl().c_str(), 1);
    }
    for (const char* name : {"node-a", "node-b"}) {
      nodes_.push_back(std::make_unique<NodeProcess>(NodeArgs(name, "127.0.0.1:0")));
      ASSERT_FALSE(nodes_.back()->url().empty()) << name << " did not start";
      urls_.push_back(nodes_.back()->url());
    }
  }
  std::vector<std::string> NodeArgs(const std::string& name, const std::string& listen) {
    return {"--data",    dir_.Sub(name), "--store",     cluster_->conninfo(), "--listen", listen,
            "--node-id", name,           "--lease-ttl", "4"};
  }
  // kill -9 of node `n` while its runs go on, and a new process with its name and address once
  // the others can have taken its runs over (6 s, the ttl is 4 s).
  void KillAndRestartNode(size_t n) {
    nodes_[n]->Stop();  // SIGKILL
    std::this_thread::sleep_for(6s);
    const std::string name = n == 0 ? "node-a" : "node-b";
    nodes_[n] = std::make_unique<NodeProcess>(NodeArgs(name, urls_[n].substr(std::string("http://").size())));
    ASSERT_EQ(nodes_[n]->url(), urls_[n]) << name << " did not start again";
    ++node_kills_;
  }

  // Per node and account, starts with fresh keys until `stop`; every fifth acknowledged key is
  // sent once more, to the other node (it must name the same run).
  void StartClients() {
    for (size_t n = 0; n < nodes_.size(); ++n) {
      for (const std::string account : {"main", "fbe"}) {
        clients_.emplace_back([this, n, account] {
          for (int i = 0; !stop_; ++i) {
            const std::string key = fmt::format("{}-{}-{}", n, account, i);
            StartWithKey(urls_[n], account, key, ledger_);
            if (i % 5 == 4) {
              StartWithKey(urls_[1 - n], account, key, ledger_);
              std::lock_guard lk(ledger_.mu);
              ++ledger_.replays;
            }
            std::this_thread::sleep_for(300ms);
          }
        });
      }
    }
  }
  void StopClients() {
    stop_ = true;
    for (auto& t : clients_) t.join();
  }

  // Waits (up to two minutes) until every run in the log has ended; the run streams seen.
  static std::vector<std::string> WaitAllEnded(const EventLog& log, bool* ended) {
    std::vector<std::string> streams;
    auto all_ended = [&] {
      auto ids = log.StreamIds("run-");
      if (!ids.ok()) return false;
      streams = *ids;
      for (const std::string& s : streams) {
        auto run = GetHistoryRun(log, s.substr(4));
        if (!run.ok() || !*run || !(*run)->terminal()) return false;
      }
      return true;
    };
    *ended = false;
    for (int i = 0; i < 240 && !(*ended = all_ended()); ++i) std::this_thread::sleep_for(500ms);
    return streams;
  }

  // Each run's pages once each, in order; the pages and resumptions counted.
  static void CheckPages(const EventLog& log, const std::vector<std::string>& streams, uint64_t* pages,
                         uint64_t* resumptions) {
    for (const std::string& s : streams) {
      auto events = log.ReadStream(s);
      ASSERT_OK(events);
      uint32_t last_page = 0;
      for (const Envelope& e : *events) {
        if (e.type == static_cast<uint16_t>(EventType::kSyncResumed)) ++*resumptions;
        if (e.type != static_cast<uint16_t>(EventType::kPageCommitted)) continue;
        const uint32_t page = DecodePayload<PageCommitted>(e.payload_version, e.payload)->page;
        EXPECT_EQ(page, last_page + 1) << s << ": each page once, in order";
        last_page = page;
        ++*pages;
      }
    }
  }

  std::unique_ptr<testing::PgCluster> cluster_;
  std::unique_ptr<sim::Simulator> simulator_;
  testing::TempDir dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::vector<std::string> urls_;  // each node's address, kept across restarts
  uint64_t node_kills_ = 0;
  Ledger ledger_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> clients_;
};

TEST_F(MarketsyncdFailoverTest, NodesKeepEveryAcknowledgedRunThroughPrimaryKills) {
  StartAll();
  if (IsSkipped() || HasFatalFailure()) return;
  const uint64_t cycles = testing::CampaignSetting("MARKETSYNC_FAILOVER_CYCLES", 5);
  std::mt19937_64 rng(testing::CampaignSetting("MARKETSYNC_FAILOVER_SEED", 20261203));
  StartClients();
  for (uint64_t c = 0; c < cycles; ++c) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 3000));
    auto killed = cluster_->KillPrimary();
    if (!killed.ok()) StopClients();
    ASSERT_TRUE(killed.ok()) << killed.status().ToString() << "\n" << cluster_->Describe();
    Status healthy = cluster_->WaitHealthy(120s);
    if (!healthy.ok()) StopClients();
    ASSERT_OK(healthy);
    if (c % 2 == 1) {  // and a node killed -9 mid-run, restarted later
      KillAndRestartNode(rng() % nodes_.size());
      if (HasFatalFailure()) StopClients();
      ASSERT_FALSE(HasFatalFailure());
    }
  }
  std::this_thread::sleep_for(2s);
  StopClients();

  auto opened = pglog::OpenPgEventLog(cluster_->conninfo(), SyncLogOptions(EventLogOptions::Mode::kReadOnly));
  ASSERT_OK(opened);
  const EventLog& log = **opened;
  bool ended = false;
  const std::vector<std::string> streams = WaitAllEnded(log, &ended);
  for (auto& n : nodes_) n->Stop();
  EXPECT_TRUE(ended) << "runs still going two minutes after the last kill";
  uint64_t pages = 0, resumptions = 0;
  CheckPages(log, streams, &pages, &resumptions);
  std::set<std::string> in_log;
  for (const std::string& s : streams) in_log.insert(s.substr(4));
  std::lock_guard lk(ledger_.mu);
  EXPECT_EQ(in_log, ledger_.runs) << "the runs in the log are the runs acknowledged";
  EXPECT_EQ(ledger_.replay_mismatches, 0u);
  EXPECT_EQ(ledger_.gave_up, 0u);
  auto verify = log.Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok) << verify->first_bad_seq << ": " << verify->reason;
  EXPECT_EQ(verify->events_checked, log.Head().seq);  // gap-free
  auto projections = VerifyProjections(log);
  ASSERT_OK(projections);
  for (const auto& p : *projections) EXPECT_TRUE(p.ok()) << p.name;
  std::printf("marketsyncd failover campaign: %llu kills of the primary, %llu of a node, %zu runs acknowledged (%llu starts refused busy, %llu "
              "keys replayed, %llu commands sent again after a lost answer), %zu runs in the log, %llu pages, "
              "%llu resumptions, %llu events\n",
              static_cast<unsigned long long>(cycles), static_cast<unsigned long long>(node_kills_), ledger_.runs.size(), static_cast<unsigned long long>(ledger_.busy),
              static_cast<unsigned long long>(ledger_.replays), static_cast<unsigned long long>(ledger_.retried),
              in_log.size(), static_cast<unsigned long long>(pages), static_cast<unsigned long long>(resumptions),
              static_cast<unsigned long long>(log.Head().seq));
}

}  // namespace
}  // namespace marketsync
