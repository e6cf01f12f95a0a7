// What only the log on PostgreSQL can do: several nodes (here, several PgEventLogs on one
// database) appending at once, and a log moved from RocksDB to PostgreSQL and back with its
// chain. The behaviour both backends share is tests/events/'s suites, run on both.

#include "pglog/pg_event_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "events/projection_fold.h"
#include "pglog/head_listener.h"
#include "pglog/pg_conn.h"
#include "tests/pglog/pg_fixture.h"
#include "tests/testutil/cut_proxy.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/pg_server.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync::pglog {
namespace {

using testing::CountingProjection;
using testing::MakeStep;

class PgEventLogTest : public PgFixture {
 protected:
  PgEventLogTest() { with_schema_ = false; }  // the log makes its tables (or, read-only, finds none)
  std::unique_ptr<EventLog> Node(EventLogOptions options = testing::CountingLogOptions()) {
    auto log = OpenPgEventLog(server_->conninfo(), std::move(options));
    EXPECT_OK(log);
    return log.ok() ? std::move(log).value() : nullptr;
  }
};

// Three nodes append to shared and own streams at once: one gap-free chain, every step's seqs
// given once, the projection's counts exact, and each node reads what the others wrote.
TEST_F(PgEventLogTest, NodesAppendingAtOnceShareOneGapFreeChain) {
  std::vector<std::unique_ptr<EventLog>> nodes;
  for (int i = 0; i < 3; ++i) nodes.push_back(Node());
  constexpr int kThreadsPerNode = 3, kSteps = 60;
  std::vector<std::vector<uint64_t>> seqs(nodes.size() * kThreadsPerNode);
  std::vector<std::thread> threads;
  for (size_t n = 0; n < nodes.size(); ++n) {
    for (int t = 0; t < kThreadsPerNode; ++t) {
      threads.emplace_back([&, n, t] {
        const size_t me = n * kThreadsPerNode + static_cast<size_t>(t);
        for (int i = 0; i < kSteps; ++i) {
          Step step = MakeStep("own-" + std::to_string(me), 2, 32, static_cast<uint64_t>(2 * i));
          step.streams.push_back(MakeStep("shared", 1).streams[0]);
          auto r = nodes[n]->Append(std::move(step));
          ASSERT_OK(r);
          seqs[me].push_back(r->first_seq);
        }
      });
    }
  }
  for (auto& t : threads) t.join();
  const uint64_t total = nodes.size() * kThreadsPerNode * kSteps * 3;
  std::set<uint64_t> firsts;
  for (const auto& v : seqs) {
    for (uint64_t s : v) EXPECT_TRUE(firsts.insert(s).second) << "seq " << s << " given twice";
  }
  for (const auto& node : nodes) {
    EXPECT_EQ(node->Head().seq, total);
    EXPECT_EQ(node->Head().hash, nodes[0]->Head().hash);
    EXPECT_EQ(**node->Get(CountingProjection::kFamily, "shared"), std::to_string(nodes.size() * kThreadsPerNode * kSteps));
    EXPECT_EQ(*node->Checkpoint("counting"), total);
  }
  auto v = nodes[1]->Verify();
  ASSERT_OK(v);
  EXPECT_TRUE(v->ok) << v->first_bad_seq << ": " << v->reason;
  EXPECT_EQ(v->events_checked, total);
}

// A stream created by two nodes at once (the single-flight primitive across nodes): one wins.
TEST_F(PgEventLogTest, AcrossNodesAnExpectedVersionHasOneWinner) {
  auto a = Node(), b = Node();
  for (int round = 0; round < 20; ++round) {
    const std::string stream = "run-" + std::to_string(round);
    std::atomic<int> won{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        Step step = MakeStep(stream, 1, 0, kNoStream);
        step.expect.push_back({"meta", "lease/" + std::to_string(round), std::nullopt});
        step.writes.push_back({"meta", "lease/" + std::to_string(round), std::to_string(t)});
        auto r = (t % 2 == 0 ? a : b)->Append(std::move(step));
        (r.ok() ? won : refused)++;
        if (!r.ok()) {
          EXPECT_TRUE(r.status().IsFailedPrecondition()) << r.status().ToString();
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(refused.load(), 7);
    EXPECT_EQ(*b->StreamVersion(stream), 1u);
  }
}

// WaitForSeq on one node wakes for another node's append (by the head channel, or polling).
TEST_F(PgEventLogTest, WaitForSeqSeesAnotherNodesAppend) {
  auto a = Node(), b = Node();
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_OK(b->Append(MakeStep("s", 2)));
  });
  EXPECT_EQ(a->WaitForSeq(0, std::chrono::seconds(30)), 2u);
  writer.join();
}

// The seqs a HeadListener was told, for a test to wait on.
class HeardSeqs {
 public:
  std::function<void(uint64_t)> Callback() {
    return [this](uint64_t seq) {
      std::lock_guard lk(mu_);
      seqs_.push_back(seq);
      cv_.notify_all();
    };
  }
  // Waits (up to 30 s) until `seq` was heard; true when it was.
  bool WaitFor(uint64_t seq) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(30), [&] { return !seqs_.empty() && seqs_.back() >= seq; });
  }
  std::vector<uint64_t> seqs() {
    std::lock_guard lk(mu_);
    return seqs_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint64_t> seqs_;
};

bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 600 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return done();
}

// Every committed group announces its head on the channel (a refused step announces nothing),
// and the listener reconnects after the server restarts.
TEST_F(PgEventLogTest, TheHeadChannelAnnouncesEveryCommitAndOutlivesARestart) {
  auto log = Node();
  HeardSeqs heard;
  HeadListener listener(server_->conninfo(), heard.Callback());
  ASSERT_TRUE(Eventually([&] { return listener.listening(); }));
  ASSERT_OK(log->Append(MakeStep("s", 2)));
  ASSERT_OK(log->Append(MakeStep("s", 3)));
  ASSERT_TRUE(heard.WaitFor(5));
  EXPECT_FALSE(log->Append(MakeStep("s", 1, 0, /*expected_version=*/1)).ok());
  ASSERT_OK(log->Append(MakeStep("t", 1)));
  ASSERT_TRUE(heard.WaitFor(6));
  EXPECT_EQ(heard.seqs(), (std::vector<uint64_t>{2, 5, 6}));

  log.reset();
  server_->Kill();
  ASSERT_TRUE(Eventually([&] { return !listener.listening(); }));
  ASSERT_OK(server_->Restart());
  ASSERT_TRUE(Eventually([&] { return listener.listening(); }));
  EXPECT_EQ(listener.connections(), 2u);
  auto again = Node();
  ASSERT_OK(again->Append(MakeStep("s", 1)));
  ASSERT_TRUE(heard.WaitFor(7));
  EXPECT_EQ(heard.seqs().back(), 7u);
}

std::vector<std::string> Export(const EventLog& log) {
  std::vector<std::string> out;
  auto it = log.ReadStored(1);
  for (; it->Valid(); it->Next()) out.emplace_back(it->bytes());
  EXPECT_OK(it->status());
  return out;
}

// RocksDB → PostgreSQL → RocksDB: the same envelope bytes, head and hash, chains that verify,
// projection rows with the same digest; and an import that does not continue the log is
// refused whole.
TEST_F(PgEventLogTest, ALogMovesBetweenBackendsWithItsChain) {
  testing::TempDir dir;
  auto rocks = EventLog::Open(dir.Sub("from"), testing::CountingLogOptions());
  ASSERT_OK(rocks);
  for (int i = 0; i < 40; ++i) ASSERT_OK((*rocks)->Append(MakeStep("s" + std::to_string(i % 4), 3, 100)));
  const std::vector<std::string> exported = Export(**rocks);
  ASSERT_EQ(exported.size(), 120u);

  auto pg = Node();
  std::vector<std::string> half(exported.begin(), exported.begin() + 60), rest(exported.begin() + 60, exported.end());
  ASSERT_OK(pg->Import(half));
  // Not the next envelope: refused, nothing written.
  auto skip = pg->Import({exported[61]});
  ASSERT_FALSE(skip.ok());
  EXPECT_NE(skip.status().message().find("imported envelope 1 (seq 61)"), std::string::npos) << skip.status().ToString();
  auto done = pg->Import(rest);
  ASSERT_OK(done);
  EXPECT_EQ(done->first_seq, 61u);
  EXPECT_EQ(done->last_seq, 120u);
  EXPECT_EQ(pg->Head().seq, (*rocks)->Head().seq);
  EXPECT_EQ(pg->Head().hash, (*rocks)->Head().hash);
  EXPECT_EQ(Export(*pg), exported);
  EXPECT_TRUE(pg->Verify()->ok);
  const std::vector<std::string> families{std::string(CountingProjection::kFamily)};
  EXPECT_EQ(*DigestFamilies(*pg, families), *DigestFamilies(**rocks, families));
  EXPECT_EQ(*pg->Checkpoint("counting"), 120u);
  // The log goes on on PostgreSQL, and back to RocksDB with what it gained there.
  ASSERT_OK(pg->Append(MakeStep("s0", 1, 0, 30)));
  auto back = EventLog::Open(dir.Sub("back"), testing::CountingLogOptions());
  ASSERT_OK(back);
  ASSERT_OK((*back)->Import(Export(*pg)));
  EXPECT_EQ((*back)->Head().hash, pg->Head().hash);
  EXPECT_TRUE((*back)->Verify()->ok);
  EXPECT_EQ(*DigestFamilies(**back, families), *DigestFamilies(*pg, families));
}

