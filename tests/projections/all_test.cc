// Every projection together: rebuild equal to live, verify naming what is wrong, an
// interrupted rebuild redone, as-of equal to what was live then, and import.

#include "tests/projections/projections_fixture.h"

namespace marketsync::testing {
namespace {

TEST_F(ProjectionsTest, RebuildGivesTheLiveDigestsAndVerifyAgrees) {
  // Many runs: drift, a failing page, a cancel, a restart with a run interrupted.
  Run(Full("both"));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(sim_->Tick("main"));
    ASSERT_OK(sim_->Tick("fbe"));
    Run(Full("both"));
  }
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","page":2,"fault":"http_500"}]})"));
  Run(Full("fbe", 50));
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
  RunAndCancel();
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"main","resource":"read","page":2,"fault":"slow","delay_ms":2000,"times":1}]})"));
  ASSERT_OK(engine_->StartSync(Full("main", 50)));
  std::this_thread::sleep_for(300ms);
  Close();  // interrupted at a page boundary, resumed at the next open
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
  Open();
  for (int i = 0; i < 200 && !ListActiveRuns(*log_, 0)->empty(); ++i) std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(ListActiveRuns(*log_, 0)->empty());
  Run(Full("both", 40));
  Close();

  EventLogOptions o = SyncLogOptions();
  auto log = EventLog::Open(dir_.Sub("db"), std::move(o));
  ASSERT_OK(log);
  const std::map<std::string, std::string> live = Digests(**log);
  auto checks = VerifyProjections(**log);
  ASSERT_OK(checks);
  for (const auto& c : *checks) {
    EXPECT_TRUE(c.ok()) << c.name;
    EXPECT_EQ(c.live_digest, live.at(c.name));
    EXPECT_EQ(c.checkpoint, (*log)->Head().seq);
  }
  for (std::string_view name : AllProjectionNames()) {
    auto report = (*log)->RebuildProjection(name);
    ASSERT_OK(report);
    EXPECT_EQ(report->events, (*log)->Head().seq);
    EXPECT_EQ(report->checkpoint, (*log)->Head().seq);
    if (name != StatusProjection::kName) {  // no run is active: the status rows are none
      EXPECT_GT(report->rows, 0u) << name;
    }
  }
  EXPECT_EQ(Digests(**log), live);
  EXPECT_EQ((*log)->RebuildProjection("nope").status().code(), Status::Code::kNotFound);
}


TEST_F(ProjectionsTest, VerifyNamesTheProjectionAndKeyOfACorruptedRow) {
  Run(Full("both"));
  Close();
  std::string key;
  {
    testing::RawDb raw(dir_.Sub("db"));
    key = raw.FirstKey(std::string(CatalogProjection::kOffers));
    ASSERT_FALSE(key.empty());
    std::string row = raw.Get(std::string(CatalogProjection::kOffers), key);
    row[row.size() / 2] ^= 0x01;
    raw.Put(std::string(CatalogProjection::kOffers), key, row);
  }
  Open();
  auto checks = VerifyProjections(*log_);
  ASSERT_OK(checks);
  for (const auto& c : *checks) {
    if (c.name != CatalogProjection::kName) {
      EXPECT_TRUE(c.ok()) << c.name;
      continue;
    }
    EXPECT_FALSE(c.ok());
    ASSERT_TRUE(c.first_difference.has_value());
    EXPECT_EQ(c.first_difference->family, CatalogProjection::kOffers);
    EXPECT_EQ(c.first_difference->key, key);
    EXPECT_EQ(c.first_difference->what, "values differ");
  }
  // A rebuild repairs it.
  ASSERT_OK(log_->RebuildProjection(CatalogProjection::kName));
  checks = VerifyProjections(*log_);
  ASSERT_OK(checks);
  for (const auto& c : *checks) EXPECT_TRUE(c.ok()) << c.name;
}


TEST_F(ProjectionsTest, AnInterruptedRebuildIsRedoneAtTheNextOpen) {
  Run(Full("both"));
  const std::map<std::string, std::string> live = Digests(*log_);
  Close();
  {
    // As a crash mid-rebuild leaves it: the marker, no checkpoint, half the rows.
    testing::RawDb raw(dir_.Sub("db"));
    raw.Put("meta", "rebuilding/catalog", "");
    raw.Delete("meta", "checkpoint/catalog");
    raw.Delete(std::string(CatalogProjection::kOffers), raw.FirstKey(std::string(CatalogProjection::kOffers)));
  }
  Open();
  EXPECT_EQ(Digests(*log_), live);
  auto checks = VerifyProjections(*log_);
  ASSERT_OK(checks);
  for (const auto& c : *checks) EXPECT_TRUE(c.ok()) << c.name;
}


