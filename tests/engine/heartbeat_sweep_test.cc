// The heartbeat rows of nodes that are gone (killed, never deleting their row) are removed by a
// live node's periodic scan, once it has seen a row unchanged for a lease ttl and its node owns
// no run; a node that keeps beating, or still owns a run, keeps its row.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "engine/sync_engine.h"
#include "schema/store_keys.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

Status PutMeta(EventLog& log, const std::string& key, const std::string& value) {
  Step step;
  step.writes.push_back({std::string(EventLog::kMetaFamily), key, value});
  return log.Append(std::move(step)).status();
}

bool HasMeta(const EventLog& log, const std::string& key) {
  auto v = log.Get(EventLog::kMetaFamily, key);
  EXPECT_OK(v);
  return v.ok() && v->has_value();
}

TEST(HeartbeatSweepTest, AGoneNodesRowIsRemovedWhileLiveAndOwningNodesKeepTheirs) {
  auto sim = sim::Simulator::Start(testing::QuietSimulator(10), "127.0.0.1", 0);
  ASSERT_OK(sim);
  testing::TempDir dir;
  auto log = testing::OpenEngineLog(dir.Sub("db"));
  ASSERT_OK(log);
  ASSERT_OK(PutMeta(**log, HeartbeatKey("gone"), "1"));   // killed long ago: never changes
  ASSERT_OK(PutMeta(**log, HeartbeatKey("owner"), "1"));  // never changes, but owns a run
  ASSERT_OK(PutMeta(**log, OwnerKey("run-of-owner"), "owner"));
  ASSERT_OK(PutMeta(**log, HeartbeatKey("alive"), "0"));  // beats below

  std::atomic<bool> beating{true};
  std::thread alive([&] {
    for (int n = 1; beating; ++n) {
      EXPECT_OK(PutMeta(**log, HeartbeatKey("alive"), std::to_string(n)));
      std::this_thread::sleep_for(50ms);
    }
  });
  EngineOptions options = testing::EngineFor(**sim, {"main"});
  options.node_id = "sweeper";
  options.lease_ttl = 400ms;
  auto engine = SyncEngine::Create(**log, options);
  ASSERT_OK(engine);
  ASSERT_OK((*engine)->Start());

  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (HasMeta(**log, HeartbeatKey("gone")) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_FALSE(HasMeta(**log, HeartbeatKey("gone")));
  std::this_thread::sleep_for(1s);  // more scans: the others stay
  EXPECT_TRUE(HasMeta(**log, HeartbeatKey("alive")));
  EXPECT_TRUE(HasMeta(**log, HeartbeatKey("owner")));
  EXPECT_TRUE(HasMeta(**log, HeartbeatKey("sweeper")));
  beating = false;
  alive.join();
  engine->reset();
  EXPECT_FALSE(HasMeta(**log, HeartbeatKey("sweeper")));  // a node that stops deletes its own
}

}  // namespace
}  // namespace marketsync
