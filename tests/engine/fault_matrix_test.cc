// The upstream fault matrix (issue 18 §5): every simulator fault × every place it can strike in
// a run → how the run ends and what it cost, as docs/RELIABILITY.md's table says (this test
// reads that table), then a run without faults that completes.

#include <gtest/gtest.h>
#include <httplib.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>

#include "engine/sync_engine.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

#ifndef MARKETSYNC_RELIABILITY_MD
#error "MARKETSYNC_RELIABILITY_MD must name docs/RELIABILITY.md"
#endif

namespace marketsync {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

// Where a fault strikes, as the fields a rule adds (the table's columns, in order).
const std::vector<std::string> kPlaces = {
    R"({"resource":"count","times":1})",          R"({"resource":"read","page":1,"times":1})",
    R"({"resource":"read","page":2,"times":1})",  R"({"resource":"read","page":3,"times":1})",
    R"({"resource":"count"})",                    R"({"resource":"read","page":2})",
};

struct Row {
  std::string rule;                // the row's rule, JSON
  std::vector<std::string> cells;  // one per place
};

std::string Trim(std::string s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '`')) s.erase(s.begin());
  while (!s.empty() && (s.back() == ' ' || s.back() == '`')) s.pop_back();
  return s;
}

void PrintTo(const Row& row, std::ostream* os) { *os << row.rule; }

// The table between the fault-matrix markers, header and rule lines left out.
std::vector<Row> ReadMatrix() {
  std::ifstream in(MARKETSYNC_RELIABILITY_MD);
  std::vector<Row> rows;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("<!-- fault-matrix:begin")) inside = true;
    if (line.starts_with("<!-- fault-matrix:end")) break;
    if (!inside || !line.starts_with("| `")) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line.substr(1));
    for (std::string f; std::getline(ss, f, '|');) fields.push_back(Trim(f));
    if (fields.size() != kPlaces.size() + 1) continue;  // caught by TheTableIsWhole
    rows.push_back({fields[0], {fields.begin() + 1, fields.end()}});
  }
  return rows;
}

// "completed 5", "completed_with_gaps [2] 6", "failed retryable", "failed auth once".
struct Expected {
  std::string status;
  std::string error_class;
  std::vector<uint32_t> missing;
  std::optional<uint64_t> requests;
  bool once = false;
};

Expected ParseCell(const std::string& cell) {
  Expected e;
  std::stringstream ss(cell);
  ss >> e.status;
  for (std::string word; ss >> word;) {
    if (word == "once") {
      e.once = true;
    } else if (word.starts_with("[")) {
      e.missing.push_back(static_cast<uint32_t>(std::stoul(word.substr(1))));
    } else if (std::isdigit(static_cast<unsigned char>(word[0]))) {
      e.requests = std::stoull(word);
    } else {
      e.error_class = word;
    }
  }
  return e;
}

TEST(FaultMatrixTest, TheTableIsWhole) {
  const std::vector<Row> rows = ReadMatrix();
  EXPECT_EQ(rows.size(), 15u) << "docs/RELIABILITY.md's fault matrix lost rows";
  for (const Row& r : rows) EXPECT_EQ(r.cells.size(), kPlaces.size()) << r.rule;
}

class FaultMatrixTest : public ::testing::TestWithParam<Row> {
 protected:
  void SetUp() override {
    auto s = sim::Simulator::Start(testing::QuietSimulator(250), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
    auto log = testing::OpenEngineLog(dir_.Sub("db"));
    ASSERT_OK(log);
    log_ = std::move(log).value();
    EngineOptions o = testing::EngineFor(*sim_, {"main"});
    o.client.retry.max_attempts = 3;
    o.client.read_timeout = 300ms;
    auto engine = SyncEngine::Create(*log_, o);
    ASSERT_OK(engine);
    engine_ = std::move(engine).value();
    ASSERT_OK(engine_->Start());
  }
  void TearDown() override {
    if (engine_) engine_->Shutdown();
  }
  RunRecord RunOnce() {
    auto started = engine_->StartSync(testing::FullSync("main"));
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return {};
    auto r = engine_->WaitForRun(started->runs[0].run_id, 60s);
    EXPECT_TRUE(r.ok() && r->terminal());
    return r.ok() ? *r : RunRecord{};
  }
  // How often the (single) rule fired, from the simulator's /_sim/faults.
  uint64_t Fired() {
    httplib::Client c("127.0.0.1", sim_->port());
    auto res = c.Get("/_sim/faults");
    if (!res) return 0;
    return json::parse(res->body).as_object().at("rules").as_array().at(0).as_object().at("fired").to_number<uint64_t>();
  }

  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_P(FaultMatrixTest, EachPlaceEndsTheRunAsTheTableSays) {
  const Row& row = GetParam();
  for (size_t place = 0; place < kPlaces.size(); ++place) {
    SCOPED_TRACE(row.rule + " at " + kPlaces[place] + ": expected " + row.cells[place]);
    const Expected want = ParseCell(row.cells[place]);
    json::object rule = json::parse(row.rule).as_object();
    const json::object where = json::parse(kPlaces[place]).as_object();
    for (const auto& [k, v] : where) rule[k] = v;
    rule["account"] = "main";
    ASSERT_OK(sim_->SetFaults(json::serialize(json::object{{"rules", json::array{rule}}})));
    const RunRecord r = RunOnce();
    EXPECT_EQ(r.status, want.status) << r.error_message;
    if (!want.error_class.empty()) {
      EXPECT_EQ(r.error_class, want.error_class) << r.error_message;
    }
    EXPECT_EQ(r.pages_failed, want.missing);
    if (want.requests) {
      EXPECT_EQ(r.api_requests_made, *want.requests);
    }
    if (want.once) {
      EXPECT_EQ(Fired(), 1u) << "a refusal was retried";
    }
    if (r.status == kRunCompleted) {
      EXPECT_TRUE(r.pages_failed.empty()) << "completed with a gap";
    }
    ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
    EXPECT_EQ(RunOnce().status, kRunCompleted) << "the next run after the fault";
  }
}

INSTANTIATE_TEST_SUITE_P(Upstream, FaultMatrixTest, ::testing::ValuesIn(ReadMatrix()), [](const auto& p) {
  std::string name = json::parse(p.param.rule).as_object().at("fault").as_string().c_str();
  if (p.param.rule.find("\"retry_after\":0") != std::string::npos) name += "_no_retry_after";
  return name;
});

}  // namespace
}  // namespace marketsync
