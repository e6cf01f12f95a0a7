// Verify on PostgreSQL (issue 17) finds what it finds on RocksDB: the same ChainCheck over the
// stored rows. Altered bytes, a missing row and a head that does not match are each named by
// their seq; an untouched log verifies.
#include "pglog/verify.h"

#include <gtest/gtest.h>

#include "pglog/appender.h"
#include "pglog/schema.h"
#include "tests/pglog/pg_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::pglog {
namespace {

const EventTypeRegistry kTypes({{7, "Seventh", 1}});

class PgVerifyTest : public PgFixture {
 protected:
  void SetUp() override {
    PgFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    for (int group = 0; group < 5; ++group) {  // 25 events in 5 groups
      std::vector<Step> steps;
      for (int s = 0; s < 5; ++s) {
        Step step;
        step.streams.push_back({"stream-" + std::to_string(s), kAnyVersion, {{7, 1, "payload"}}});
        steps.push_back(std::move(step));
      }
      auto r = AppendGroup(*conn_, kTypes, steps, [] { return int64_t{1'700'000'000'000'000}; });
      ASSERT_OK(r);
    }
  }
  VerifyReport Verify(uint64_t from = 1, uint64_t to = 0) {
    auto r = VerifyLog(*conn_, kTypes, from, to);
    EXPECT_OK(r);
    return r.ok() ? *r : VerifyReport{};
  }
  void Sql(const std::string& sql) { ASSERT_OK(conn_->Exec(sql)); }
};

TEST_F(PgVerifyTest, AnUntouchedLogVerifiesWholeAndInRanges) {
  VerifyReport all = Verify();
  EXPECT_TRUE(all.ok) << all.reason;
  EXPECT_EQ(all.events_checked, 25u);
  VerifyReport part = Verify(10, 20);
  EXPECT_TRUE(part.ok) << part.reason;
  EXPECT_EQ(part.events_checked, 11u);
}

TEST_F(PgVerifyTest, FindingsNameTheFirstBadSeq) {
  // One byte of seq 7 flipped: its checksum no longer matches.
  Sql("CREATE TABLE saved AS SELECT * FROM ms_events");
  Sql("UPDATE ms_events SET envelope = set_byte(envelope, 40, get_byte(envelope, 40) # 1) WHERE seq = 7");
  VerifyReport altered = Verify();
  EXPECT_FALSE(altered.ok);
  EXPECT_EQ(altered.first_bad_seq, 7u) << altered.reason;
  EXPECT_EQ(Verify(8).ok, false) << "the envelope before the range is checked too";
  Sql("UPDATE ms_events e SET envelope = s.envelope FROM saved s WHERE e.seq = s.seq");
  EXPECT_TRUE(Verify().ok);

  Sql("DELETE FROM ms_events WHERE seq = 12");
  VerifyReport gap = Verify();
  EXPECT_FALSE(gap.ok);
  EXPECT_EQ(gap.first_bad_seq, 12u);
  EXPECT_NE(gap.reason.find("gap"), std::string::npos) << gap.reason;
  Sql("INSERT INTO ms_events SELECT * FROM saved WHERE seq = 12");

  Sql("DELETE FROM ms_events WHERE seq = 25");
  VerifyReport short_log = Verify();
  EXPECT_FALSE(short_log.ok);
  EXPECT_NE(short_log.reason.find("the head says the log ends at seq 25"), std::string::npos) << short_log.reason;
  Sql("INSERT INTO ms_events SELECT * FROM saved WHERE seq = 25");

  Sql("UPDATE ms_head SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1)");
  VerifyReport head = Verify();
  EXPECT_FALSE(head.ok);
  EXPECT_EQ(head.first_bad_seq, 25u);
  EXPECT_NE(head.reason.find("head hash"), std::string::npos) << head.reason;
  EXPECT_TRUE(Verify(1, 24).ok) << "a range short of the head does not look at it";
}

}  // namespace
}  // namespace marketsync::pglog
