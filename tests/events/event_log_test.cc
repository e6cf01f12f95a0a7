#include "events/event_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "events/envelope_codec.h"
#include "tests/testutil/log_backend.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/raw_db.h"
#include "tests/testutil/faulty_fs.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

using testing::CountingProjection;
using testing::MakeStep;

std::unique_ptr<EventLog> OpenOrDie(const std::string& path, EventLogOptions options = testing::TestLogOptions()) {
  auto log = EventLog::Open(path, std::move(options));
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(log).value() : nullptr;
}

// The log's conformance suite: every TEST_P here runs on RocksDB and on PostgreSQL.
class EventLogTest : public testing::LogBackendTest {};
MS_ON_EVERY_LOG_BACKEND(EventLogTest);

TEST_P(EventLogTest, AppendAssignsGapFreeSeqsAndChains) {
  auto log = OpenOrDie();
  auto r1 = log->Append(MakeStep("run-a", 3));
  ASSERT_OK(r1);
  EXPECT_EQ(r1->first_seq, 1u);
  EXPECT_EQ(r1->last_seq, 3u);
  auto r2 = log->Append(MakeStep("run-b", 2));
  ASSERT_OK(r2);
  EXPECT_EQ(r2->first_seq, 4u);
  EXPECT_EQ(r2->last_seq, 5u);

  Hash256 prev{};
  uint64_t expected = 1;
  auto it = log->Read(1);
  for (; it->Valid(); it->Next(), ++expected) {
    EXPECT_EQ(it->envelope().seq, expected);
    EXPECT_EQ(it->envelope().prev_hash, prev);
    prev = it->envelope().hash;
  }
  ASSERT_OK(it->status());
  EXPECT_EQ(expected, 6u);
  EXPECT_EQ(log->Head().seq, 5u);
  EXPECT_EQ(log->Head().hash, prev);
  auto v = log->Verify();
  ASSERT_OK(v);
  EXPECT_TRUE(v->ok) << v->reason;
  EXPECT_EQ(v->events_checked, 5u);
}

TEST_P(EventLogTest, StreamVersionsAndReads) {
  auto log = OpenOrDie();
  ASSERT_OK(log->Append(MakeStep("run-a", 2, 0, kNoStream)));
  ASSERT_OK(log->Append(MakeStep("run-ab", 1, 0, kNoStream)));  // shares a prefix with run-a
  ASSERT_OK(log->Append(MakeStep("run-a", 1, 0, 2)));
  EXPECT_EQ(*log->StreamVersion("run-a"), 3u);
  EXPECT_EQ(*log->StreamVersion("run-ab"), 1u);
  EXPECT_EQ(*log->StreamVersion("run-"), 0u);
  auto events = log->ReadStream("run-a");
  ASSERT_OK(events);
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[0].seq, 1u);
  EXPECT_EQ((*events)[2].seq, 4u);
  EXPECT_EQ((*events)[2].stream_version, 3u);
  auto tail = log->ReadStream("run-a", 3);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_TRUE(log->ReadStream("nothing")->empty());
}

