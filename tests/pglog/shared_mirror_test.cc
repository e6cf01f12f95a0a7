// Two engines (two nodes) on one log on PostgreSQL, syncing the same account: each node's
// raw-hash index (which offers it may skip as unchanged) must not outlive what the other node
// wrote. The sequence that caught it: node A mirrors the catalogue as it was, node B mirrors it
// after a change, then A syncs the catalogue as it was again: every changed offer must be
// written back, not skipped because A remembered it so.

#include <gtest/gtest.h>

#include "engine/sync_engine.h"
#include "pglog/pg_event_log.h"
#include "projections/all.h"
#include "projections/history.h"
#include "tests/pglog/pg_fixture.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync::pglog {
namespace {

class SharedMirrorTest : public PgFixture {
 protected:
  SharedMirrorTest() { with_schema_ = false; }

  struct Node {
    std::unique_ptr<EventLog> log;
    std::unique_ptr<SyncEngine> engine;
  };
  // A node whose account "main" is served by `simulator` (two simulators: two states of one
  // seller's catalogue).
  Node Start(const sim::Simulator& simulator, const std::string& id) {
    Node n;
    auto log = OpenPgEventLog(server_->conninfo(), SyncLogOptions());
    EXPECT_OK(log);
    if (!log.ok()) return n;
    n.log = std::move(log).value();
    EngineOptions options = testing::EngineFor(simulator, {"main"});
    options.node_id = id;
    options.lease_ttl = std::chrono::seconds(30);
    auto engine = SyncEngine::Create(*n.log, options);
    EXPECT_OK(engine);
    if (!engine.ok()) return n;
    n.engine = std::move(engine).value();
    EXPECT_OK(n.engine->Start());
    return n;
  }
  static RunRecord Sync(Node& node) {
    auto ids = testing::SyncToEnd(*node.engine, testing::FullSync("main"));
    EXPECT_EQ(ids.size(), 1u);
    auto run = GetHistoryRun(*node.log, ids.empty() ? "" : ids[0]);
    EXPECT_OK(run);
    return run.ok() && *run ? **run : RunRecord{};
  }
};

TEST_F(SharedMirrorTest, ANodeDoesNotSkipOffersAnotherNodeChanged) {
  auto before = sim::Simulator::Start(testing::QuietSimulator(120), "127.0.0.1", 0);
  auto after = sim::Simulator::Start(testing::QuietSimulator(120), "127.0.0.1", 0);
  ASSERT_OK(before);
  ASSERT_OK(after);
  auto changes = (*after)->Tick("main");
  ASSERT_OK(changes);
  ASSERT_FALSE(changes->updated.empty());

  Node a = Start(**before, "node-a");
  Node b = Start(**after, "node-b");
  ASSERT_TRUE(a.engine && b.engine);
  EXPECT_EQ(Sync(a).created_items, 120u);
  EXPECT_EQ(Sync(b).updated_items, changes->updated.size());
  const RunRecord back = Sync(a);  // the catalogue as it was: every change undone
  EXPECT_EQ(back.updated_items, changes->updated.size());
  EXPECT_EQ(back.created_items, changes->removed.size());
  EXPECT_EQ(back.removed_items, changes->created.size());
  EXPECT_TRUE(VerifyProjections(*a.log).ok());
}

}  // namespace
}  // namespace marketsync::pglog