TEST_F(ProjectionsTest, AsOfAnswersWhatTheLiveProjectionAnsweredThen) {
  struct Point {
    uint64_t seq;
    int64_t time_us;
    std::vector<std::string> history;
    uint64_t offers;
  };
  std::vector<Point> points;
  auto capture = [&] {
    auto stats = GetStats(*log_);
    ASSERT_OK(stats);
    points.push_back({log_->Head().seq, 0, HistoryRows(*log_), stats->total_offers});
    if (log_->Head().seq == 0) return;
    // The time of the head event.
    auto it = log_->Read(log_->Head().seq);
    ASSERT_TRUE(it->Valid());
    points.back().time_us = it->envelope().recorded_at_us;
  };
  capture();  // empty
  Run(Full("main"));
  capture();
  ASSERT_OK(sim_->Tick("main"));
  Run(Full("both"));
  capture();
  RunAndCancel();
  capture();
  Run(Full("fbe", 30));
  capture();

  for (const auto& p : points) {
    auto view = FoldAsOf(*log_, FoldLimit{p.seq, std::nullopt});
    ASSERT_OK(view);
    EXPECT_EQ((*view)->fold.last_seq, p.seq);
    EXPECT_EQ(HistoryRows((*view)->store), p.history) << "as of seq " << p.seq;
    auto stats = GetStats((*view)->store);
    ASSERT_OK(stats);
    EXPECT_EQ(stats->total_offers, p.offers);
    if (p.seq == 0) continue;
    auto by_time = FoldAsOf(*log_, FoldLimit{std::nullopt, p.time_us}, {HistoryProjection::kName});
    ASSERT_OK(by_time);
    EXPECT_GE((*by_time)->fold.last_seq, p.seq);  // events of the same microsecond come along
    if ((*by_time)->fold.last_seq == p.seq) {
      EXPECT_EQ(HistoryRows((*by_time)->store), p.history);
    }
  }
  EXPECT_FALSE(FoldAsOf(*log_, {}, {"nope"}).ok());
}


TEST_F(ProjectionsTest, ImportRebuildsAnIdenticalLog) {
  Run(Full("both"));
  ASSERT_OK(sim_->Tick("fbe"));
  Run(Full("fbe"));
  std::vector<std::string> exported;
  for (auto it = log_->Read(1); it->Valid(); it->Next()) exported.emplace_back(it->raw());
  const std::map<std::string, std::string> live = Digests(*log_);
  const LogHead head = log_->Head();

  EventLogOptions o = SyncLogOptions();
  auto copy = EventLog::Open(dir_.Sub("copy"), std::move(o));
  ASSERT_OK(copy);
  // In two parts, as an importer reading a file in chunks does.
  const size_t half = exported.size() / 2;
  ASSERT_OK((*copy)->Import({exported.begin(), exported.begin() + half}));
  ASSERT_OK((*copy)->Import({exported.begin() + half, exported.end()}));
  EXPECT_EQ((*copy)->Head().seq, head.seq);
  EXPECT_EQ((*copy)->Head().hash, head.hash);
  auto report = (*copy)->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_EQ(Digests(**copy), live);
  // Streams read back the same.
  auto runs = ListHistory(*log_, {});
  ASSERT_OK(runs);
  for (const auto& r : runs->runs) {
    auto a = log_->ReadStream(RunStreamId(r.id));
    auto b = (*copy)->ReadStream(RunStreamId(r.id));
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_EQ(a->size(), b->size());
    for (size_t i = 0; i < a->size(); ++i) EXPECT_EQ((*a)[i].hash, (*b)[i].hash);
  }

  // An engine on the copy derives its product state from the log: the next sync of the same
  // catalogue finds nothing new.
  {
    auto engine = SyncEngine::Create(**copy, testing::EngineFor(*sim_));
    ASSERT_OK(engine);
    ASSERT_OK((*engine)->Start());
    EXPECT_EQ(testing::MirroredProducts(**copy, "fbe"), testing::MirroredProducts(*log_, "fbe"));
    EXPECT_EQ(testing::MirroredProducts(**copy, "main"), testing::MirroredProducts(*log_, "main"));
    StartSyncRequest r = Full("fbe");
    auto started = (*engine)->StartSync(r);
    ASSERT_OK(started);
    auto run = (*engine)->WaitForRun(started->runs[0].run_id, 60s);
    ASSERT_OK(run);
    EXPECT_EQ(run->status, kRunCompleted);
    EXPECT_EQ(run->created_items, 0u);
    EXPECT_EQ(run->updated_items, 0u);
    EXPECT_EQ(run->unchanged_items, run->processed_items);
    (*engine)->Shutdown();
  }

  // Nothing that does not continue the log gets in.
  auto again = (*copy)->Import({exported.front()});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kInvalidArgument);
  std::string altered = exported.back();
  altered[40] ^= 0x01;
  EventLogOptions o2 = SyncLogOptions();
  o2.projections.clear();  // only the projections this test registers
  auto third = EventLog::Open(dir_.Sub("third"), std::move(o2));
  ASSERT_OK(third);
  std::vector<std::string> with_altered(exported.begin(), exported.end());
  with_altered.back() = altered;
  EXPECT_FALSE((*third)->Import(with_altered).ok());
  EXPECT_EQ((*third)->Head().seq, 0u);  // all or nothing
}

}  // namespace
}  // namespace marketsync::testing
