// Verify names the exact seq of every kind of tampering, done with a raw RocksDB handle.

#include <gtest/gtest.h>

#include "events/envelope_codec.h"
#include "events/event_log.h"
#include "base/coding.h"
#include "base/crc32c.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/raw_db.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

constexpr int kEvents = 20;

using testing::RawDb;

// Recomputes hash and checksum of a stored value after its body was changed.
std::string ResealAll(const std::string& value) {
  std::string body = value.substr(0, value.size() - 36);
  auto d = DecodeEnvelope(value, 0, testing::TestEventTypes());
  EXPECT_FALSE(d.ok());  // the caller changed it
  Hash256 hash = ComputeStoredBodyHash(body + std::string(36, '\0'));
  std::string out = body;
  out.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  internal::PutFixedLE<uint32_t>(&out, Crc32c(out.data(), out.size()));
  return out;
}

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = EventLog::Open(path(), testing::TestLogOptions());
    ASSERT_OK(log);
    for (int i = 0; i < kEvents; ++i) ASSERT_OK((*log)->Append(testing::MakeStep("run-a", 1, 100)));
  }
  std::string path() const { return dir_.Sub("db"); }
  VerifyReport VerifyReadOnly() {
    EventLogOptions o = testing::TestLogOptions();
    o.mode = EventLogOptions::Mode::kReadOnly;
    auto log = EventLog::Open(path(), std::move(o));
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    auto report = (*log)->Verify();
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return *report;
  }

  testing::TempDir dir_;
};

TEST_F(TamperTest, IntactLogVerifies) {
  auto r = VerifyReadOnly();
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.events_checked, uint64_t{kEvents});
}

TEST_F(TamperTest, ChangedByteIsABadChecksum) {
  {
    RawDb raw(path());
    std::string v = raw.GetEvent(7);
    v[v.size() / 2] ^= 0x20;
    raw.PutEvent(7, v);
  }
  auto r = VerifyReadOnly();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7u);
  EXPECT_NE(r.reason.find("bad checksum"), std::string::npos) << r.reason;
}

TEST_F(TamperTest, ChangedByteWithFixedChecksumIsAHashMismatch) {
  {
    RawDb raw(path());
    std::string v = raw.GetEvent(7);
    v[v.size() / 2] ^= 0x20;
    v.resize(v.size() - 4);
    internal::PutFixedLE<uint32_t>(&v, Crc32c(v.data(), v.size()));
    raw.PutEvent(7, v);
  }
  auto r = VerifyReadOnly();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7u);
  EXPECT_NE(r.reason.find("hash mismatch"), std::string::npos) << r.reason;
}

TEST_F(TamperTest, ResealedEventBreaksTheChainAtTheNextSeq) {
  {
    RawDb raw(path());
    std::string v = raw.GetEvent(7);
    v[v.size() / 2] ^= 0x20;
    raw.PutEvent(7, ResealAll(v));
  }
  auto r = VerifyReadOnly();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 8u);
  EXPECT_NE(r.reason.find("chain break"), std::string::npos) << r.reason;
}

TEST_F(TamperTest, DeletedEventIsAGap) {
  { RawDb(path()).DeleteEvent(7); }
  auto r = VerifyReadOnly();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7u);
  EXPECT_NE(r.reason.find("missing"), std::string::npos) << r.reason;
}

TEST_F(TamperTest, DeletedLastEventContradictsTheHead) {
  { RawDb(path()).DeleteEvent(kEvents); }
  auto r = VerifyReadOnly();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, uint64_t{kEvents});
  // And a writer refuses to append on top of it.
  auto log = EventLog::Open(path(), testing::TestLogOptions());
  ASSERT_FALSE(log.ok());
  EXPECT_TRUE(log.status().IsCorruption()) << log.status().ToString();
}

TEST_F(TamperTest, SwappedEventsAreOutOfOrder) {
  {
    RawDb raw(path());
    std::string a = raw.GetEvent(7), b = raw.GetEvent(8);
    raw.PutEvent(7, b);
    raw.PutEvent(8, a);
  }
  auto r = VerifyReadOnly();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.first_bad_seq, 7u);
  EXPECT_NE(r.reason.find("out of order"), std::string::npos) << r.reason;
}

TEST_F(TamperTest, VerifyOfASubrangeStopsAtItsEnd) {
  { RawDb(path()).DeleteEvent(15); }
  EventLogOptions o = testing::TestLogOptions();
  o.mode = EventLogOptions::Mode::kReadOnly;
  auto log = EventLog::Open(path(), std::move(o));
  ASSERT_OK(log);
  auto early = (*log)->Verify(3, 10);
  ASSERT_OK(early);
  EXPECT_TRUE(early->ok) << early->reason;
  EXPECT_EQ(early->events_checked, 8u);
  auto late = (*log)->Verify(10, 0);
  ASSERT_OK(late);
  EXPECT_FALSE(late->ok);
  EXPECT_EQ(late->first_bad_seq, 15u);
}

}  // namespace
}  // namespace marketsync
