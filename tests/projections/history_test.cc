#include "projections/all.h"
#include "projections/history.h"

#include <gtest/gtest.h>

#include "schema/payload_codec.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

Result<std::unique_ptr<EventLog>> OpenWithHistory(const std::string& path, bool history = true) {
  EventLogOptions o = SyncLogOptions();
  o.projections.clear();  // only the projections this test registers
  if (history) o.projections.push_back(std::make_unique<HistoryProjection>());
  return EventLog::Open(path, std::move(o));
}

class HistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = sim::Simulator::Start(testing::QuietSimulator(150), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
  }
  // Opens a log with the history projection under `name` and starts an engine on it (log_, engine_).
  void StartEngine(const std::string& name) {
    auto log = OpenWithHistory(dir_.Sub(name));
    ASSERT_OK(log);
    log_ = std::move(log).value();
    auto engine = SyncEngine::Create(*log_, testing::EngineFor(*sim_));
    ASSERT_OK(engine);
    engine_ = std::move(engine).value();
    ASSERT_OK(engine_->Start());
  }
  void TearDown() override {
    engine_.reset();
    log_.reset();
  }
  // Runs `n` syncs of `account` to their end.
  std::vector<std::string> Sync(SyncEngine& engine, const std::string& account, int n) {
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      for (auto& id : testing::SyncToEnd(engine, testing::FullSync(account))) ids.push_back(std::move(id));
    }
    return ids;
  }

  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(HistoryTest, RowsEqualTheFoldOfEachRunAndListNewestFirst) {
  StartEngine("db");
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","page":2,"fault":"http_500"}]})"));
  std::vector<std::string> ids = Sync(*engine_, "main", 2);
  for (auto& id : Sync(*engine_, "fbe", 1)) ids.push_back(id);
  for (const auto& id : ids) {
    auto row = GetHistoryRun(*log_, id);
    ASSERT_OK(row);
    ASSERT_TRUE(row->has_value());
    auto folded = engine_->GetRun(id);
    ASSERT_OK(folded);
    EXPECT_EQ(EncodeFields(**row), EncodeFields(*folded)) << id;
  }
  auto all = ListHistory(*log_, {});
  ASSERT_OK(all);
  ASSERT_EQ(all->runs.size(), 3u);
  EXPECT_EQ(all->runs[0].id, ids[2]);  // newest first
  EXPECT_EQ(all->runs[2].id, ids[0]);
  EXPECT_TRUE(all->next_cursor.empty());

  HistoryQuery between;
  between.from_us = all->runs[1].requested_at_us;
  between.to_us = all->runs[0].requested_at_us;
  auto middle = ListHistory(*log_, between);
  ASSERT_OK(middle);
  ASSERT_EQ(middle->runs.size(), 1u);
  EXPECT_EQ(middle->runs[0].id, ids[1]);

  auto main_only = ListHistory(*log_, HistoryQuery{"main", std::nullopt, std::nullopt, std::nullopt, 50, ""});
  ASSERT_OK(main_only);
  ASSERT_EQ(main_only->runs.size(), 2u);
  auto gaps = ListHistory(*log_, HistoryQuery{std::nullopt, std::string(kRunCompletedWithGaps), std::nullopt, std::nullopt, 50, ""});
  ASSERT_OK(gaps);
  ASSERT_EQ(gaps->runs.size(), 1u);
  EXPECT_EQ(gaps->runs[0].account_type, "fbe");
  auto none = ListHistory(*log_, HistoryQuery{"main", std::string(kRunCompletedWithGaps), std::nullopt, std::nullopt, 50, ""});
  ASSERT_OK(none);
  EXPECT_TRUE(none->runs.empty());
  EXPECT_FALSE(ListHistory(*log_, HistoryQuery{std::nullopt, std::nullopt, std::nullopt, std::nullopt, 0, ""}).ok());
}

