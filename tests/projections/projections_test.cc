// The four projections against a real engine and simulator: their contents, rebuild equal to
// live, verify naming what is wrong, as-of equal to what was live then, and import.

#include <gtest/gtest.h>

#include <thread>

#include "schema/payload_codec.h"
#include "projections/all.h"
#include "projections/catalog.h"
#include "projections/history.h"
#include "projections/stats.h"
#include "projections/status.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/raw_db.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kOffers = 150;

// What the history listing answered at one point: each row's bytes, newest first.
std::vector<std::string> HistoryRows(const KvReader& reader) {
  auto page = ListHistory(reader, HistoryQuery{std::nullopt, std::nullopt, std::nullopt, std::nullopt, 1000, ""});
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  std::vector<std::string> rows;
  if (page.ok()) {
    for (const auto& r : page->runs) rows.push_back(EncodeFields(r));
  }
  return rows;
}

std::map<std::string, std::string> Digests(const EventLog& log) {
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
    auto s = sim::Simulator::Start(testing::QuietSimulator(kOffers), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
    Open();
  }
  void Open() {
    auto log = testing::OpenEngineLog(dir_.Sub("db"));
    ASSERT_OK(log);
    log_ = std::move(log).value();
    EngineOptions eo = testing::EngineFor(*sim_);
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
    return testing::FullSync(account, per_page);
  }
  std::vector<std::string> Run(const StartSyncRequest& request) { return testing::SyncToEnd(*engine_, request); }
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

  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(ProjectionsTest, CatalogStatsAndStatusFollowTheRuns) {
  Run(Full("both"));
  auto main = SearchCatalog(*log_, CatalogQuery{"main", "", 0, 1000});
  ASSERT_OK(main);
  EXPECT_EQ(main->total, kOffers);
  ASSERT_EQ(main->offers.size(), kOffers);
  std::map<uint64_t, std::string> catalog;
  for (const auto& o : main->offers) catalog[o.offer_id] = o.content_hash;
  EXPECT_EQ(catalog, testing::MirroredProducts(*log_, "main"));
  for (size_t i = 1; i < main->offers.size(); ++i) EXPECT_GT(main->offers[i - 1].last_seq, main->offers[i].last_seq);

  // A known SKU, searched in other case, and a name substring.
  const CatalogEntry& some = main->offers[17];
  ASSERT_FALSE(some.summary.part_number.empty());
  ASSERT_FALSE(some.summary.name.empty());
  std::string upper = some.summary.part_number;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto by_sku = SearchCatalog(*log_, CatalogQuery{std::nullopt, upper, 0, 50});
  ASSERT_OK(by_sku);
  ASSERT_GE(by_sku->total, 1u);
  EXPECT_TRUE(std::any_of(by_sku->offers.begin(), by_sku->offers.end(),
                          [&](const CatalogEntry& e) { return e.offer_id == some.offer_id && e.account == "main"; }));
  auto none = SearchCatalog(*log_, CatalogQuery{std::nullopt, "no such offer anywhere", 0, 50});
  ASSERT_OK(none);
  EXPECT_EQ(none->total, 0u);
  auto paged = SearchCatalog(*log_, CatalogQuery{std::nullopt, "", 290, 50});
  ASSERT_OK(paged);
  EXPECT_EQ(paged->total, 2 * kOffers);
  EXPECT_EQ(paged->offers.size(), 10u);
  EXPECT_FALSE(SearchCatalog(*log_, CatalogQuery{std::nullopt, "", 0, 0}).ok());

  // Drift: the catalog and the stats follow what the simulator changed.
  auto tick = sim_->Tick("main");
  ASSERT_OK(tick);
  Run(Full("main"));
  auto stats = GetStats(*log_);
  ASSERT_OK(stats);
  ASSERT_EQ(stats->accounts.size(), 2u);
  const AccountStats& m = stats->accounts[1].account == "main" ? stats->accounts[1] : stats->accounts[0];
  EXPECT_EQ(m.offers, kOffers + tick->created.size() - tick->removed.size());
  EXPECT_EQ(m.runs_completed, 2u);
  EXPECT_DOUBLE_EQ(m.SuccessRate(), 1.0);
  EXPECT_EQ(stats->total_offers, 2 * kOffers + tick->created.size() - tick->removed.size());
  auto after = SearchCatalog(*log_, CatalogQuery{"main", "", 0, 1000});
  ASSERT_OK(after);
  EXPECT_EQ(after->total, m.offers);
  catalog.clear();
  for (const auto& o : after->offers) catalog[o.offer_id] = o.content_hash;
  EXPECT_EQ(catalog, testing::MirroredProducts(*log_, "main"));

  // Status: a run shows while it runs (checked inside), and nothing is left after.
  const std::string cancelled = RunAndCancel();
  auto active = ListActiveRuns(*log_, 0);
  ASSERT_OK(active);
  EXPECT_TRUE(active->empty());
  stats = GetStats(*log_);
  ASSERT_OK(stats);
  const AccountStats& m2 = stats->accounts[1].account == "main" ? stats->accounts[1] : stats->accounts[0];
  EXPECT_EQ(m2.runs_cancelled, 1u);
  EXPECT_EQ(m2.last_run_id, cancelled);
  EXPECT_NEAR(m2.SuccessRate(), 2.0 / 3.0, 1e-9);
}

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

// A product event of payload version 1 (before the offer summary was added).
struct ProductCreatedV1 {
  std::string account;
  uint64_t offer_id = 0;
  std::string run_id, content_hash, raw_json;
  template <class V> void Visit(V&& v) {
    v("account", account);
    v("offer_id", offer_id);
    v("run_id", run_id);
    v("content_hash", content_hash);
    v("raw_json", raw_json);
  }
};

OfferSummary Summary(const std::string& sku, const std::string& price) {
  OfferSummary s;
  s.part_number = sku;
  s.name = "Name of " + sku;
  s.sale_price = price;
  s.currency = "RON";
  s.stock = 3;
  s.status = 1;
  return s;
}

// The catalog's whole-log fold (rows decoded in memory, buffers reused between events) gives
// the same rows as the live fold through the write batch, over an offer's whole life: created,
// updated, removed, created again under the same id, old payload versions, and an account
// whose offers were all removed.
TEST(CatalogFoldTest, WholeLogFoldEqualsTheLiveRowsOverAnOffersLife) {
  testing::TempDir dir;
  EventLogOptions o = SyncLogOptions();
  o.projections.clear();  // only the projections this test registers
  o.projections.push_back(std::make_unique<CatalogProjection>());
  auto log = EventLog::Open(dir.Sub("db"), std::move(o));
  ASSERT_OK(log);
  // Each event on its offer's stream, as the engine writes them.
  struct OfferEvent {
    std::string account;
    uint64_t offer_id;
    NewEvent event;
  };
  auto step = [&](std::vector<OfferEvent> events) {
    Step s;
    for (auto& e : events) s.streams.push_back({ProductStreamId(e.account, e.offer_id), kAnyVersion, {std::move(e.event)}});
    ASSERT_OK((*log)->Append(std::move(s)));
  };
  const std::string run = "0000000000000001aaaaaaaa";
  step({{"main", 1, MakeEvent(ProductCreated{"main", 1, run, std::string(64, 'a'), R"({"id":1})", Summary("SKU-1", "10.00")})},
        {"main", 2, MakeEvent(ProductCreated{"main", 2, run, std::string(64, 'b'), R"({"id":2})", Summary("SKU-2", "20.00")})},
        {"fbe", 1, MakeEvent(ProductCreated{"fbe", 1, run, std::string(64, 'c'), R"({"id":1})", Summary("FBE-1", "5.00")})}});
  step({{"main", 1, MakeEvent(ProductUpdated{"main", 1, run, std::string(64, 'd'), {"sale_price"}, R"({"id":1,"p":2})",
                                             Summary("SKU-1", "11.50")})},
        {"main", 2, MakeEvent(ProductRemoved{"main", 2, run})}, {"fbe", 1, MakeEvent(ProductRemoved{"fbe", 1, run})}});
  step({{"main", 2, MakeEvent(ProductCreated{"main", 2, run, std::string(64, 'f'), R"({"id":2,"back":1})", Summary("SKU-2b", "21.00")})}});
  // Version 1 payloads carry no summary: the row's summary must come out empty, not left over
  // from the event decoded before (whose buffers the fold reuses).
  step({{"main", 3, NewEvent{static_cast<uint16_t>(EventType::kProductCreated), 1,
                             EncodeFields(ProductCreatedV1{"main", 3, run, std::string(64, 'e'), R"({"id":3})"})}}});
  for (uint64_t id = 10; id < 1'000; ++id) {  // enough offers to grow the fold's table
    step({{"main", id, MakeEvent(ProductCreated{"main", id, run, std::string(64, 'g'), "{}", Summary("SKU-" + std::to_string(id), "1.00")})}});
  }
  for (uint64_t id = 10; id < 1'000; id += 3) step({{"main", id, MakeEvent(ProductRemoved{"main", id, run})}});
  // Removals of offers that have no row change nothing, in an account never seen either.
  step({{"main", 5'000, MakeEvent(ProductRemoved{"main", 5'000, run})}, {"ghost", 1, MakeEvent(ProductRemoved{"ghost", 1, run})}});

  const std::vector<std::string> families = (*log)->projections()[0]->column_families();
  auto live = DigestFamilies(**log, families);
  ASSERT_OK(live);
  CatalogProjection catalog;
  MemoryStore folded;
  ASSERT_OK(FoldLog(**log, {&catalog}, folded));
  auto fold = DigestFamilies(folded, families);
  ASSERT_OK(fold);
  auto diff = FirstDifference(**log, folded, families);
  ASSERT_OK(diff);
  EXPECT_EQ(*fold, *live) << (diff->has_value() ? (*diff)->family + " " + PrintableKey((*diff)->key) + ": " + (*diff)->what
                                                  : "no row differs");

  auto back = GetCatalogOffer(folded, "main", 2);
  ASSERT_OK(back);
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->summary.part_number, "SKU-2b");
  EXPECT_EQ((*back)->last_change, "created");
  auto old = GetCatalogOffer(folded, "main", 3);
  ASSERT_OK(old);
  ASSERT_TRUE(old->has_value());
  EXPECT_EQ((*old)->summary.part_number, "");
  EXPECT_EQ((*old)->content_hash, std::string(64, 'e'));
  auto gone = GetCatalogOffer(folded, "fbe", 1);
  ASSERT_OK(gone);
  EXPECT_FALSE(gone->has_value());
  auto counts = CatalogCounts(folded);
  ASSERT_OK(counts);
  const std::map<std::string, uint64_t> by_account(counts->begin(), counts->end());
  EXPECT_EQ(by_account, (std::map<std::string, uint64_t>{{"fbe", 0}, {"main", 3 + 990 - 330}}));
}

