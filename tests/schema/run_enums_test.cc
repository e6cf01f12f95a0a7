// The run vocabularies: every value's stored name parses back to it, and nothing else parses.

#include "schema/run_enums.h"

#include <gtest/gtest.h>

#include "schema/run_id.h"

namespace marketsync {
namespace {

TEST(RunEnumsTest, StoredNamesRoundTrip) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kCompletedWithGaps, RunStatus::kFailed,
                      RunStatus::kCancelled, RunStatus::kInterrupted}) {
    EXPECT_EQ(ParseRunStatus(ToString(s)), s) << ToString(s);
  }
  for (SyncMode m : {SyncMode::kFull, SyncMode::kIncremental}) EXPECT_EQ(ParseSyncMode(ToString(m)), m);
  for (ErrorClass c : {ErrorClass::kAuth, ErrorClass::kDeadline, ErrorClass::kRetryable, ErrorClass::kFatal,
                       ErrorClass::kConfig, ErrorClass::kInterrupted}) {
    EXPECT_EQ(ParseErrorClass(ToString(c)), c) << ToString(c);
  }
}

TEST(RunEnumsTest, TheNamesAreTheStoredOnes) {
  // Rows and events hold these strings: they may never change.
  EXPECT_EQ(ToString(RunStatus::kCompletedWithGaps), "completed_with_gaps");
  EXPECT_EQ(ToString(RunStatus::kInterrupted), "interrupted");
  EXPECT_EQ(ToString(SyncMode::kIncremental), "incremental");
  EXPECT_EQ(ToString(ErrorClass::kAuth), "auth");
  EXPECT_EQ(ToString(ErrorClass::kRetryable), "retryable");
}

TEST(RunEnumsTest, UnknownNamesDoNotParse) {
  EXPECT_FALSE(ParseRunStatus("Completed").has_value());
  EXPECT_FALSE(ParseRunStatus("").has_value());
  EXPECT_FALSE(ParseSyncMode("fast").has_value());
  EXPECT_FALSE(ParseErrorClass("timeout").has_value());
  EXPECT_TRUE(IsTerminal(RunStatus::kCancelled));
  EXPECT_FALSE(IsTerminal(RunStatus::kInterrupted));
}

TEST(RunIdTest, IdsSortByRequestTime) {
  const std::string early = FormatRunId(1'000'000, 0xFFFFFFFF);
  const std::string late = FormatRunId(1'000'001, 0);
  EXPECT_EQ(early.size(), 24u);
  EXPECT_LT(early, late);
  EXPECT_TRUE(late.starts_with(RunIdTimePrefix(1'000'001)));
  EXPECT_EQ(RunIdTimePrefix(-5), std::string(16, '0'));
}

}  // namespace
}  // namespace marketsync
