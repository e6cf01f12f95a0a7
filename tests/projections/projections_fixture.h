#pragma once

// The projections' suites share this: a real engine syncing from the simulator into a log
// with every projection, and helpers to compare what the projections answer.

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "projections/all.h"
#include "projections/catalog.h"
#include "projections/history.h"
#include "projections/stats.h"
#include "projections/status.h"
#include "schema/payload_codec.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/raw_db.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::testing {

using namespace std::chrono_literals;

constexpr uint32_t kOffers = 150;

// What the history listing answered at one point: each row's bytes, newest first.
inline std::vector<std::string> HistoryRows(const KvReader& reader) {
  auto page = ListHistory(reader, HistoryQuery{std::nullopt, std::nullopt, std::nullopt, std::nullopt, 1000, ""});
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> rows;
  if (page.ok()) {
    for (const auto& r : page->runs) rows.push_back(EncodeFields(r));
  }
  return rows;
}

inline std::map<std::string, std::string> Digests(const EventLog& log) {
  std::map<std::string, std::string> out;
  for (Projection* p : log.projections()) {
    auto d = DigestFamilies(log, p->column_families());
    EXPECT_TRUE(d.ok());
    out[std::string(p->name())] = d.ok() ? *d : "";
  }
  return out;
}

class ProjectionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::Simulator::Start(QuietSimulator(kOffers), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
    Open();
  }
  void Open() {
    auto log = OpenEngineLog(dir_.Sub("db"));
    ASSERT_OK(log);
    log_ = std::move(log).value();
    EngineOptions eo = EngineFor(*sim_);
    eo.page_window = 1;
    auto engine = SyncEngine::Create(*log_, eo);
    ASSERT_OK(engine);
    engine_ = std::move(engine).value();
    ASSERT_OK(engine_->Start());
  }
  void Close() {
    engine_->Shutdown();
    engine_.reset();
    log_.reset();
  }
  StartSyncRequest Full(const std::string& account, uint32_t per_page = 100) {
    return FullSync(account, per_page);
  }
  std::vector<std::string> Run(const StartSyncRequest& request) { return SyncToEnd(*engine_, request); }
  // A run of `main` that is held on page 2 long enough to be seen running, then cancelled.
  std::string RunAndCancel() {
    EXPECT_OK(sim_->SetFaults(R"({"rules":[{"account":"main","resource":"read","page":2,"fault":"slow","delay_ms":3000,"times":1}]})"));
    auto started = engine_->StartSync(Full("main", 50));
    EXPECT_TRUE(started.ok());
    if (!started.ok()) return "";
    const std::string id = started->runs[0].run_id;
    for (int i = 0; i < 200 && engine_->GetRun(id)->pages_processed < 1; ++i) std::this_thread::sleep_for(10ms);
    auto active = ListActiveRuns(*log_, 0);
    EXPECT_TRUE(active.ok());
    if (active.ok()) {
      EXPECT_EQ(active->size(), 1u);
      if (!active->empty()) {
        EXPECT_EQ(active->front().record.id, id);
        EXPECT_EQ(active->front().current_page, 1u);
        EXPECT_EQ(active->front().record.total_items, kOffers);
      }
    }
    EXPECT_OK(engine_->CancelSync(id, "test"));
    auto r = engine_->WaitForRun(id, 60s);
    EXPECT_TRUE(r.ok());
    if (r.ok()) {
      EXPECT_EQ(r->status, kRunCancelled);
    }
    EXPECT_OK(sim_->SetFaults(R"({"rules":[]})"));
    return id;
  }

  TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
};

}  // namespace marketsync::testing
