#pragma once

// Start-up recovery (DESIGN.md §5): the product state derived again from the log when it is
// missing, and every run that holds a lease without a terminal event interrupted, then resumed
// as a new attempt or failed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "engine/internal/heartbeat_watch.h"
#include "engine/internal/raw_hash_index.h"
#include "engine/internal/run_journal.h"
#include "events/event_log.h"

namespace marketsync {

// A log with product events but no product state (imported from an export, or the state's
// family lost): the state is derived again from each offer's last event, so the next sync
// tells created from updated from unchanged as the original database would have. A marker
// says it was done, so a state that is empty for good reasons (no run has committed an offer
// yet, or every offer was removed) does not cost a scan of the log at every start. Clears
// `raw_hashes` when it writes rows. Errors: the log's, kCorruption for events that do not
// decode.
Status RestoreProductState(EventLog& log, RawHashIndex& raw_hashes);

struct RecoveryOptions {
  bool resume = true;          // resume interrupted runs
  uint32_t max_attempts = 3;   // attempts per run, the first included
  std::function<bool(const std::string& account)> configured;  // is the account still configured?
  std::function<void(const std::string& run_id)> launch;       // run it on (a new attempt)
  std::string holder;                       // this node (EngineOptions::node_id)
  std::chrono::milliseconds lease_ttl{0};   // EngineOptions::lease_ttl
  HeartbeatWatch* watch = nullptr;          // other nodes' heartbeats as this node saw them
  std::function<bool(const std::string& run_id)> running_here;  // executed or queued here: skip
  // A scan while this node serves (not at its start). A run this node owns but neither runs
  // nor is starting (running_here) stopped on an error, a write the log refused during a
  // failover: it is resumed like another node's orphan.
  bool while_serving = false;
};

// Every leased run not executed by a live node (with lease_ttl zero: every leased run): this
// node takes it over (owner/<run> from its old value to `holder`, in the step that records
// SyncInterrupted unless recorded, and SyncResumed), then `launch`; or SyncFailed (account gone,
// resuming off, attempts used up). A run another node took first is left to it. Then (with
// lease_ttl above zero) the heartbeat rows of other nodes that `watch` judges dead and that own
// no run are deleted, each expecting the value seen. Errors: the log's.
Status RecoverRuns(RunJournal& journal, const RecoveryOptions& options);

}  // namespace marketsync
