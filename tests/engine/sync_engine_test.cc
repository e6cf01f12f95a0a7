// Sync runs end to end: the engine, the real event log, and the real simulator over loopback.

#include "engine/sync_engine.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "engine/emag/response_parser.h"
#include "engine/offer_fingerprint.h"
#include "base/sha256.h"
#include "schema/payload_codec.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;
using testing::EngineFor;
using testing::QuietSimulator;

class SyncEngineTest : public ::testing::Test {
 protected:
  void StartSim(sim::SimulatorOptions o) {
    auto s = sim::Simulator::Start(std::move(o), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
  }
  void OpenLog() {
    auto log = testing::OpenEngineLog(dir_.Sub("db"));
    ASSERT_OK(log);
    log_ = std::move(log).value();
  }
  void StartEngine(EngineOptions o) {
    if (!log_) OpenLog();
    auto e = SyncEngine::Create(*log_, std::move(o));
    ASSERT_OK(e);
    engine_ = std::move(e).value();
    ASSERT_OK(engine_->Start());
  }
  void Restart(EngineOptions o) {
    engine_.reset();
    log_.reset();
    OpenLog();
    StartEngine(std::move(o));
  }
  StartSyncRequest Full(const std::string& account) {
    StartSyncRequest r;
    r.account_type = account;
    r.include_inactive = true;
    return r;
  }
  RunRecord Run(const StartSyncRequest& request) {
    auto started = engine_->StartSync(request);
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return {};
    EXPECT_EQ(started->runs.size(), 1u);
    return Wait(started->runs[0].run_id);
  }
  RunRecord Wait(const std::string& run_id) {
    auto record = engine_->WaitForRun(run_id, 60s);
    EXPECT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_TRUE(record->terminal()) << run_id << " is still " << record->status;
    return *record;
  }
  // Starts a full sync of `main` against a slow simulator, one page in flight, and returns its
  // run id once it has committed `pages` pages (a run to cancel, interrupt or crash mid-way).
  // A simulator that answers after `latency_ms`, and an engine for "main" that asks one page at
  // a time: runs slow enough to act on mid-way. Returns the engine's options (for a restart).
  EngineOptions StartSlowEngine(uint32_t offers, uint32_t latency_ms) {
    sim::SimulatorOptions o = QuietSimulator(offers);
    o.latency_ms = latency_ms;
    StartSim(o);
    EngineOptions eo = EngineFor(*sim_, {"main"});
    eo.page_window = 1;
    StartEngine(eo);
    return eo;
  }

  std::string StartSlowRun(uint32_t offers, uint32_t latency_ms, uint32_t pages) {
    StartSlowEngine(offers, latency_ms);
    auto started = engine_->StartSync(Full("main"));
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (!started.ok()) return "";
    const std::string id = started->runs[0].run_id;
    for (int i = 0; i < 200 && engine_->GetRun(id)->pages_processed < pages; ++i) std::this_thread::sleep_for(20ms);
    return id;
  }

  // Offer ids of the product events of one type a run produced.
  std::set<uint64_t> ProductEvents(const std::string& run_id, EventType type) {
    std::set<uint64_t> out;
    for (auto it = log_->Read(1); it->Valid(); it->Next()) {
      const Envelope& e = it->envelope();
      if (e.type != static_cast<uint16_t>(type)) continue;
      if (type == EventType::kProductCreated) {
        auto p = DecodePayload<ProductCreated>(e.payload_version, e.payload);
        if (p->run_id == run_id) out.insert(p->offer_id);
      } else if (type == EventType::kProductUpdated) {
        auto p = DecodePayload<ProductUpdated>(e.payload_version, e.payload);
        if (p->run_id == run_id) out.insert(p->offer_id);
      } else if (type == EventType::kProductRemoved) {
        auto p = DecodePayload<ProductRemoved>(e.payload_version, e.payload);
        if (p->run_id == run_id) out.insert(p->offer_id);
      }
    }
    return out;
  }

  // The duplicate part numbers a run reported, as ServedDuplicatePartNumbers lists them.
  static std::vector<std::pair<std::string, std::vector<uint64_t>>> ReportedDuplicates(const RunRecord& r) {
    std::vector<std::pair<std::string, std::vector<uint64_t>>> out;
    for (const auto& d : r.duplicate_part_numbers) out.emplace_back(d.part_number, d.offer_ids);
    return out;
  }

  // Part numbers the simulator serves under several offer ids, with the ids ascending.
  std::vector<std::pair<std::string, std::vector<uint64_t>>> ServedDuplicatePartNumbers(const std::string& account) {
    std::map<std::string, std::vector<uint64_t>> by_part_number;
    auto offers = sim_->OffersForTest(account);
    EXPECT_TRUE(offers.ok());
    if (!offers.ok()) return {};
    for (const auto& [id, json] : *offers) {
      auto page = emag::ParseReadResponse(R"({"isError":false,"results":[)" + json + "]}");
      EXPECT_TRUE(page.ok());
      if (page.ok() && !page->offers.front().part_number.empty()) by_part_number[page->offers.front().part_number].push_back(id);
    }
    std::vector<std::pair<std::string, std::vector<uint64_t>>> out;
    for (auto& [pn, ids] : by_part_number) {
      std::sort(ids.begin(), ids.end());
      if (ids.size() > 1) out.emplace_back(pn, ids);
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<sim::Simulator> sim_;
  std::unique_ptr<EventLog> log_;
  std::unique_ptr<SyncEngine> engine_;
};

TEST_F(SyncEngineTest, FirstSyncCreatesSecondIsUnchangedDriftIsExact) {
  StartSim(QuietSimulator(1275));
  StartEngine(EngineFor(*sim_));
  StartSyncRequest both = Full("both");
  auto started = engine_->StartSync(both);
  ASSERT_OK(started);
  ASSERT_EQ(started->runs.size(), 2u);
  for (const auto& run : started->runs) {
    RunRecord r = Wait(run.run_id);
    EXPECT_EQ(r.status, kRunCompleted) << r.error_message;
    EXPECT_EQ(r.group_id, started->group_id);
    EXPECT_EQ(r.created_items, 1275u);
    EXPECT_EQ(r.processed_items, 1275u);
    EXPECT_EQ(r.total_items, 1275u);
    EXPECT_EQ(r.pages_total, 13u);
    EXPECT_EQ(r.pages_processed, 13u);
    EXPECT_EQ(r.attempt, 1u);
    // The simulator plants a few; the run names exactly those, in part number order.
    EXPECT_FALSE(ReportedDuplicates(r).empty());
    EXPECT_EQ(ReportedDuplicates(r), ServedDuplicatePartNumbers(r.account_type));
  }
  EXPECT_EQ(testing::MirroredProducts(*log_, "main"), testing::ServedProducts(*sim_, "main"));
  EXPECT_EQ(testing::MirroredProducts(*log_, "fbe"), testing::ServedProducts(*sim_, "fbe"));

  RunRecord again = Run(Full("main"));
  EXPECT_EQ(again.status, kRunCompleted);
  EXPECT_EQ(again.unchanged_items, 1275u);
  EXPECT_EQ(again.created_items + again.updated_items + again.removed_items, 0u);

  auto changes = sim_->Tick("main");
  ASSERT_OK(changes);
  RunRecord drift = Run(Full("main"));
  EXPECT_EQ(drift.status, kRunCompleted);
  EXPECT_EQ(drift.created_items, changes->created.size());
  EXPECT_EQ(drift.updated_items, changes->updated.size());
  EXPECT_EQ(drift.removed_items, changes->removed.size());
  EXPECT_EQ(ProductEvents(drift.id, EventType::kProductCreated),
            std::set<uint64_t>(changes->created.begin(), changes->created.end()));
  EXPECT_EQ(ProductEvents(drift.id, EventType::kProductUpdated),
            std::set<uint64_t>(changes->updated.begin(), changes->updated.end()));
  EXPECT_EQ(ProductEvents(drift.id, EventType::kProductRemoved),
            std::set<uint64_t>(changes->removed.begin(), changes->removed.end()));
  EXPECT_EQ(testing::MirroredProducts(*log_, "main"), testing::ServedProducts(*sim_, "main"));

  // The engine answers "same text?" from an in-memory index kept in step with its rows: after
  // the drift (offers created, updated, removed) the next sync finds nothing new, in this
  // engine and in a fresh one that loads the index from the database.
  for (int fresh = 0; fresh < 2; ++fresh) {
    if (fresh == 1) Restart(EngineFor(*sim_));
    RunRecord settled = Run(Full("main"));
    EXPECT_EQ(settled.status, kRunCompleted);
    EXPECT_EQ(settled.created_items + settled.updated_items + settled.removed_items, 0u) << "fresh engine: " << fresh;
    EXPECT_EQ(settled.unchanged_items, settled.processed_items);
  }
  EXPECT_TRUE(log_->Verify()->ok);
}

TEST_F(SyncEngineTest, UpdatesNameTheChangedFields) {
  StartSim(QuietSimulator(300));
  StartEngine(EngineFor(*sim_, {"main"}));
  Run(Full("main"));
  auto changes = sim_->Tick("main");
  ASSERT_OK(changes);
  RunRecord drift = Run(Full("main"));
  ASSERT_GT(drift.updated_items, 0u);
  bool found = false;
  for (auto it = log_->Read(1); it->Valid(); it->Next()) {
    if (it->envelope().type != static_cast<uint16_t>(EventType::kProductUpdated)) continue;
    auto p = DecodePayload<ProductUpdated>(it->envelope().payload_version, it->envelope().payload);
    ASSERT_OK(p);
    ASSERT_FALSE(p->changed_fields.empty());
    for (const auto& f : p->changed_fields) {
      EXPECT_TRUE(f == "sale_price" || f == "recommended_price" || f == "min_sale_price" || f == "max_sale_price" ||
                  f == "best_offer_sale_price" || f == "best_offer_recommended_price" || f == "stock" ||
                  f == "general_stock" || f == "estimated_stock" || f == "description")
          << f;
    }
    EXPECT_NE(p->raw_json.find("\"id\":" + std::to_string(p->offer_id)), std::string::npos);
    found = true;
  }
  EXPECT_TRUE(found);
}

// Product state rows written before version 3 hold a SHA-256 of the text where the raw hash
// now is (RawTextHash). No text matches such a hash: each offer takes the fingerprint path once,
// is found unchanged (the content hash is the same SHA-256 as before), and its row is rewritten.
TEST_F(SyncEngineTest, RowsWithAnOlderRawHashAreUnchangedAndRewritten) {
  StartSim(QuietSimulator(300));
  StartEngine(EngineFor(*sim_, {"main"}));
  ASSERT_EQ(Run(Full("main")).created_items, 300u);
  engine_.reset();

  Step downgrade;
  std::map<std::string, std::string> planted;  // key -> the old raw hash slot
  auto it = log_->Scan(kProductsFamily);
  ASSERT_OK(it);
  for ((*it)->Seek(""); (*it)->Valid(); (*it)->Next()) {
    auto state = DecodeProductState((*it)->value());
    ASSERT_OK(state);
    // A SHA-256 in the slot, as versions 1 and 2 kept there; of what does not matter (it was the
    // client's text, which this test cannot rebuild): no text's RawTextHash equals it.
    state->raw_hash.resize(32);
    Sha256(state->content_hash.data(), state->content_hash.size(), reinterpret_cast<uint8_t*>(state->raw_hash.data()));
    std::string row = EncodeProductState(*state);
    row[0] = 2;  // the layout of versions 2 and 3 is the same
    planted[std::string((*it)->key())] = std::string(row, 1, 32);
    downgrade.writes.push_back({std::string(kProductsFamily), std::string((*it)->key()), row});
  }
  ASSERT_EQ(downgrade.writes.size(), 300u);
  ASSERT_OK(log_->Append(std::move(downgrade)));

  StartEngine(EngineFor(*sim_, {"main"}));
  for (int pass = 0; pass < 2; ++pass) {
    RunRecord r = Run(Full("main"));
    EXPECT_EQ(r.status, kRunCompleted);
    EXPECT_EQ(r.unchanged_items, 300u) << "pass " << pass;
    EXPECT_EQ(r.created_items + r.updated_items + r.removed_items, 0u) << "pass " << pass;
    EXPECT_TRUE(ProductEvents(r.id, EventType::kProductUpdated).empty());
  }
  auto rows = log_->Scan(kProductsFamily);
  ASSERT_OK(rows);
  size_t n = 0;
  for ((*rows)->Seek(""); (*rows)->Valid(); (*rows)->Next(), ++n) {
    ASSERT_EQ((*rows)->value()[0], static_cast<char>(kFingerprintVersion));
    auto raw_hash = StoredRawHash((*rows)->value());
    ASSERT_OK(raw_hash);
    EXPECT_NE(*raw_hash, planted[std::string((*rows)->key())]);
    EXPECT_EQ(raw_hash->substr(16), std::string(16, '\0'));
  }
  EXPECT_EQ(n, 300u);
}

TEST_F(SyncEngineTest, ActiveOnlyRunsAndIncrementalRunsNeverRemove) {
  StartSim(QuietSimulator(500));
  StartEngine(EngineFor(*sim_, {"main"}));
  Run(Full("main"));
  auto changes = sim_->Tick("main");
  ASSERT_OK(changes);
  StartSyncRequest active_only = Full("main");
  active_only.include_inactive = false;
  RunRecord a = Run(active_only);
  EXPECT_EQ(a.status, kRunCompleted);
  EXPECT_EQ(a.removed_items, 0u);
  EXPECT_LT(a.processed_items, 500u);  // inactive and end-of-life offers are not read
  StartSyncRequest incremental = Full("main");
  incremental.mode = "incremental";
  RunRecord i = Run(incremental);
  EXPECT_EQ(i.status, kRunCompleted);
  EXPECT_EQ(i.removed_items, 0u);
  EXPECT_EQ(i.operation, "incremental_sync");
  RunRecord full = Run(Full("main"));
  EXPECT_EQ(full.removed_items, changes->removed.size());
}

TEST_F(SyncEngineTest, MaxPagesLimitsTheRunAndRemovesNothing) {
  StartSim(QuietSimulator(500));
  StartEngine(EngineFor(*sim_, {"main"}));
  StartSyncRequest r = Full("main");
  r.max_pages = 2;
  RunRecord limited = Run(r);
  EXPECT_EQ(limited.status, kRunCompleted);
  EXPECT_EQ(limited.pages_processed, 2u);
  EXPECT_EQ(limited.processed_items, 200u);
  EXPECT_EQ(limited.removed_items, 0u);
}

TEST_F(SyncEngineTest, RetriedPagesComplete) {
  StartSim(QuietSimulator(500));
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"main","page":2,"fault":"http_500","times":2},
                                         {"account":"main","page":4,"fault":"reset","times":1}]})"));
  StartEngine(EngineFor(*sim_, {"main"}));
  RunRecord r = Run(Full("main"));
  EXPECT_EQ(r.status, kRunCompleted);
  EXPECT_EQ(r.retries, 3u);
  EXPECT_EQ(r.created_items, 500u);
}