// A rebuild refolds the rows from the log (here after they were damaged behind its back).
TEST_F(PgEventLogTest, RebuildRefoldsTheRowsInOneTransaction) {
  auto log = Node();
  for (int i = 0; i < 10; ++i) ASSERT_OK(log->Append(MakeStep("s" + std::to_string(i % 3), 2)));
  auto conn = Connect();
  ASSERT_NE(conn, nullptr);
  ASSERT_OK(conn->Exec("UPDATE ms_kv SET value = 'x' WHERE family = 'test_counts'"));
  ASSERT_OK(conn->Exec("INSERT INTO ms_kv VALUES ('test_counts', 'stray', 'y')"));
  auto report = log->RebuildProjection("counting");
  ASSERT_OK(report);
  EXPECT_EQ(report->events, 20u);
  EXPECT_EQ(report->rows, 3u);
  EXPECT_EQ(report->checkpoint, 20u);
  EXPECT_EQ(**log->Get(CountingProjection::kFamily, "s0"), "8");
  EXPECT_FALSE(log->Get(CountingProjection::kFamily, "stray")->has_value());
  EXPECT_EQ(log->RebuildProjection("nothing").status().code(), Status::Code::kNotFound);
}

// A read-only open of a database without the log says so; with one, it reads and refuses
// appends.
TEST_F(PgEventLogTest, ReadOnlyOpens) {
  EventLogOptions ro = testing::CountingLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  auto none = OpenPgEventLog(server_->conninfo(), std::move(ro));
  EXPECT_TRUE(none.status().IsNotFound()) << none.status().ToString();
  auto writer = Node();
  ASSERT_OK(writer->Append(MakeStep("s", 2)));
  ro = testing::CountingLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  auto reader = OpenPgEventLog(server_->conninfo(), std::move(ro));
  ASSERT_OK(reader);
  EXPECT_EQ((*reader)->Head().seq, 2u);
  EXPECT_EQ(**(*reader)->Get(CountingProjection::kFamily, "s"), "2");
  EXPECT_EQ((*reader)->Append(MakeStep("s", 1)).status().code(), Status::Code::kUnavailable);
  auto many = (*reader)->MultiGet(CountingProjection::kFamily, {"nothing", "s", "s"});
  ASSERT_OK(many);
  EXPECT_EQ(*many, (std::vector<std::optional<std::string>>{std::nullopt, "2", "2"}));
}

// A COMMIT whose answer the network lost: the node finds out, once connected again, whether the
// group landed, and its steps get that outcome; either way it writes on.
TEST_F(PgEventLogTest, ACommitInDoubtIsLookedUpAndAnsweredTruly) {
  auto proxy = testing::CutProxy::Start(server_->port());
  ASSERT_NE(proxy, nullptr);
  const std::string via = "host=127.0.0.1 port=" + std::to_string(proxy->port()) + " user=postgres dbname=postgres";
  auto opened = OpenPgEventLog(via, testing::CountingLogOptions());
  ASSERT_OK(opened);
  std::unique_ptr<EventLog> log = std::move(opened).value();
  ASSERT_OK(log->Append(MakeStep("s", 2)));

  // Delivered, the answer lost: the group landed, and the step is told so.
  proxy->Arm("COMMIT", testing::CutProxy::Cut::kAnswer);
  auto landed = log->Append(MakeStep("s", 3));
  EXPECT_EQ(proxy->cuts(), 1);
  ASSERT_OK(landed);
  EXPECT_EQ(landed->last_seq, 5u);

  // Never delivered: nothing landed, and the step is told so; the log is not stopped.
  proxy->Arm("COMMIT", testing::CutProxy::Cut::kRequest);
  auto lost = log->Append(MakeStep("s", 4));
  EXPECT_EQ(proxy->cuts(), 2);
  EXPECT_EQ(lost.status().code(), Status::Code::kUnavailable) << lost.status().ToString();
  EXPECT_NE(lost.status().message().find("nothing of it landed"), std::string::npos) << lost.status().ToString();
  ASSERT_OK(log->Append(MakeStep("s", 1)));
  EXPECT_OK(log->WriterStatus());

  auto auditor = Node();
  EXPECT_EQ(*auditor->StreamVersion("s"), 6u);  // 2 + 3 + 1
  EXPECT_EQ(auditor->Head().seq, 6u);
  EXPECT_TRUE(auditor->Verify()->ok);
}

// The server killed -9 under a node that keeps appending, then restarted: appends fail while it
// is down; a group whose COMMIT's answer was lost is looked up once the server is back and its
// steps get the real outcome; so the steps acknowledged are exactly the steps in the log, and the
// node writes on without being reopened.
TEST_F(PgEventLogTest, AServerKilledUnderANodeLosesNothingAndInventsNothing) {
  auto log = Node();
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acked{0}, failed{0};
  std::thread writer([&] {
    while (!stop) {
      auto r = log->Append(MakeStep("s", 1));
      ++(r.ok() ? acked : failed);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server_->Kill();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_OK(server_->Restart());
  const uint64_t acked_at_restart = acked;
  for (int i = 0; i < 600 && acked < acked_at_restart + 20; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  writer.join();
  EXPECT_GE(acked.load(), acked_at_restart + 20);  // it went on writing
  EXPECT_GT(failed.load(), 0u);                     // while the server was down
  EXPECT_OK(log->WriterStatus());
  EventLogOptions ro = testing::CountingLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  auto auditor = Node(std::move(ro));
  EXPECT_EQ(*auditor->StreamVersion("s"), acked.load());
  EXPECT_EQ(auditor->Head().seq, acked.load());
  EXPECT_TRUE(auditor->Verify()->ok);
}

}  // namespace
}  // namespace marketsync::pglog
