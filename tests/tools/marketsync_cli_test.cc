// The marketsync CLI through its real binary: exit codes, output formats, a follower beside a
// writer, export and import (within RocksDB, and RocksDB -> PostgreSQL -> RocksDB), and damage
// found by verify.

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <fstream>

#include "projections/all.h"
#include "projections/history.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/pg_server.h"
#include "tests/testutil/raw_db.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

testing::ProgramOutput Cli(const std::vector<std::string>& args) { return testing::RunProgram(MARKETSYNC_CLI, args); }

// The CLI with its stderr in the output too (the error lines).
testing::ProgramOutput CliAndErrors(const std::vector<std::string>& args) {
  std::vector<std::string> sh{"-c", "exec \"$0\" \"$@\" 2>&1", MARKETSYNC_CLI};
  sh.insert(sh.end(), args.begin(), args.end());
  return testing::RunProgram("/bin/sh", sh);
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::Simulator::Start(testing::QuietSimulator(120), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
    OpenWriter();
    Sync("both");
    ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","page":2,"fault":"http_500"}]})"));
    Sync("fbe", 50);
    ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
  }
  void OpenWriter() {
    auto log = testing::OpenEngineLog(db());
    ASSERT_OK(log);
    log_ = std::move(log).value();
    auto engine = SyncEngine::Create(*log_, testing::EngineFor(*sim_));
    ASSERT_OK(engine);
    engine_ = std::move(engine).value();
    ASSERT_OK(engine_->Start());
  }
  void CloseWriter() {
    engine_.reset();
    log_.reset();
  }
  std::vector<std::string> Sync(const std::string& account, uint32_t per_page = 100) {
    return testing::SyncToEnd(*engine_, testing::FullSync(account, per_page));
  }
  std::string db() const { return dir_.Sub("db"); }

  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(CliTest, ReadCommandsWorkBesideTheRunningWriter) {
  const uint64_t head = log_->Head().seq;
  // history as JSON: three runs, newest first, the gaps run first.
  testing::ProgramOutput h = Cli({"history", "--db", db(), "--format", "json"});
  ASSERT_EQ(h.exit_code, 0) << h.text();
  ASSERT_EQ(h.lines.size(), 1u);
  boost::json::object o = boost::json::parse(h.lines[0]).as_object();
  EXPECT_EQ(o["as_of_seq"].as_int64(), static_cast<int64_t>(head));
  auto& syncs = o["syncs"].as_array();
  ASSERT_EQ(syncs.size(), 3u);
  EXPECT_EQ(syncs[0].as_object().at("status").as_string(), "completed_with_gaps");
  EXPECT_EQ(syncs[2].as_object().at("created_items").as_int64(), 120);
  const std::string gaps_id(syncs[0].as_object().at("id").as_string());

  testing::ProgramOutput filtered = Cli({"--db", db(), "history", "--account", "main"});
  ASSERT_EQ(filtered.exit_code, 0);
  EXPECT_EQ(filtered.lines.size(), 3u) << filtered.text();  // "as of", the header, one run

  testing::ProgramOutput show = Cli({"runs", "show", gaps_id, "--db", db(), "--format", "json"});
  ASSERT_EQ(show.exit_code, 0) << show.text();
  auto run = boost::json::parse(show.lines[0]).as_object();
  EXPECT_EQ(run["pages_failed"].as_array().size(), 1u);
  EXPECT_EQ(Cli({"runs", "show", "no-such-run", "--db", db()}).exit_code, 4);

  testing::ProgramOutput stats = Cli({"stats", "--db", db(), "--format", "json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.text();
  EXPECT_EQ(boost::json::parse(stats.lines[0]).as_object()["total_products"].as_int64(), 240);

  // The environment's accounts, as the log recorded them at the writer's start.
  testing::ProgramOutput accounts = Cli({"accounts", "--db", db(), "--format", "json"});
  ASSERT_EQ(accounts.exit_code, 0) << accounts.text();
  auto listed = boost::json::parse(accounts.lines[0]).as_array();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].as_object().at("name"), "fbe");
  EXPECT_EQ(listed[0].as_object().at("source"), "environment");
  testing::ProgramOutput table = Cli({"accounts", "--db", db()});
  ASSERT_EQ(table.exit_code, 0);
  ASSERT_EQ(table.lines.size(), 3u) << table.text();
  EXPECT_NE(table.lines[2].find("main"), std::string::npos);
  EXPECT_NE(table.lines[2].find("enabled"), std::string::npos);

  testing::ProgramOutput events = Cli({"events", "--db", db(), "--format", "ndjson", "--limit", "5", "--after", "2"});
  ASSERT_EQ(events.exit_code, 0);
  ASSERT_EQ(events.lines.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    auto e = boost::json::parse(events.lines[i]).as_object();
    EXPECT_EQ(e["seq"].as_int64(), static_cast<int64_t>(3 + i));
    EXPECT_TRUE(e["payload"].is_object());
  }
  testing::ProgramOutput completed = Cli({"events", "--db", db(), "--format", "json", "--type", "SyncCompleted"});
  ASSERT_EQ(completed.exit_code, 0);
  std::string all;
  for (const auto& l : completed.lines) all += l;
  EXPECT_EQ(boost::json::parse(all).as_array().size(), 2u);
  testing::ProgramOutput by_run = Cli({"events", "--db", db(), "--run", gaps_id});
  ASSERT_EQ(by_run.exit_code, 0);
  EXPECT_NE(by_run.text().find("PageFailed"), std::string::npos);
  EXPECT_NE(by_run.text().find("SyncCompletedWithGaps"), std::string::npos);

  testing::ProgramOutput verify = Cli({"verify", "--db", db()});
  EXPECT_EQ(verify.exit_code, 0) << verify.text();
  EXPECT_NE(verify.text().find("projection catalog: ok"), std::string::npos);

  // As of before the last run: two runs, both completed.
  testing::ProgramOutput as_of = Cli({"history", "--db", db(), "--format", "json", "--as-of", std::to_string(syncs[1].as_object().at("last_seq").as_int64())});
  ASSERT_EQ(as_of.exit_code, 0);
  EXPECT_EQ(boost::json::parse(as_of.lines[0]).as_object()["syncs"].as_array().size(), 2u);
}

