// A full disk, for real: the log on a small tmpfs fills it. The append that hits ENOSPC fails
// and the log fail-stops; nothing after it is acknowledged; the process lives on (RocksDB's info
// log goes to the callback, not to a LOG file on the full disk, where Debian's RocksDB aborted
// on its next line: "Assertion `sync_without_flush_called_' failed"); reads keep working.
// Skipped where the test cannot mount a tmpfs (not root).

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <chrono>
#include <thread>

#include "events/event_log.h"
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

}  // namespace
}  // namespace marketsync