TEST_F(HistoryTest, RunsStartedTogetherFormOneGroup) {
  StartEngine("db");
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","page":2,"fault":"http_500"}]})"));
  Sync(*engine_, "both", 1);
  Sync(*engine_, "main", 1);
  auto page = ListHistory(*log_, {});
  ASSERT_OK(page);
  ASSERT_EQ(page->runs.size(), 3u);
  std::vector<HistoryGroup> groups = GroupHistory(page->runs);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].runs.size(), 1u);  // the newest: main alone
  EXPECT_EQ(groups[0].status, kRunCompleted);
  ASSERT_EQ(groups[1].runs.size(), 2u);  // both: main and fbe, one group id
  EXPECT_EQ(groups[1].runs[0]->group_id, groups[1].runs[1]->group_id);
  EXPECT_NE(groups[1].runs[0]->account_type, groups[1].runs[1]->account_type);
  EXPECT_EQ(groups[1].status, kRunCompletedWithGaps);  // fbe had a gap: the group says so
}

TEST_F(HistoryTest, CursorPagesThroughEveryRunOnce) {
  StartEngine("db");
  std::vector<std::string> ids = Sync(*engine_, "both", 3);  // 6 runs
  std::vector<std::string> seen;
  HistoryQuery q;
  q.limit = 4;
  while (true) {
    auto page = ListHistory(*log_, q);
    ASSERT_OK(page);
    for (const auto& r : page->runs) seen.push_back(r.id);
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  std::sort(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, ids);
}

TEST_F(HistoryTest, ARegisteredLaterProjectionCatchesUpToTheSameRows) {
  std::vector<std::string> live_rows;
  {
    auto log = OpenWithHistory(dir_.Sub("live"));
    ASSERT_OK(log);
    auto engine = SyncEngine::Create(**log, testing::EngineFor(*sim_));
    ASSERT_OK(engine);
    ASSERT_OK((*engine)->Start());
    Sync(**engine, "both", 2);
  }
  // The same kind of history, written without the projection, then opened with it.
  {
    auto log = OpenWithHistory(dir_.Sub("late"), false);
    ASSERT_OK(log);
    auto engine = SyncEngine::Create(**log, testing::EngineFor(*sim_));
    ASSERT_OK(engine);
    ASSERT_OK((*engine)->Start());
    Sync(**engine, "both", 2);
  }
  auto log = OpenWithHistory(dir_.Sub("late"));
  ASSERT_OK(log);
  EXPECT_EQ(*(*log)->Checkpoint(HistoryProjection::kName), (*log)->Head().seq);
  auto page = ListHistory(**log, {});
  ASSERT_OK(page);
  ASSERT_EQ(page->runs.size(), 4u);
  for (const auto& r : page->runs) {
    EXPECT_EQ(r.status, kRunCompleted);
    auto events = (*log)->ReadStream(RunStreamId(r.id));
    ASSERT_OK(events);
    RunRecord folded;
    for (const auto& e : *events) ASSERT_OK(ApplyRunEvent(folded, e));
    EXPECT_EQ(EncodeFields(r), EncodeFields(folded));
  }
}

TEST_F(HistoryTest, ACursorNoPageGaveIsRefused) {
  StartEngine("db");
  Sync(*engine_, "main", 3);
  HistoryQuery q;
  q.limit = 1;
  auto first = ListHistory(*log_, q);
  ASSERT_OK(first);
  ASSERT_FALSE(first->next_cursor.empty());
  q.cursor = first->next_cursor;
  EXPECT_OK(ListHistory(*log_, q));
  for (const std::string& bad : std::vector<std::string>{"abc", "%%%", "0006619cf6f27e72ba843ef8", "0006619CF6F27E72BA843EF8", std::string(64, 'f')}) {
    q.cursor = bad;
    auto page = ListHistory(*log_, q);
    ASSERT_FALSE(page.ok()) << bad;
    EXPECT_EQ(page.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(page.status().message().find("cursor is not one this history issued"), std::string::npos);
  }
}

}  // namespace
}  // namespace marketsync