TEST_F(SyncEngineTest, PagesThatKeepFailingAreGapsNeverCompleted) {
  StartSim(QuietSimulator(500));
  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"main","page":3,"fault":"http_502"}]})"));
  StartEngine(EngineFor(*sim_, {"main"}));
  RunRecord r = Run(Full("main"));
  EXPECT_EQ(r.status, kRunCompletedWithGaps);
  EXPECT_EQ(r.pages_failed, std::vector<uint32_t>{3});
  EXPECT_EQ(r.created_items, 400u);
  EXPECT_EQ(r.failed_items, 100u);
  EXPECT_EQ(r.removed_items, 0u);
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].message.find("HTTP 502"), std::string::npos);
}

TEST_F(SyncEngineTest, AuthAndIpFailuresFailFastWithTheReason) {
  StartSim(QuietSimulator(500));
  EngineOptions o = EngineFor(*sim_, {"main", "fbe"});
  o.accounts[0].password = "wrong-password-xyz";
  StartEngine(o);
  RunRecord auth = Run(Full("main"));
  EXPECT_EQ(auth.status, kRunFailed);
  EXPECT_EQ(auth.error_class, "auth");
  EXPECT_NE(auth.error_message.find("refused the credentials"), std::string::npos) << auth.error_message;
  EXPECT_EQ(auth.error_message.find("wrong-password-xyz"), std::string::npos);
  EXPECT_LE(auth.api_requests_made, 2u);  // the count, maybe one page: nothing retried

  ASSERT_OK(sim_->SetFaults(R"({"rules":[{"account":"fbe","resource":"read","page":2,"fault":"invalid_ip"}]})"));
  RunRecord ip = Run(Full("fbe"));
  EXPECT_EQ(ip.status, kRunFailed);
  EXPECT_NE(ip.error_message.find("Invalid vendor ip"), std::string::npos) << ip.error_message;
  // The account is free again.
  ASSERT_OK(sim_->SetFaults(R"({"rules":[]})"));
  EXPECT_EQ(Run(Full("fbe")).status, kRunCompleted);
}

