#pragma once

// A real simulator on loopback, a real event log in a temp dir, and a SyncEngine over them.

#include <map>
#include <memory>
#include <set>
#include <string>

#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "tests/testutil/temp_dir.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync::testing {

sim::SimulatorOptions QuietSimulator(uint32_t offers);
EngineOptions EngineFor(const sim::Simulator& simulator, const std::vector<std::string>& accounts = {"main", "fbe"});
EngineOptions EngineFor(const std::string& base_url, const std::vector<std::string>& accounts = {"main", "fbe"});

// A full sync with inactive offers included, as the console sends it.
StartSyncRequest FullSync(const std::string& account, uint32_t items_per_page = 100);
// Starts `request` and waits (60 s at most) for every run it made to end; returns the run ids.
// A refused start or a run that does not end is a test failure.
std::vector<std::string> SyncToEnd(SyncEngine& engine, const StartSyncRequest& request);

// Opens (or reopens) the log with the engine's column families and every projection.
Result<std::unique_ptr<EventLog>> OpenEngineLog(const std::string& path);

// A simulator on loopback, a log in a temp dir and a started engine over them: what a server
// test or a driver stands on. The engine is shut down before the rest goes.
struct EngineHarness {
  // Errors: whatever starting the simulator, opening the log or recovering returns.
  Status Start(uint32_t offers);
  ~EngineHarness();

  TempDir dir;
  std::unique_ptr<sim::Simulator> sim;
  std::unique_ptr<EventLog> log;
  std::unique_ptr<SyncEngine> engine;
};

// The products the engine's state holds for an account: offer id -> content hash (hex).
std::map<uint64_t, std::string> MirroredProducts(const EventLog& log, const std::string& account);
// The simulator's offers for an account, fingerprinted the way the engine does: id -> hash (hex).
std::map<uint64_t, std::string> ServedProducts(const sim::Simulator& simulator, const std::string& account);

}  // namespace marketsync::testing
