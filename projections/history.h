#pragma once

// The history projection: one RunRecord per run, folded inline with the events, listed newest
// first with filters and cursor paging, no row cap and no expiry (DESIGN.md §6).
//
// Column families:
//   proj_history_runs        run id -> RunRecord (payload encoding)
//   proj_history_by_account  account 0x00 run id -> ""
//   proj_history_by_status   status 0x00 run id -> ""
// Run ids sort by time (they start with the request time), so each family lists runs in order.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event_log.h"
#include "events/projection.h"
#include "projections/run_record.h"

namespace marketsync {

class HistoryProjection final : public Projection {
 public:
  static constexpr std::string_view kName = "history";
  static constexpr std::string_view kRuns = "proj_history_runs";
  static constexpr std::string_view kByAccount = "proj_history_by_account";
  static constexpr std::string_view kByStatus = "proj_history_by_status";

  std::string_view name() const override { return kName; }
  std::vector<std::string> column_families() const override {
    return {std::string(kRuns), std::string(kByAccount), std::string(kByStatus)};
  }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
};

struct HistoryQuery {
  std::optional<std::string> account;
  std::optional<std::string> status;
  std::optional<int64_t> from_us;  // requested at or after (UTC microseconds)
  std::optional<int64_t> to_us;    // requested before
  size_t limit = 50;
  std::string cursor;  // from a previous page's next_cursor; empty for the newest
};

struct HistoryPage {
  std::vector<RunRecord> runs;  // newest first
  std::string next_cursor;      // empty when there are no older runs
};

// Runs started together (`both`: one per account, one group id), in listing order. A group
// whose runs straddle a page boundary appears on both pages with the runs each page holds.
struct HistoryGroup {
  std::string group_id;
  std::string status;  // running if any runs; else the worst ending (interrupted, failed,
                       // cancelled, completed_with_gaps), else completed
  std::vector<const RunRecord*> runs;  // the children, per account
};
std::vector<HistoryGroup> GroupHistory(const std::vector<RunRecord>& runs);

// Reads the projection (live, or an as-of fold). Errors: kInvalidArgument (limit 0 or over 1000, a cursor no page gave),
// kCorruption (a row that does not decode), kIOError.
Result<HistoryPage> ListHistory(const KvReader& reader, const HistoryQuery& query);
Result<std::optional<RunRecord>> GetHistoryRun(const KvReader& reader, std::string_view run_id);

}  // namespace marketsync
