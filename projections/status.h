#pragma once

// The status projection: the runs that are not finished (running, queued, or interrupted and
// waiting to resume), each as its RunRecord. A row appears with SyncRequested and goes with the
// run's terminal event, so the family holds only what is in flight.
//
// Column family: proj_status_active  run id -> RunRecord (payload encoding)

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
  std::vector<std::string> column_families() const override { return {std::string(kActive)}; }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
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