TEST_F(CliTest, UsageErrorsAndMissingDatabasesHaveTheirOwnCodes) {
  EXPECT_EQ(Cli({"history", "--db", db(), "--nope"}).exit_code, 2);
  EXPECT_EQ(Cli({"history", "--db", db(), "--limit", "0"}).exit_code, 2);
  EXPECT_EQ(Cli({"history", "--db", db(), "--as-of", "yesterday"}).exit_code, 2);
  EXPECT_EQ(Cli({"events", "--db", db(), "--type", "NoSuchEvent"}).exit_code, 2);
  EXPECT_EQ(Cli({"events", "--db", db(), "--format", "xml"}).exit_code, 2);
  EXPECT_EQ(Cli({}).exit_code, 2);
  EXPECT_EQ(Cli({"verify", "--db", dir_.Sub("missing")}).exit_code, 3);
  EXPECT_EQ(Cli({"rebuild", "--db", db()}).exit_code, 3);  // the writer holds it
  testing::ProgramOutput help = Cli({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.text().find("Exit codes"), std::string::npos);
}

TEST_F(CliTest, FollowPrintsWhatAnotherProcessAppends) {
  const uint64_t head = log_->Head().seq;
  testing::ChildProcess follower(MARKETSYNC_CLI, {"events", "--db", db(), "--follow", "--format", "ndjson",
                                                  "--after", std::to_string(head), "--type", "SyncCompleted"});
  std::this_thread::sleep_for(300ms);  // it is following before the run starts
  auto ids = Sync("main");
  std::vector<std::string> lines;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (lines.empty() && std::chrono::steady_clock::now() < deadline) {
    for (auto& l : follower.ReadLines(std::chrono::steady_clock::now() + 100ms)) lines.push_back(std::move(l));
  }
  ASSERT_EQ(lines.size(), 1u);
  auto e = boost::json::parse(lines[0]).as_object();
  EXPECT_EQ(e["stream_id"].as_string(), "run-" + ids[0]);
  EXPECT_GT(e["seq"].as_int64(), static_cast<int64_t>(head));
  follower.Kill();
}

TEST_F(CliTest, ExportImportRebuildAndVerifyFindingDamage) {
  const std::string head_hash = HashToHex(log_->Head().hash);
  const std::string file = dir_.Sub("log.ndjson");
  testing::ProgramOutput exp = Cli({"export", "--db", db(), "--to", file});
  ASSERT_EQ(exp.exit_code, 0) << exp.text();
  CloseWriter();

  testing::ProgramOutput imp = Cli({"import", "--db", dir_.Sub("copy"), "--from", file});
  ASSERT_EQ(imp.exit_code, 0) << imp.text();
  EXPECT_NE(imp.text().find(head_hash), std::string::npos) << imp.text();
  EXPECT_EQ(Cli({"import", "--db", dir_.Sub("copy"), "--from", file}).exit_code, 2);  // not fresh
  {
    std::ofstream bad(dir_.Sub("bad.ndjson"));
    bad << "{\"seq\": 1}\n";
  }
  EXPECT_EQ(Cli({"import", "--db", dir_.Sub("other"), "--from", dir_.Sub("bad.ndjson")}).exit_code, 2);

  testing::ProgramOutput rebuild = Cli({"rebuild", "--db", db()});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild.text();
  ASSERT_EQ(rebuild.lines.size(), 1u);
  EXPECT_NE(rebuild.text().find("rebuilt history, status, catalog, stats, rollup"), std::string::npos) << rebuild.text();
  EXPECT_NE(rebuild.text().find("events/s"), std::string::npos);
  EXPECT_EQ(Cli({"rebuild", "--db", db(), "--projection", "nope"}).exit_code, 2);

  // A changed byte in one event: verify says which.
  {
    testing::RawDb raw(db());
    std::string v = raw.GetEvent(7);
    v[30] ^= 0x20;
    raw.PutEvent(7, v);
  }
  testing::ProgramOutput verify = Cli({"verify", "--db", db()});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.text().find("DAMAGED at seq 7"), std::string::npos) << verify.text();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The migration docs/DISTRIBUTED.md describes: export from RocksDB, import into PostgreSQL,
// verify and query there, export again (the same bytes), and back into a fresh RocksDB.
TEST_F(CliTest, MovesTheLogToPostgresAndBackWithTheSameChain) {
  if (auto why = testing::PgServer::Unavailable()) GTEST_SKIP() << *why;
  auto server = testing::PgServer::Start();
  ASSERT_OK(server);
  // The test server trusts loopback: the password is carried, never checked, never printed.
  const std::string pg = (*server)->conninfo() + " password=s3cret-in-conninfo";
  const std::string head_hash = HashToHex(log_->Head().hash);
  const std::string from_rocks = dir_.Sub("rocks.ndjson");
  ASSERT_EQ(Cli({"export", "--db", db(), "--to", from_rocks}).exit_code, 0);
  testing::ProgramOutput local_history = Cli({"history", "--db", db(), "--format", "json"});
  CloseWriter();

  std::vector<testing::ProgramOutput> outputs;
  outputs.push_back(CliAndErrors({"import", "--db", pg, "--from", from_rocks}));
  ASSERT_EQ(outputs.back().exit_code, 0) << outputs.back().text();
  EXPECT_NE(outputs.back().text().find("projection catalog: ok"), std::string::npos) << outputs.back().text();
  EXPECT_NE(outputs.back().text().find(head_hash), std::string::npos);
  outputs.push_back(CliAndErrors({"import", "--db", pg, "--from", from_rocks}));
  EXPECT_EQ(outputs.back().exit_code, 2) << outputs.back().text();  // not fresh: nothing appended twice
  EXPECT_NE(outputs.back().text().find("import writes into a fresh database"), std::string::npos);

  outputs.push_back(CliAndErrors({"verify", "--db", pg}));
  EXPECT_EQ(outputs.back().exit_code, 0) << outputs.back().text();
  outputs.push_back(CliAndErrors({"history", "--db", pg, "--format", "json"}));
  EXPECT_EQ(outputs.back().exit_code, 0);
  EXPECT_EQ(outputs.back().lines, local_history.lines);  // the same projections, row for row
  outputs.push_back(CliAndErrors({"rebuild", "--db", pg, "--projection", "history"}));
  EXPECT_EQ(outputs.back().exit_code, 0) << outputs.back().text();

  const std::string from_pg = dir_.Sub("pg.ndjson");
  outputs.push_back(CliAndErrors({"export", "--db", pg, "--to", from_pg}));
  ASSERT_EQ(outputs.back().exit_code, 0) << outputs.back().text();
  EXPECT_EQ(ReadFile(from_pg), ReadFile(from_rocks));  // every event, byte for byte

  outputs.push_back(CliAndErrors({"import", "--db", dir_.Sub("back"), "--from", from_pg}));
  ASSERT_EQ(outputs.back().exit_code, 0) << outputs.back().text();
  EXPECT_NE(outputs.back().text().find(head_hash), std::string::npos);

  // A server that is not there: exit 3, and the error names the host, not the password.
  const int port = (*server)->port();
  server->reset();
  outputs.push_back(CliAndErrors({"history", "--db", pg}));
  EXPECT_EQ(outputs.back().exit_code, 3) << outputs.back().text();
  EXPECT_NE(outputs.back().text().find("port=" + std::to_string(port)), std::string::npos) << outputs.back().text();
  for (const auto& out : outputs) EXPECT_EQ(out.text().find("s3cret"), std::string::npos) << out.text();
}

}  // namespace
}  // namespace marketsync