TEST(CatalogProjectionTest, ProductStreamIdsNameTheirOffer) {
  EXPECT_EQ(ProductStreamId("main", 1000001), "product-main-1000001");
  EXPECT_TRUE(IsProductStreamOf("product-main-1000001", "main", 1000001));
  EXPECT_TRUE(IsProductStreamOf("product-fb-e-7", "fb-e", 7));  // an account with a dash
  EXPECT_FALSE(IsProductStreamOf("product-fb-e-7", "fb", 7));
  EXPECT_FALSE(IsProductStreamOf("product-main-10", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("product-main-1", "main", 10));
  EXPECT_FALSE(IsProductStreamOf("product-main_1", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("products-main-1", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("product-fbe-1", "main", 1));
  EXPECT_FALSE(IsProductStreamOf("", "main", 1));
}

// The catalog reads no row for the first event of an offer's stream, which is only right when
// no other stream writes that offer's row: a product event elsewhere is refused, by the live
// fold (nothing lands) and by a rebuild's fold alike.
TEST(CatalogProjectionTest, ProductEventsOffTheirOffersStreamAreRefused) {
  const std::string run = "0000000000000001aaaaaaaa";
  auto created = [&](uint64_t id) {
    return MakeEvent(ProductCreated{"main", id, run, std::string(64, 'a'), "{}", Summary("SKU", "1.00")});
  };
  testing::TempDir dir;
  {
    EventLogOptions o = SyncLogOptions();
    o.projections.clear();  // only the projections this test registers
    o.projections.push_back(std::make_unique<CatalogProjection>());
    auto log = EventLog::Open(dir.Sub("live"), std::move(o));
    ASSERT_OK(log);
    for (const char* stream : {"product-main-2", "product-test", "run-x"}) {
      Step s;
      s.streams.push_back({stream, kAnyVersion, {created(1)}});
      auto r = (*log)->Append(std::move(s));
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << stream;
      EXPECT_NE(r.status().message().find("belongs on product-main-1"), std::string::npos) << r.status().ToString();
    }
    Step removed;
    removed.streams.push_back({"product-main-2", kAnyVersion, {MakeEvent(ProductRemoved{"main", 1, run})}});
    EXPECT_EQ((*log)->Append(std::move(removed)).status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ((*log)->Head().seq, 0u);
    auto counts = CatalogCounts(**log);
    ASSERT_OK(counts);
    EXPECT_TRUE(counts->empty());
  }
  // A log written without the catalog holds such an event; folding the catalog over it fails.
  auto bare = EventLog::Open(dir.Sub("bare"), [] {
    EventLogOptions o = SyncLogOptions();
    o.projections.clear();
    return o;
  }());
  ASSERT_OK(bare);
  Step s;
  s.streams.push_back({"product-main-2", kAnyVersion, {created(1)}});
  ASSERT_OK((*bare)->Append(std::move(s)));
  CatalogProjection catalog;
  MemoryStore folded;
  EXPECT_EQ(FoldLog(**bare, {&catalog}, folded).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace marketsync
