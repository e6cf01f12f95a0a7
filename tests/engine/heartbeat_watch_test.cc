// HeartbeatWatch: a node is alive while its heartbeat row keeps changing, as this node's own
// monotonic clock sees it; the row's value is never read as a time.

#include "engine/internal/heartbeat_watch.h"

#include <gtest/gtest.h>

namespace marketsync {
namespace {

using namespace std::chrono_literals;
using Clock = HeartbeatWatch::Clock;

TEST(HeartbeatWatchTest, ANodeIsDeadOnceItsRowStaysTheSameForATtl) {
  HeartbeatWatch watch;
  const Clock::time_point t0{};
  EXPECT_TRUE(watch.Alive("node-a", "100", 2s, t0));  // first seen: cannot judge yet
  EXPECT_TRUE(watch.Alive("node-a", "100", 2s, t0 + 1999ms));
  EXPECT_FALSE(watch.Alive("node-a", "100", 2s, t0 + 2s));
  EXPECT_TRUE(watch.Alive("node-a", "101", 2s, t0 + 3s));  // it beat again
  EXPECT_TRUE(watch.Alive("node-a", "101", 2s, t0 + 4s));
  EXPECT_FALSE(watch.Alive("node-a", "101", 2s, t0 + 5s));
}

TEST(HeartbeatWatchTest, ClocksAreNeverCompared) {
  HeartbeatWatch watch;
  const Clock::time_point t0{};
  // A row written by a node whose clock runs a day behind (its "alive until" long past by
  // ours) is alive while it changes; one from a clock a day ahead dies when it stops changing.
  EXPECT_TRUE(watch.Alive("behind", "1000", 2s, t0));
  EXPECT_TRUE(watch.Alive("behind", "1001", 2s, t0 + 1s));
  EXPECT_TRUE(watch.Alive("ahead", "99999999999999999", 2s, t0));
  EXPECT_FALSE(watch.Alive("ahead", "99999999999999999", 2s, t0 + 3s));
  EXPECT_TRUE(watch.Alive("behind", "1002", 2s, t0 + 3s));
}

}  // namespace
}  // namespace marketsync