// The streams family filters by stream (its prefix extractor): streams whose ids prefix each
// other, some rows in flushed files and some in the memtable, a stream that never existed, and
// a scan of the whole family in key order across streams.
TEST(RocksEventLogTest, StreamLookupsHoldAcrossFlushedFilesAndTheMemtable) {
  testing::TempDir dir;
  {
    auto log = OpenOrDie(dir.Sub("db"));
    ASSERT_OK(log->Append(MakeStep("p", 2, 0, kNoStream)));
    ASSERT_OK(log->Append(MakeStep("p-1", 1, 0, kNoStream)));
    ASSERT_OK(log->Append(MakeStep("p-12", 3, 0, kNoStream)));
    ASSERT_OK(log->Append(MakeStep("p", 1, 0, 2)));
  }
  {
    testing::RawDb raw(dir.Sub("db"));
    raw.Flush();
  }
  auto log = OpenOrDie(dir.Sub("db"));
  ASSERT_OK(log->Append(MakeStep("p-1", 2, 0, 1)));     // a stream with rows in a file and the memtable
  ASSERT_OK(log->Append(MakeStep("p-2", 1, 0, kNoStream)));  // new after the flush
  EXPECT_EQ(*log->StreamVersion("p"), 3u);
  EXPECT_EQ(*log->StreamVersion("p-1"), 3u);
  EXPECT_EQ(*log->StreamVersion("p-12"), 3u);
  EXPECT_EQ(*log->StreamVersion("p-2"), 1u);
  EXPECT_EQ(*log->StreamVersion("p-"), 0u);
  EXPECT_EQ(*log->StreamVersion("p-3"), 0u);
  auto p1 = log->ReadStream("p-1");
  ASSERT_OK(p1);
  ASSERT_EQ(p1->size(), 3u);
  EXPECT_EQ((*p1)[0].seq, 3u);
  EXPECT_EQ((*p1)[1].seq, 8u);
  EXPECT_EQ((*p1)[2].stream_version, 3u);
  auto tail = log->ReadStream("p-1", 2);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ(tail->front().seq, 8u);
  // A step that expects a stream to be new is refused when its rows are only in a file.
  auto again = log->Append(MakeStep("p-12", 1, 0, kNoStream));
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsFailedPrecondition()) << again.status().ToString();
  // The whole family, in key order across streams.
  auto scan = log->Scan("streams");
  ASSERT_OK(scan);
  std::vector<std::string> streams;
  for ((*scan)->SeekToFirst(); (*scan)->Valid(); (*scan)->Next()) {
    const std::string_view key = (*scan)->key();
    streams.emplace_back(key.substr(0, key.size() - 9));
  }
  EXPECT_EQ(streams, (std::vector<std::string>{"p", "p", "p-1", "p-1", "p-12", "p-2"}));
}

TEST_P(EventLogTest, ExpectedVersionMismatchWritesNothing) {
  auto log = OpenOrDie(testing::CountingLogOptions());
  ASSERT_OK(log->Append(MakeStep("run-a", 1, 0, kNoStream)));
  Step step = MakeStep("run-b", 1, 0, kNoStream);
  step.streams.push_back(MakeStep("run-a", 1, 0, kNoStream).streams[0]);  // run-a exists
  step.writes.push_back({"meta", "lease/main", "run-b"});
  auto r = log->Append(std::move(step));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsFailedPrecondition()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("run-a is at version 1, expected 0"), std::string::npos);
  EXPECT_EQ(log->Head().seq, 1u);
  EXPECT_EQ(*log->StreamVersion("run-b"), 0u);
  EXPECT_FALSE(log->Get("meta", "lease/main")->has_value());
  EXPECT_FALSE(log->Get(CountingProjection::kFamily, "run-b")->has_value());
  // The next step continues the sequence with no gap.
  auto next = log->Append(MakeStep("run-c", 1));
  ASSERT_OK(next);
  EXPECT_EQ(next->first_seq, 2u);
}

