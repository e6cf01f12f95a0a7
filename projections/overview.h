#pragma once

// The overview: what the console shows first, composed from the projections in one read
// (stats, rollup, status, history): each account's offers, last success, health and run in
// flight; runs per day by outcome; and the latest runs of the window for the per-run charts.
// Reads O(days + runs + accounts) rows, however long the history.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/projection.h"
#include "projections/rollup.h"
#include "projections/run_record.h"
#include "projections/stats.h"
#include "projections/status.h"

namespace marketsync {

struct OverviewQuery {
  std::optional<std::string> account;  // one account, or every account
  uint32_t days = 30;                  // 1..366 UTC days, ending today
  size_t runs = 200;                   // 1..1000: the newest runs of the window
};

struct AccountOverview {
  AccountStats stats;  // offers, runs by outcome, last success, success rate
  AccountHealth health;
  std::string health_word;              // "ok" | "failing" | "never_synced"
  std::optional<ActiveRun> in_flight;   // its run not finished yet, if any
};

struct Overview {
  std::vector<AccountOverview> accounts;  // account order
  std::vector<DayPoint> days;             // oldest first
  std::vector<RunRecord> runs;            // requested in the window, oldest first
  bool runs_truncated = false;            // the window holds more runs than `runs`
  int64_t window_start_us = 0;            // midnight UTC of the first day
};

// `configured` accounts are listed even before their first run. `now_us` is the time the
// window ends at (the clock live, the last event's time as of a point).
// Errors: kInvalidArgument (days or runs out of range), kCorruption, kIOError.
Result<Overview> BuildOverview(const KvReader& reader, const OverviewQuery& query,
                               const std::vector<std::string>& configured, int64_t now_us);

}  // namespace marketsync
