#pragma once

// The status projection: the runs that are not finished (running, queued, or interrupted and
// waiting to resume), each as its RunRecord. A row appears with SyncRequested and goes with the
// run's terminal event, so the family holds only what is in flight.
//
// Column family proj_status_active:
//   run id       -> RunRecord (payload encoding)
//   "~in_flight" -> RunsInFlight: the ids of those runs, oldest first (version 2)
// Listing reads the id row and each run's row: a scan of the family would step over a
// tombstone for every run that ever ended (and every overwritten row still in the memtable),
// 6-11 ms with 100,000 runs stored (docs/BENCHMARKS.md).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/projection.h"
#include "projections/run_record.h"

namespace marketsync {

class StatusProjection final : public Projection {
 public:
  static constexpr std::string_view kName = "status";
  static constexpr std::string_view kActive = "proj_status_active";

  std::string_view name() const override { return kName; }
  // Sorts after every run id (lower-case hex).
  static constexpr std::string_view kInFlightKey = "~in_flight";

  std::vector<std::string> column_families() const override { return {std::string(kActive)}; }
  uint32_t version() const override { return 2; }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
};

struct RunsInFlight {
  std::vector<std::string> ids;  // sorted: oldest request first
  template <class V> void Visit(V&& v) { v("ids", ids); }
};

// A run in flight, with what a progress bar needs.
struct ActiveRun {
  RunRecord record;
  uint32_t current_page = 0;         // the highest page done so far (1-based; 0 before the first)
  double items_per_second = 0;       // offers committed per second since the run started
  std::optional<double> eta_seconds; // when the rate and the total allow an estimate
};

// Runs in flight, oldest request first. `now_us` is the time rates and ETAs are computed at.
// Errors: kCorruption (a row that does not decode), kIOError.
Result<std::vector<ActiveRun>> ListActiveRuns(const KvReader& reader, int64_t now_us);

}  // namespace marketsync