TEST_P(EventLogTest, BadStepsAreRejected) {
  auto log = OpenOrDie();
  Step no_family = MakeStep("run-a", 1);
  no_family.writes.push_back({"no_such_family", "k", "v"});
  EXPECT_EQ(log->Append(std::move(no_family)).status().code(), Status::Code::kInvalidArgument);
  Step raw_events = MakeStep("run-a", 1);
  raw_events.writes.push_back({"events", "k", "v"});
  EXPECT_EQ(log->Append(std::move(raw_events)).status().code(), Status::Code::kInvalidArgument);
  Step bad_type = MakeStep("run-a", 1);
  bad_type.streams[0].events[0].type = 999;
  EXPECT_EQ(log->Append(std::move(bad_type)).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(log->Append(MakeStep("", 1)).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(log->Head().seq, 0u);
}

TEST_P(EventLogTest, ExtraWritesLandWithTheEvents) {
  auto log = OpenOrDie();
  Step step = MakeStep("run-a", 1);
  step.writes.push_back({"meta", "lease/main", "run-a"});
  ASSERT_OK(log->Append(std::move(step)));
  EXPECT_EQ(log->Get("meta", "lease/main")->value_or(""), "run-a");
  Step release;
  release.writes.push_back({"meta", "lease/main", std::nullopt});
  ASSERT_OK(log->Append(std::move(release)));
  EXPECT_FALSE(log->Get("meta", "lease/main")->has_value());
}

TEST_P(EventLogTest, ProjectionFoldsInTheSameBatchWithItsCheckpoint) {
  {
    auto log = OpenOrDie(testing::CountingLogOptions());
    ASSERT_OK(log->Append(MakeStep("run-a", 3)));
    ASSERT_OK(log->Append(MakeStep("run-a", 2)));
    EXPECT_EQ(log->Get(CountingProjection::kFamily, "run-a")->value_or(""), "5");
    EXPECT_EQ(*log->Checkpoint("counting"), 5u);
    // A projection error rejects that step alone.
    auto r = log->Append(MakeStep("poison", 1));
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("projection counting"), std::string::npos);
    EXPECT_EQ(log->Head().seq, 5u);
    EXPECT_OK(log->WriterStatus());
  }
  // A projection registered later is brought up to the head at open.
  auto log = OpenOrDie();
  ASSERT_OK(log->Append(MakeStep("run-b", 4)));
  log.reset();
  log = OpenOrDie(testing::CountingLogOptions());
  EXPECT_EQ(log->Get(CountingProjection::kFamily, "run-b")->value_or(""), "4");
  EXPECT_EQ(*log->Checkpoint("counting"), 9u);
}

// The counting projection at another row layout: counts doubled.
class DoublingProjection final : public Projection {
 public:
  std::string_view name() const override { return "counting"; }
  std::vector<std::string> column_families() const override { return {std::string(testing::CountingProjection::kFamily)}; }
  uint32_t version() const override { return 2; }
  Status Apply(const Envelope& event, ProjectionStore& store) override {
    MS_ASSIGN_OR_RETURN(auto current, store.Get(testing::CountingProjection::kFamily, event.stream_id));
    const uint64_t n = current.has_value() ? std::stoull(*current) : 0;
    return store.Put(testing::CountingProjection::kFamily, event.stream_id, std::to_string(n + 2));
  }
};

TEST_P(EventLogTest, ANewProjectionVersionIsRebuiltAtOpen) {
  {
    EventLogOptions o = testing::TestLogOptions();
    o.projections.push_back(std::make_unique<testing::CountingProjection>());
    auto log = Open(std::move(o));
    ASSERT_OK(log);
    for (int i = 0; i < 3; ++i) ASSERT_OK((*log)->Append(testing::MakeStep("s", 1, 10)));
    auto v = (*log)->Get(testing::CountingProjection::kFamily, "s");
    ASSERT_OK(v);
    EXPECT_EQ(**v, "3");
  }
  {
    EventLogOptions o = testing::TestLogOptions();
    o.projections.push_back(std::make_unique<DoublingProjection>());
    auto log = Open(std::move(o));
    ASSERT_OK(log);
    auto v = (*log)->Get(testing::CountingProjection::kFamily, "s");
    ASSERT_OK(v);
    EXPECT_EQ(**v, "6");  // refolded by version 2, not left at version 1's rows
    EXPECT_EQ(*(*log)->Checkpoint("counting"), 3u);
  }
  {
    // The same version again: nothing to rebuild, new events fold on top.
    EventLogOptions o = testing::TestLogOptions();
    o.projections.push_back(std::make_unique<DoublingProjection>());
    auto log = Open(std::move(o));
    ASSERT_OK(log);
    ASSERT_OK((*log)->Append(testing::MakeStep("s", 1, 10)));
    EXPECT_EQ(**(*log)->Get(testing::CountingProjection::kFamily, "s"), "8");
  }
}

TEST(RocksEventLogTest, AReadOnlyOpenLeavesOutProjectionsItCannotRead) {
  testing::TempDir dir;
  {
    EventLogOptions o = testing::TestLogOptions();
    o.projections.push_back(std::make_unique<testing::CountingProjection>());
    auto log = EventLog::Open(dir.Sub("db"), std::move(o));
    ASSERT_OK(log);
    ASSERT_OK((*log)->Append(testing::MakeStep("s", 1, 10)));
  }
  // Rows of version 1 that a version 2 build cannot compare with its refold: left out.
  EventLogOptions ro = testing::TestLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  ro.projections.push_back(std::make_unique<DoublingProjection>());
  auto reader = EventLog::Open(dir.Sub("db"), std::move(ro));
  ASSERT_OK(reader);
  EXPECT_TRUE((*reader)->projections().empty());
  EXPECT_EQ((*reader)->unbuilt_projections(), std::vector<std::string>{"counting"});
  EXPECT_EQ((*reader)->Head().seq, 1u);
  reader->reset();
  // The same version reads as before.
  ro = testing::TestLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  ro.projections.push_back(std::make_unique<testing::CountingProjection>());
  reader = EventLog::Open(dir.Sub("db"), std::move(ro));
  ASSERT_OK(reader);
  EXPECT_EQ((*reader)->projections().size(), 1u);
  EXPECT_TRUE((*reader)->unbuilt_projections().empty());
}

TEST_P(EventLogTest, ProjectionSeesEarlierStepsOfTheSameGroup) {
  EventLogOptions o = testing::CountingLogOptions();
  auto log = OpenOrDie(std::move(o));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) ASSERT_OK(log->Append(MakeStep("shared", 1)));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(log->Get(CountingProjection::kFamily, "shared")->value_or(""), "800");
}

