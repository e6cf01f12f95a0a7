#include "events/projection_fold.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/testutil/log_backend.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/raw_db.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

using testing::CountingProjection;
using testing::MakeStep;

// Records the seq of every event it is given, to check order and completeness.
class SeqRecorder final : public Projection {
 public:
  std::string_view name() const override { return "recorder"; }
  std::vector<std::string> column_families() const override { return {}; }
  Status Apply(const Envelope& event, ProjectionStore&) override {
    seqs.push_back(event.seq);
    return Status::Ok();
  }
  std::vector<uint64_t> seqs;
};

// More events than the fold's ring holds at once (8 batches of 128), in steps of 7, on
// streams s0..s4.
constexpr uint64_t kEvents = 5'005;

void Fill(EventLog& log) {
  std::vector<Step> steps;
  for (uint64_t i = 0; i < kEvents / 7; ++i) steps.push_back(MakeStep("s" + std::to_string(i % 5), 7));
  for (const auto& r : log.AppendAll(std::move(steps))) EXPECT_OK(r);
  EXPECT_EQ(log.Head().seq, kEvents);
}

// The fold on every backend (it reads through EventLog::Read alone).
class FoldLogTest : public testing::LogBackendTest {
 protected:
  std::unique_ptr<EventLog> FilledLog() {
    auto log = OpenOrDie();
    if (log) Fill(*log);
    return log;
  }
};
MS_ON_EVERY_LOG_BACKEND(FoldLogTest);

TEST_P(FoldLogTest, FoldsEveryEventInOrderAcrossManyBatches) {
  auto log = FilledLog();
  SeqRecorder recorder;
  CountingProjection counting;
  MemoryStore store;
  auto r = FoldLog(*log, {&recorder, &counting}, store);
  ASSERT_OK(r);
  EXPECT_EQ(r->events, kEvents);
  EXPECT_EQ(r->last_seq, kEvents);
  ASSERT_EQ(recorder.seqs.size(), kEvents);
  for (uint64_t i = 0; i < kEvents; ++i) ASSERT_EQ(recorder.seqs[i], i + 1);
  uint64_t total = 0;
  for (int s = 0; s < 5; ++s) {
    auto n = store.Get(CountingProjection::kFamily, "s" + std::to_string(s));
    ASSERT_OK(n);
    ASSERT_TRUE(n->has_value());
    total += std::stoull(**n);
  }
  EXPECT_EQ(total, kEvents);
}

TEST_P(FoldLogTest, StopsAtTheLimitSeq) {
  auto log = FilledLog();
  for (uint64_t to : {uint64_t{1}, uint64_t{128}, uint64_t{129}, uint64_t{3'333}, kEvents + 10}) {
    SeqRecorder recorder;
    MemoryStore store;
    auto r = FoldLog(*log, {&recorder}, store, FoldLimit{to, std::nullopt});
    ASSERT_OK(r);
    const uint64_t want = std::min(to, kEvents);
    EXPECT_EQ(r->events, want);
    EXPECT_EQ(r->last_seq, want);
    ASSERT_EQ(recorder.seqs.size(), want);
    EXPECT_EQ(recorder.seqs.back(), want);
  }
}

TEST_P(FoldLogTest, StopsAtTheLimitTime) {
  auto log = FilledLog();
  std::vector<int64_t> times;  // times[seq - 1]
  for (auto it = log->Read(1); it->Valid(); it->Next()) times.push_back(it->envelope().recorded_at_us);
  for (uint64_t seq : {uint64_t{1}, uint64_t{700}, uint64_t{3'000}, kEvents}) {
    const int64_t limit = times[seq - 1];
    SeqRecorder recorder;
    MemoryStore store;
    auto r = FoldLog(*log, {&recorder}, store, FoldLimit{std::nullopt, limit});
    ASSERT_OK(r);
    ASSERT_GE(r->last_seq, seq);
    EXPECT_EQ(r->events, r->last_seq);
    EXPECT_EQ(recorder.seqs.size(), r->last_seq);
    EXPECT_LE(r->last_recorded_at_us, limit);
    if (r->last_seq < kEvents) {
      EXPECT_GT(times[r->last_seq], limit);  // the next one is later
    }
  }
}

TEST_P(FoldLogTest, EmptyLogFoldsNothing) {
  auto log = Open();
  ASSERT_OK(log);
  SeqRecorder recorder;
  MemoryStore store;
  auto r = FoldLog(**log, {&recorder}, store);
  ASSERT_OK(r);
  EXPECT_EQ(r->events, 0u);
  EXPECT_TRUE(recorder.seqs.empty());
}

TEST_P(FoldLogTest, AProjectionErrorStopsTheFoldAndNamesTheSeq) {
  auto log = FilledLog();
  ASSERT_OK(log->Append(MakeStep("poison", 1)));
  // More after it than the ring holds, so the reader is waiting for room when the fold stops.
  std::vector<Step> after;
  for (int i = 0; i < 300; ++i) after.push_back(MakeStep("after", 10));
  for (const auto& r : log->AppendAll(std::move(after))) ASSERT_OK(r);
  SeqRecorder recorder;
  CountingProjection counting;
  MemoryStore store;
  auto r = FoldLog(*log, {&recorder, &counting}, store);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("projection counting at seq " + std::to_string(kEvents + 1)), std::string::npos)
      << r.status().ToString();
  // Nothing after the failing event was applied.
  EXPECT_EQ(recorder.seqs.back(), kEvents + 1);
}

TEST(RocksFoldLogTest, ACorruptEventFailsTheFoldWithItsSeq) {
  testing::TempDir dir;
  {
    auto log = EventLog::Open(dir.Sub("db"), testing::TestLogOptions());
    ASSERT_OK(log);
    Fill(**log);
  }
  {
    testing::RawDb raw(dir.Sub("db"));
    std::string value = raw.GetEvent(2'000);
    value[value.size() / 2] ^= 0x01;
    raw.PutEvent(2'000, value);
  }
  auto log = EventLog::Open(dir.Sub("db"), testing::TestLogOptions());
  ASSERT_OK(log);
  SeqRecorder recorder;
  MemoryStore store;
  auto r = FoldLog(**log, {&recorder}, store);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("seq 2000:"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(recorder.seqs.size(), 1'999u);
}

}  // namespace
}  // namespace marketsync
