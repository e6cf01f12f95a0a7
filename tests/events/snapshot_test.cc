// EventLog::Snapshot: every row a query reads through it is of one durable head, whatever is
// appended meanwhile; a read-only open gives one too. On RocksDB and on PostgreSQL.

#include <gtest/gtest.h>

#include "events/event_log.h"
#include "tests/testutil/log_backend.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

size_t Rows(const KvReader& r) {
  auto it = r.Scan(testing::CountingProjection::kFamily);
  EXPECT_TRUE(it.ok());
  size_t n = 0;
  for ((*it)->SeekToFirst(); (*it)->Valid(); (*it)->Next()) ++n;
  return n;
}

// Snapshots on every backend.
class SnapshotTest : public testing::LogBackendTest {};
MS_ON_EVERY_LOG_BACKEND(SnapshotTest);

TEST_P(SnapshotTest, ASnapshotKeepsReadingTheHeadItWasTakenAt) {
  auto log = Open(testing::CountingLogOptions());
  ASSERT_OK(log);
  auto empty = (*log)->Snapshot();
  ASSERT_OK(empty);
  EXPECT_EQ((*empty)->head().seq, 0u);
  ASSERT_OK((*log)->Append(testing::MakeStep("a", 2)));
  auto snap = (*log)->Snapshot();
  ASSERT_OK(snap);
  EXPECT_EQ((*snap)->head().seq, 2u);
  EXPECT_EQ((*snap)->head().hash, (*log)->Head().hash);

  Step more = testing::MakeStep("b", 3);
  more.writes.push_back({"meta", "lease/main", "run-b"});
  ASSERT_OK((*log)->Append(std::move(more)));
  // The log moved on; the snapshot did not, in any family.
  EXPECT_EQ((*log)->Head().seq, 5u);
  EXPECT_EQ((*snap)->head().seq, 2u);
  EXPECT_FALSE((*snap)->Get("meta", "lease/main")->has_value());
  EXPECT_TRUE((*log)->Get("meta", "lease/main")->has_value());
  EXPECT_EQ(**(*snap)->Get(testing::CountingProjection::kFamily, "a"), "2");
  EXPECT_FALSE((*snap)->Get(testing::CountingProjection::kFamily, "b")->has_value());
  EXPECT_EQ(Rows(**snap), 1u);
  EXPECT_EQ(Rows(**log), 2u);
  EXPECT_EQ(Rows(**empty), 0u);
  EXPECT_FALSE((*snap)->Get("no such family", "k").ok());
}

TEST_P(SnapshotTest, AReadOnlyOpenGivesItsHead) {
  {
    auto log = Open(testing::CountingLogOptions());
    ASSERT_OK(log);
    ASSERT_OK((*log)->Append(testing::MakeStep("a", 4)));
  }
  EventLogOptions ro = testing::CountingLogOptions();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  auto log = Open(std::move(ro));
  ASSERT_OK(log);
  auto snap = (*log)->Snapshot();
  ASSERT_OK(snap);
  EXPECT_EQ((*snap)->head().seq, 4u);
  EXPECT_EQ(**(*snap)->Get(testing::CountingProjection::kFamily, "a"), "4");
}

}  // namespace
}  // namespace marketsync