TEST_F(SyncEngineTest, ValidationRefusesBadRequestsAndWritesNothing) {
  StartSim(QuietSimulator(10));
  StartEngine(EngineFor(*sim_));
  const uint64_t head = log_->Head().seq;
  auto refuse = [&](StartSyncRequest r, const char* says) {
    auto s = engine_->StartSync(r);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find(says), std::string::npos) << s.status().message();
  };
  StartSyncRequest r = Full("main");
  r.account_type = "nope";
  refuse(r, "unknown account_type \"nope\": one of main, fbe or both");
  r = Full("main");
  r.account_type = "";
  refuse(r, "account_type is required");
  r = Full("main");
  r.mode = "fast";
  refuse(r, "mode must be");
  r = Full("main");
  r.max_pages = 0;
  refuse(r, "max_pages must be in 1..1000000");
  r.max_pages = 1'000'001;
  refuse(r, "max_pages must be in 1..1000000");
  r = Full("main");
  r.items_per_page = 101;
  refuse(r, "items_per_page must be in 1..100");
  r.items_per_page = 0;
  refuse(r, "items_per_page must be in 1..100");
  r.items_per_page = -5;
  refuse(r, "items_per_page must be in 1..100");
  r = Full("main");
  r.triggered_by = "";
  refuse(r, "triggered_by must be 1..100 bytes");
  r = Full("main");
  r.conflict_strategy = "local_priority";
  refuse(r, "eMAG's data always wins");
  r = Full("main");
  r.idempotency_key = std::string(300, 'k');
  refuse(r, "idempotency key");
  EXPECT_EQ(log_->Head().seq, head);
}