TEST_P(EventLogTest, ConcurrentAppendersStayGapFreeAndChained) {
  auto log = OpenOrDie();
  constexpr int kThreads = 8;
  const uint64_t kSteps = postgres() ? 500 : 10000;  // a transaction each, mostly: a server's fsyncs
  std::vector<std::vector<uint64_t>> seqs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string stream = "run-" + std::to_string(t);
      for (uint64_t i = 0; i < kSteps; ++i) {
        auto r = log->Append(MakeStep(stream, 1, 64, static_cast<uint64_t>(i)));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        seqs[t].push_back(r->first_seq);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(log->Head().seq, uint64_t{kThreads} * kSteps);
  std::vector<bool> seen(kThreads * kSteps + 1, false);
  for (const auto& v : seqs) {
    for (size_t i = 1; i < v.size(); ++i) EXPECT_LT(v[i - 1], v[i]);
    for (uint64_t s : v) {
      ASSERT_FALSE(seen[s]) << "seq " << s << " given twice";
      seen[s] = true;
    }
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(*log->StreamVersion("run-" + std::to_string(t)), kSteps);
  auto v = log->Verify();
  ASSERT_OK(v);
  EXPECT_TRUE(v->ok) << v->first_bad_seq << ": " << v->reason;
  EXPECT_EQ(v->events_checked, uint64_t{kThreads} * kSteps);
}

TEST_P(EventLogTest, ExpectedVersionRaceHasExactlyOneWinner) {
  auto log = OpenOrDie();
  for (int round = 0; round < 50; ++round) {
    const std::string stream = "lease-" + std::to_string(round);
    std::atomic<int> winners{0}, conflicts{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&] {
        auto r = log->Append(MakeStep(stream, 1, 0, kNoStream));
        if (r.ok()) {
          ++winners;
        } else if (r.status().IsFailedPrecondition()) {
          ++conflicts;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(winners.load(), 1);
    EXPECT_EQ(conflicts.load(), 7);
    EXPECT_EQ(*log->StreamVersion(stream), 1u);
  }
}

TEST_P(EventLogTest, KeyExpectationsAreCheckedAtomicallyWithinAGroup) {
  EventLogOptions options = testing::TestLogOptions();
  options.extra_column_families = {"engine_state"};
  auto log = OpenOrDie(std::move(options));
  std::atomic<int> winners{0};
  std::vector<std::string> refusals(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Step step = MakeStep("run-" + std::to_string(t), 1);
      step.expect.push_back({"meta", "lease/main", std::nullopt});
      step.writes.push_back({"meta", "lease/main", "run-" + std::to_string(t)});
      step.writes.push_back({"engine_state", "k" + std::to_string(t), "v"});
      auto r = log->Append(std::move(step));
      if (r.ok()) {
        ++winners;
      } else {
        refusals[t] = r.status().ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  auto holder = log->Get("meta", "lease/main");
  ASSERT_OK(holder);
  ASSERT_TRUE(holder->has_value());
  for (int t = 0; t < 8; ++t) {
    const bool won = **holder == "run-" + std::to_string(t);
    EXPECT_EQ(*log->StreamVersion("run-" + std::to_string(t)), won ? 1u : 0u);
    EXPECT_EQ(log->Get("engine_state", "k" + std::to_string(t))->has_value(), won);
    if (!won) {
      EXPECT_NE(refusals[t].find("meta/lease/main is \"" + **holder + "\""), std::string::npos) << refusals[t];
    }
  }
  Step release;
  release.expect.push_back({"meta", "lease/main", **holder});
  release.writes.push_back({"meta", "lease/main", std::nullopt});
  ASSERT_OK(log->Append(std::move(release)));
  EXPECT_FALSE(log->Get("meta", "lease/main")->has_value());
  Step bad;
  bad.expect.push_back({"events", "x", std::nullopt});
  EXPECT_EQ(log->Append(std::move(bad)).status().code(), Status::Code::kInvalidArgument);
}

TEST_P(EventLogTest, AppendAllKeepsOrderAndJudgesEachStepAlone) {
  auto log = OpenOrDie(testing::CountingLogOptions());
  std::vector<Step> steps;
  steps.push_back(MakeStep("run-a", 2, 0, kNoStream));
  steps.push_back(MakeStep("run-a", 1, 0, 5));  // wrong expected version: refused alone
  steps.push_back(MakeStep("run-a", 1, 0, 2));
  steps.push_back(MakeStep("poison", 1));       // the projection refuses it
  steps.push_back(MakeStep("run-b", 3));
  auto results = log->AppendAll(std::move(steps));
  ASSERT_EQ(results.size(), 5u);
  ASSERT_OK(results[0]);
  EXPECT_EQ(results[0]->first_seq, 1u);
  EXPECT_TRUE(results[1].status().IsFailedPrecondition());
  ASSERT_OK(results[2]);
  EXPECT_EQ(results[2]->first_seq, 3u);
  EXPECT_EQ(results[3].status().code(), Status::Code::kInvalidArgument);
  ASSERT_OK(results[4]);
  EXPECT_EQ(results[4]->first_seq, 4u);
  EXPECT_EQ(results[4]->last_seq, 6u);
  EXPECT_EQ(*log->StreamVersion("run-a"), 3u);
  EXPECT_EQ(log->Get(CountingProjection::kFamily, "run-b")->value_or(""), "3");
  EXPECT_TRUE(log->Verify()->ok);
  EXPECT_TRUE(log->AppendAll({}).empty());
}

// A step that fails after its first streams were built (their versions moved, their events
// counted by the projection) leaves no trace for the steps after it in the same group.
TEST_P(EventLogTest, AFailedStepsPartialWorkIsUndoneWithinItsGroup) {
  auto log = OpenOrDie(testing::CountingLogOptions());
  ASSERT_OK(log->Append(MakeStep("run-a", 1, 0, kNoStream)));
  std::vector<Step> steps;
  steps.push_back(MakeStep("run-a", 1, 0, 1));  // lands: version 2, counted 2 in this group
  Step failing = MakeStep("run-a", 2, 0, 2);    // run-a to version 4, counted 4 ...
  failing.streams.push_back(MakeStep("run-new", 1, 0, kNoStream).streams[0]);
  failing.streams.push_back(MakeStep("poison", 1).streams[0]);  // ... then refused
  steps.push_back(std::move(failing));
  steps.push_back(MakeStep("run-a", 1, 0, 2));            // sees version 2 and count 2, not 4
  steps.push_back(MakeStep("run-new", 1, 0, kNoStream));  // still new
  auto results = log->AppendAll(std::move(steps));
  ASSERT_EQ(results.size(), 4u);
  ASSERT_OK(results[0]);
  EXPECT_EQ(results[0]->first_seq, 2u);
  EXPECT_EQ(results[1].status().code(), Status::Code::kInvalidArgument);
  ASSERT_OK(results[2]);
  EXPECT_EQ(results[2]->first_seq, 3u);
  ASSERT_OK(results[3]);
  EXPECT_EQ(results[3]->first_seq, 4u);
  EXPECT_EQ(*log->StreamVersion("run-a"), 3u);
  EXPECT_EQ(*log->StreamVersion("run-new"), 1u);
  EXPECT_EQ(log->Get(CountingProjection::kFamily, "run-a")->value_or(""), "3");
  EXPECT_EQ(log->Get(CountingProjection::kFamily, "run-new")->value_or(""), "1");
  // The writer's own view agrees with the stored one on the next append.
  ASSERT_OK(log->Append(MakeStep("run-a", 1, 0, 3)));
  EXPECT_TRUE(log->Verify()->ok);
}

TEST_P(EventLogTest, ConcurrentAppendAllCallsInterleaveWholeSteps) {
  auto log = OpenOrDie();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 50; ++round) {
        std::vector<Step> steps;
        for (int i = 0; i < 5; ++i) steps.push_back(MakeStep("run-" + std::to_string(t), 2));
        for (const auto& r : log->AppendAll(std::move(steps))) ASSERT_OK(r);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(log->Head().seq, 4u * 50 * 5 * 2);
  for (int t = 0; t < 4; ++t) {
    auto events = log->ReadStream("run-" + std::to_string(t));
    ASSERT_OK(events);
    ASSERT_EQ(events->size(), 500u);
    for (size_t i = 1; i < events->size(); ++i) EXPECT_LT((*events)[i - 1].seq, (*events)[i].seq);
  }
  EXPECT_TRUE(log->Verify()->ok);
}

TEST_P(EventLogTest, WaitForSeqWakesOnAppend) {
  auto log = OpenOrDie();
  EXPECT_EQ(log->WaitForSeq(0, std::chrono::milliseconds(10)), 0u);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_OK(log->Append(MakeStep("run-a", 1)));
  });
  EXPECT_EQ(log->WaitForSeq(0, std::chrono::seconds(30)), 1u);
  writer.join();
}

TEST_P(EventLogTest, ReopenKeepsHeadAndVersions) {
  LogHead head;
  {
    auto log = OpenOrDie();
    ASSERT_OK(log->Append(MakeStep("run-a", 5)));
    head = log->Head();
  }
  auto log = OpenOrDie();
  EXPECT_EQ(log->Head().seq, head.seq);
  EXPECT_EQ(log->Head().hash, head.hash);
  auto r = log->Append(MakeStep("run-a", 1, 0, 5));
  ASSERT_OK(r);
  EXPECT_EQ(r->first_seq, 6u);
  EXPECT_TRUE(log->Verify()->ok);
}

TEST(RocksEventLogTest, SecondWriterIsRefusedButReadersAreNot) {
  testing::TempDir dir;
  auto log = OpenOrDie(dir.Sub("db"));
  ASSERT_OK(log->Append(MakeStep("run-a", 2)));
  auto second = EventLog::Open(dir.Sub("db"), testing::TestLogOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);

  EventLogOptions ro = testing::TestLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  auto reader = EventLog::Open(dir.Sub("db"), std::move(ro));
  ASSERT_OK(reader);
  EXPECT_EQ((*reader)->Head().seq, 2u);
  EXPECT_EQ((*reader)->Append(MakeStep("x", 1)).status().code(), Status::Code::kUnavailable);
  EXPECT_EQ((*reader)->WaitForSeq(2, std::chrono::hours(1)), 2u);  // answers at once

  EventLogOptions so = testing::TestLogOptions();
  so.mode = EventLogOptions::Mode::kSecondary;
  so.secondary_path = dir.Sub("secondary");
  auto follower = EventLog::Open(dir.Sub("db"), std::move(so));
  ASSERT_OK(follower);
  EXPECT_EQ((*follower)->Head().seq, 2u);
  ASSERT_OK(log->Append(MakeStep("run-a", 3)));
  EXPECT_EQ((*follower)->WaitForSeq(2, std::chrono::seconds(30)), 5u);
  auto it = (*follower)->Read(3);
  int n = 0;
  for (; it->Valid(); it->Next()) ++n;
  EXPECT_EQ(n, 3);
}

TEST(RocksEventLogTest, OpeningAMissingLogReadOnlyIsNotFound) {
  testing::TempDir dir;
  EventLogOptions ro = testing::TestLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  auto r = EventLog::Open(dir.Sub("nothing"), std::move(ro));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
}

TEST(RocksEventLogTest, FailedWriteIsInvisibleAndFailStops) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultyFs>();
  std::unique_ptr<rocksdb::Env> env = testing::EnvOver(fs);
  {
    EventLogOptions o = testing::CountingLogOptions();
    o.env_for_test = env.get();
    auto log = OpenOrDie(dir.Sub("db"), std::move(o));
    ASSERT_OK(log->Append(MakeStep("run-a", 2)));
    fs->fault = testing::FaultyFs::Fault::kWriteIoError;
    Step step = MakeStep("run-b", 3);
    step.writes.push_back({"meta", "lease/main", "run-b"});
    auto r = log->Append(std::move(step));
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kIOError);
    // Fail-stop: even with the disk healthy again, nothing more is accepted.
    fs->fault = testing::FaultyFs::Fault::kNone;
    auto after = log->Append(MakeStep("run-c", 1));
    EXPECT_EQ(after.status().code(), Status::Code::kIOError);
    EXPECT_FALSE(log->WriterStatus().ok());
    EXPECT_EQ(log->Head().seq, 2u);
    EXPECT_EQ(*log->StreamVersion("run-b"), 0u);
    EXPECT_FALSE(log->Get("meta", "lease/main")->has_value());
  }
  auto log = OpenOrDie(dir.Sub("db"), testing::CountingLogOptions());
  EXPECT_EQ(log->Head().seq, 2u);
  EXPECT_EQ(*log->StreamVersion("run-b"), 0u);
  EXPECT_FALSE(log->Get("meta", "lease/main")->has_value());
  EXPECT_FALSE(log->Get(CountingProjection::kFamily, "run-b")->has_value());
  EXPECT_OK(log->WriterStatus());
  auto r = log->Append(MakeStep("run-c", 1));
  ASSERT_OK(r);
  EXPECT_EQ(r->first_seq, 3u);
  EXPECT_TRUE(log->Verify()->ok);
}

TEST_P(EventLogTest, OpeningWithoutEventTypesIsRefused) {
  auto log = Open(EventLogOptions{});
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(log.status().message().find("no event types registered"), std::string::npos) << log.status().ToString();
}

TEST_P(EventLogTest, AnUnregisteredTypeIsRefusedAndWritesNothing) {
  auto log = OpenOrDie();
  Step step = MakeStep("s", 1);
  step.streams[0].events[0].type = 99;
  auto r = log->Append(std::move(step));
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("unregistered event type 99"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(log->Head().seq, 0u);
  EXPECT_EQ(log->types().Name(testing::kTestEventType), "TestEvent");
}

}  // namespace
}  // namespace marketsync
