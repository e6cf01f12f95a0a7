// A full disk, for real: the log on a small tmpfs fills it. The append that hits ENOSPC fails
// and the log fail-stops; nothing after it is acknowledged; the process lives on (RocksDB's info
// log goes to the callback, not to a LOG file on the full disk, where Debian's RocksDB aborted
// on its next line: "Assertion `sync_without_flush_called_' failed"); reads keep working.
// Skipped where the test cannot mount a tmpfs (not root). The same with ENOSPC and EIO injected
// by a test file system (FaultyFs): on write and on fsync, which is never retried.

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <chrono>
#include <thread>

#include "events/event_log.h"
#include "tests/testutil/faulty_fs.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mount_ = dir_.Sub("small");
    std::filesystem::create_directories(mount_);
    if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=6m") != 0) {
      GTEST_SKIP() << "cannot mount a tmpfs here (" << std::strerror(errno) << "): run as root to test a full disk";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
  }

  testing::TempDir dir_;
  std::string mount_;
  bool mounted_ = false;
};

TEST_F(FullDiskTest, TheLogFailStopsAndTheProcessLivesOn) {
  std::atomic<int> errors{0};
  EventLogOptions o = testing::TestLogOptions();
  o.info_log = [&errors](bool error, std::string_view) { errors += error ? 1 : 0; };
  auto log = EventLog::Open(mount_ + "/db", std::move(o));
  ASSERT_OK(log);
  // 64 KB steps until the disk is full.
  uint64_t acknowledged = 0;
  Status failed;
  for (int i = 0; i < 1000 && failed.ok(); ++i) {
    auto r = (*log)->Append(testing::MakeStep("s-" + std::to_string(i), 4, 16 << 10));
    if (r.ok()) {
      acknowledged = r->last_seq;
    } else {
      failed = r.status();
    }
  }
  ASSERT_FALSE(failed.ok()) << "6 MB never filled";
  EXPECT_NE(failed.message().find("No space left on device"), std::string::npos) << failed.ToString();
  // Fail-stopped: the next append is refused and nothing moved.
  EXPECT_FALSE((*log)->Append(testing::MakeStep("after", 1)).ok());
  EXPECT_FALSE((*log)->WriterStatus().ok());
  EXPECT_EQ((*log)->Head().seq, acknowledged);
  // RocksDB retries its recovery every 5 s and logs each try: that used to abort the process.
  std::this_thread::sleep_for(std::chrono::seconds(6));
  EXPECT_GT(errors.load(), 0);
  // Reads still answer.
  auto it = (*log)->Read(1);
  uint64_t n = 0;
  for (; it->Valid(); it->Next()) ++n;
  EXPECT_OK(it->status());
  EXPECT_EQ(n, acknowledged);
}

// ENOSPC or EIO injected under the log: the failing append and every later one are refused with
// words a person understands, on_fail_stop hears it once, reads answer; reopened on a healthy
// disk, everything acknowledged is there, the refused steps are not, and the log verifies.
class InjectedFaultTest : public ::testing::TestWithParam<testing::FaultyFs::Fault> {};

TEST_P(InjectedFaultTest, TheLogFailStopsAndReopensWithEverythingAcknowledged) {
  testing::TempDir dir;
  auto fs = std::make_shared<testing::FaultyFs>();
  std::unique_ptr<rocksdb::Env> env = testing::EnvOver(fs);
  std::vector<std::string> heard;
  uint64_t acknowledged = 0;
  {
    EventLogOptions o = testing::TestLogOptions();
    o.env_for_test = env.get();
    o.on_fail_stop = [&heard](const Status& s) { heard.push_back(s.message()); };
    auto log = EventLog::Open(dir.Sub("db"), std::move(o));
    ASSERT_OK(log);
    for (int i = 0; i < 5; ++i) acknowledged = (*log)->Append(testing::MakeStep("ok-" + std::to_string(i), 3))->last_seq;
    fs->fault = GetParam();
    auto failed = (*log)->Append(testing::MakeStep("refused", 2));
    ASSERT_FALSE(failed.ok());
    EXPECT_EQ(failed.status().code(), Status::Code::kIOError);
    const std::string& m = failed.status().message();
    if (GetParam() == testing::FaultyFs::Fault::kNoSpace) {
      EXPECT_NE(m.find("the disk that holds the database is full (no space left on device)"), std::string::npos) << m;
    } else {
      EXPECT_NE(m.find("the disk reported an input/output error"), std::string::npos) << m;
    }
    EXPECT_NE(m.find("fail-stopped"), std::string::npos) << m;
    EXPECT_GT(fs->injected.load(), 0u);
    // Healthy again, but fail-stopped: no retry of the write or its fsync.
    fs->fault = testing::FaultyFs::Fault::kNone;
    const uint64_t injected = fs->injected.load();
    auto after = (*log)->Append(testing::MakeStep("after", 1));
    EXPECT_EQ(after.status().message(), m);
    EXPECT_EQ(fs->injected.load(), injected);
    EXPECT_EQ((*log)->Head().seq, acknowledged);
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0], m);
    auto events = (*log)->ReadStream("ok-4");
    ASSERT_OK(events);
    EXPECT_EQ(events->size(), 3u);
  }
  auto log = EventLog::Open(dir.Sub("db"), testing::TestLogOptions());
  ASSERT_OK(log);
  EXPECT_OK((*log)->WriterStatus());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*(*log)->StreamVersion("ok-" + std::to_string(i)), 3u);
  EXPECT_EQ(*(*log)->StreamVersion("after"), 0u);
  // The refused step's outcome was unknown to its caller; with the write refused before the
  // WAL took it (ENOSPC, EIO) it is not there; after an fsync error it may be.
  if (GetParam() != testing::FaultyFs::Fault::kSyncIoError) {
    EXPECT_EQ(*(*log)->StreamVersion("refused"), 0u);
  }
  EXPECT_GE((*log)->Head().seq, acknowledged);
  auto report = (*log)->Verify();
  ASSERT_OK(report);
  EXPECT_TRUE(report->ok) << report->reason;
  EXPECT_OK((*log)->Append(testing::MakeStep("later", 1)));
}

INSTANTIATE_TEST_SUITE_P(Faults, InjectedFaultTest,
                         ::testing::Values(testing::FaultyFs::Fault::kNoSpace, testing::FaultyFs::Fault::kWriteIoError,
                                           testing::FaultyFs::Fault::kSyncIoError),
                         [](const auto& p) {
                           switch (p.param) {
                             case testing::FaultyFs::Fault::kNoSpace: return std::string("NoSpace");
                             case testing::FaultyFs::Fault::kWriteIoError: return std::string("WriteIoError");
                             default: return std::string("SyncIoError");
                           }
                         });

}  // namespace
}  // namespace marketsync