TEST_F(SyncEngineTest, OneRunPerAccountAtATime) {
  StartSlowEngine(500, 100);
  std::vector<Result<StartSyncResult>> results(2, Status::Unavailable("not run"));
  std::thread a([&] { results[0] = engine_->StartSync(Full("main")); });
  std::thread b([&] { results[1] = engine_->StartSync(Full("main")); });
  a.join();
  b.join();
  const int ok = (results[0].ok() ? 1 : 0) + (results[1].ok() ? 1 : 0);
  ASSERT_EQ(ok, 1);
  const auto& winner = results[0].ok() ? results[0] : results[1];
  const auto& loser = results[0].ok() ? results[1] : results[0];
  EXPECT_EQ(loser.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(loser.status().message().find(winner->runs[0].run_id), std::string::npos) << loser.status().message();
  // "both" is refused whole while one account is busy.
  EXPECT_EQ(engine_->StartSync(Full("both")).status().code(), Status::Code::kFailedPrecondition);
  Wait(winner->runs[0].run_id);
  EXPECT_OK(engine_->StartSync(Full("main")));
}

TEST_F(SyncEngineTest, IdempotencyKeyReturnsTheOriginalRunsForTheLifeOfTheLog) {
  StartSim(QuietSimulator(100));
  StartEngine(EngineFor(*sim_));
  StartSyncRequest r = Full("both");
  r.idempotency_key = "erp-order-42";
  auto first = engine_->StartSync(r);
  ASSERT_OK(first);
  EXPECT_FALSE(first->replayed);
  auto second = engine_->StartSync(r);
  ASSERT_OK(second);
  EXPECT_TRUE(second->replayed);
  EXPECT_EQ(second->group_id, first->group_id);
  ASSERT_EQ(second->runs.size(), 2u);
  EXPECT_EQ(second->runs[0].run_id, first->runs[0].run_id);
  for (const auto& run : first->runs) Wait(run.run_id);
  Restart(EngineFor(*sim_));
  auto third = engine_->StartSync(r);
  ASSERT_OK(third);
  EXPECT_TRUE(third->replayed);
  EXPECT_EQ(third->runs[1].run_id, first->runs[1].run_id);
}

TEST_F(SyncEngineTest, CancelStopsARunAtAPageBoundary) {
  const std::string id = StartSlowRun(1000, 150, 1);
  ASSERT_FALSE(id.empty());
  auto cancel = engine_->CancelSync(id, "operator");
  ASSERT_OK(cancel);
  EXPECT_EQ(cancel->outcome, CancelResult::Outcome::kRequested);
  auto again = engine_->CancelSync(id, "operator");
  ASSERT_OK(again);
  EXPECT_NE(again->outcome, CancelResult::Outcome::kRequested);
  RunRecord r = Wait(id);
  EXPECT_EQ(r.status, kRunCancelled);
  EXPECT_TRUE(r.cancel_requested);
  EXPECT_EQ(r.cancel_requested_by, "operator");
  EXPECT_LT(r.pages_processed, 10u);
  auto finished = engine_->CancelSync(id, "operator");
  ASSERT_OK(finished);
  EXPECT_EQ(finished->outcome, CancelResult::Outcome::kAlreadyFinished);
  EXPECT_EQ(finished->status, kRunCancelled);
  EXPECT_EQ(engine_->CancelSync("nope", "x").status().code(), Status::Code::kNotFound);
  EXPECT_OK(engine_->StartSync(Full("main")));  // the lease was released
}

TEST_F(SyncEngineTest, DeadlineFailsTheRun) {
  sim::SimulatorOptions o = QuietSimulator(1000);
  o.latency_ms = 100;
  StartSim(o);
  EngineOptions eo = EngineFor(*sim_, {"main"});
  eo.page_window = 1;
  eo.run_deadline = 350ms;
  eo.client.rate_limit = emag::RateLimit{5, 1000, 0ms};
  StartEngine(eo);
  RunRecord r = Run(Full("main"));
  EXPECT_EQ(r.status, kRunFailed);
  EXPECT_EQ(r.error_class, "deadline");
}

TEST_F(SyncEngineTest, ShutdownInterruptsAndTheNextStartResumes) {
  const std::string id = StartSlowRun(1500, 60, 3);
  ASSERT_FALSE(id.empty());
  engine_->Shutdown();
  RunRecord interrupted = *engine_->GetRun(id);
  EXPECT_EQ(interrupted.status, kRunInterrupted);
  EXPECT_EQ(interrupted.interrupted_reason, "shutdown");
  EXPECT_EQ(engine_->StartSync(Full("main")).status().code(), Status::Code::kUnavailable);
  const uint32_t done = interrupted.pages_processed;
  EXPECT_GE(done, 3u);
  EXPECT_LT(done, 15u);

  Restart(EngineFor(*sim_, {"main"}));
  RunRecord resumed = Wait(id);
  EXPECT_EQ(resumed.status, kRunCompleted);
  EXPECT_EQ(resumed.attempt, 2u);
  EXPECT_EQ(resumed.pages_processed, 15u);
  EXPECT_EQ(resumed.created_items, 1500u);
  EXPECT_EQ(testing::MirroredProducts(*log_, "main"), testing::ServedProducts(*sim_, "main"));
}

// A run that completes in one attempt takes its part numbers from the pages and its removals
// from the in-memory index; a resumed one reads both from the product rows. The resumed run
// here follows a drift, so it has offers to remove and duplicates to name.
TEST_F(SyncEngineTest, AResumedRunFindsRemovalsAndDuplicatesInTheRows) {
  const EngineOptions eo = StartSlowEngine(1500, 60);
  ASSERT_EQ(Run(Full("main")).status, kRunCompleted);
  auto changes = sim_->Tick("main");
  ASSERT_OK(changes);
  ASSERT_FALSE(changes->removed.empty());
  auto started = engine_->StartSync(Full("main"));
  ASSERT_OK(started);
  const std::string id = started->runs[0].run_id;
  for (int i = 0; i < 200 && engine_->GetRun(id)->pages_processed < 3; ++i) std::this_thread::sleep_for(20ms);
  engine_->Shutdown();
  ASSERT_EQ(engine_->GetRun(id)->status, kRunInterrupted);

  Restart(eo);
  RunRecord resumed = Wait(id);
  EXPECT_EQ(resumed.status, kRunCompleted);
  EXPECT_EQ(resumed.attempt, 2u);
  EXPECT_EQ(resumed.removed_items, changes->removed.size());
  EXPECT_EQ(ProductEvents(id, EventType::kProductRemoved),
            std::set<uint64_t>(changes->removed.begin(), changes->removed.end()));
  EXPECT_FALSE(ReportedDuplicates(resumed).empty());
  EXPECT_EQ(ReportedDuplicates(resumed), ServedDuplicatePartNumbers("main"));
  EXPECT_EQ(testing::MirroredProducts(*log_, "main"), testing::ServedProducts(*sim_, "main"));
}

TEST_F(SyncEngineTest, NoResumeOrTooManyAttemptsFailsTheRun) {
  const std::string id = StartSlowRun(1000, 50, 1);
  ASSERT_FALSE(id.empty());
  EngineOptions no_resume = EngineFor(*sim_, {"main"});
  no_resume.resume = false;
  Restart(no_resume);
  RunRecord r = *engine_->GetRun(id);
  EXPECT_EQ(r.status, kRunFailed);
  EXPECT_NE(r.error_message.find("resuming is switched off"), std::string::npos);
  EXPECT_OK(engine_->StartSync(Full("main")));
}

TEST_F(SyncEngineTest, SchedulerStartsPeriodicSyncs) {
  StartSim(QuietSimulator(50));
  EngineOptions eo = EngineFor(*sim_, {"main"});
  eo.schedule_interval = 200ms;
  StartEngine(eo);
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    std::this_thread::sleep_for(20ms);
    for (auto it = log_->Read(1); it->Valid(); it->Next()) {
      if (it->envelope().type != static_cast<uint16_t>(EventType::kSyncRequested)) continue;
      auto p = DecodePayload<SyncRequested>(it->envelope().payload_version, it->envelope().payload);
      if (p.ok() && p->triggered_by == "scheduler") seen = true;
    }
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace marketsync
