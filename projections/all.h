#pragma once

// Every projection of the product, and "as of" folds of them. The server, the CLI and the tests
// register the same list, so a database always carries the same read models.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "events/projection_fold.h"

namespace marketsync {

// The options every process opens the sync log with: the sync event types, every projection,
// and (read-write) the product state's column family.
EventLogOptions SyncLogOptions(EventLogOptions::Mode mode = EventLogOptions::Mode::kReadWrite);

// history, status, catalog, stats, rollup: fresh instances, in that order.
std::vector<std::unique_ptr<Projection>> MakeAllProjections();
// The names MakeAllProjections registers, in order.
std::vector<std::string_view> AllProjectionNames();

// Projection rows as they stood at a point of the log, held in memory; query them with the
// same functions as the live log (they take a KvReader).
struct AsOfView {
  MemoryStore store;
  FoldResult fold;  // fold.last_seq: the last event the view includes
};

// Folds the log up to `limit` into fresh instances of the named projections (empty = all).
// Errors: kInvalidArgument (an unknown projection name), fold errors.
Result<std::unique_ptr<AsOfView>> FoldAsOf(const EventLog& log, const FoldLimit& limit,
                                           const std::vector<std::string_view>& names = {});

// One projection's check: its live rows against a refold of the whole log in scratch memory.
struct ProjectionCheck {
  std::string name;
  std::string live_digest;     // DigestFamilies of the live rows
  std::string rebuilt_digest;  // of the refold
  uint64_t checkpoint = 0;     // the live checkpoint
  std::optional<RowDifference> first_difference;  // when the digests differ
  bool ok() const { return live_digest == rebuilt_digest && !first_difference; }
};

// Checks every projection registered with `log` (its checkpoint must be the head, as it is for
// a read-write or read-only open). Errors: fold or read errors; differences are findings.
Result<std::vector<ProjectionCheck>> VerifyProjections(const EventLog& log);

}  // namespace marketsync
