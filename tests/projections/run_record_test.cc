// The fold of a run's stream into its record: what the count's arrival does to a run that
// committed pages before it, and an attempt that starts before its own count.

#include "projections/run_record.h"

#include <gtest/gtest.h>

#include "schema/payload_codec.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

class RunRecordTest : public ::testing::Test {
 protected:
  template <typename T>
  void Apply(const T& payload) {
    Envelope e;
    e.seq = ++seq_;
    e.stream_id = RunStreamId("r1");
    e.type = static_cast<uint16_t>(T::kType);
    e.payload_version = T::kVersion;
    e.recorded_at_us = 1'000'000 * static_cast<int64_t>(seq_);
    e.payload = EncodePayload(payload);
    ASSERT_OK(ApplyRunEvent(record_, e));
  }
  static SyncStarted Started(uint32_t attempt) {
    SyncStarted s;
    s.attempt = attempt;
    s.items_per_page = 100;
    s.awaiting_count = true;
    return s;
  }
  static PageCommitted Page(uint32_t page, uint32_t items) {
    PageCommitted p;
    p.page = page;
    p.items = items;
    p.created = items;
    p.requests = 1;
    return p;
  }
  static SyncCounted Counted(uint64_t items, uint32_t requests) {
    SyncCounted c;
    c.total_items = items;
    c.total_pages = static_cast<uint32_t>((items + 99) / 100);
    c.requests = requests;
    return c;
  }

  RunRecord record_;
  uint64_t seq_ = 0;
};

TEST_F(RunRecordTest, PagesCountBeforeTheTotalIsKnown) {
  SyncRequested req;
  req.run_id = "r1";
  req.account = "main";
  Apply(req);
  Apply(Started(1));
  EXPECT_EQ(record_.status, kRunRunning);
  EXPECT_EQ(record_.started_at_us, 2'000'000);
  EXPECT_EQ(record_.pages_total, 0u);  // not known yet
  Apply(Page(1, 100));
  Apply(Page(2, 100));
  EXPECT_EQ(record_.processed_items, 200u);
  EXPECT_EQ(record_.api_requests_made, 2u);
  Apply(Counted(1275, 2));  // answered after a retry
  EXPECT_EQ(record_.total_items, 1275u);
  EXPECT_EQ(record_.pages_total, 13u);
  EXPECT_EQ(record_.api_requests_made, 4u);
  EXPECT_EQ(record_.last_page, 2u);
}

TEST_F(RunRecordTest, ALaterAttemptKeepsTheLastCountUntilItsOwn) {
  Apply(Started(1));
  Apply(Counted(1275, 1));
  Apply(Page(1, 100));
  SyncInterrupted stop;
  stop.last_committed_page = 1;
  Apply(stop);
  SyncResumed resumed;
  resumed.attempt = 2;
  resumed.from_page = 2;
  Apply(resumed);
  Apply(Started(2));
  EXPECT_EQ(record_.attempt, 2u);
  EXPECT_EQ(record_.pages_total, 13u);  // the first attempt's count stands
  Apply(Counted(1350, 1));
  EXPECT_EQ(record_.pages_total, 14u);
  EXPECT_EQ(record_.total_items, 1350u);
}

TEST_F(RunRecordTest, AVersion1SyncStartedSetsTheTotals) {
  SyncStarted v1;  // what builds before SyncCounted wrote: the count's answer inside
  v1.total_items = 150;
  v1.total_pages = 2;
  Apply(v1);
  EXPECT_EQ(record_.total_items, 150u);
  EXPECT_EQ(record_.pages_total, 2u);
}

}  // namespace
}  // namespace marketsync
