#pragma once

// The rollup projection: what the console's overview charts read, in rows per day rather than
// per run: how many runs each UTC day saw requested and how they ended, per account and for
// every account, and each account's failing streak (failing since when).
//
// Column families:
//   proj_rollup_days    day ("2026-12-02") 0x00 account -> DayRuns   (account "" = every account)
//   proj_rollup_open    run id -> account, for runs not finished yet
//   proj_rollup_health  account -> AccountHealth
// A run counts on the day it was requested (its id's time), whenever it ends, so a day's
// outcomes add up to its requests once its runs are over.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/projection.h"

namespace marketsync {

struct DayRuns {
  uint64_t requested = 0;
  uint64_t completed = 0;
  uint64_t completed_with_gaps = 0;
  uint64_t failed = 0;
  uint64_t cancelled = 0;
  uint64_t created_items = 0;  // over the runs that ended (their totals)
  uint64_t updated_items = 0;
  uint64_t removed_items = 0;
  template <class V> void Visit(V&& v) {
    v("requested", requested);
    v("completed", completed);
    v("completed_with_gaps", completed_with_gaps);
    v("failed", failed);
    v("cancelled", cancelled);
    v("created_items", created_items);
    v("updated_items", updated_items);
    v("removed_items", removed_items);
  }
  uint64_t finished() const { return completed + completed_with_gaps + failed + cancelled; }
};

// An account is failing from its first run that failed or left gaps after its last complete run,
// until a run completes again. Cancelled runs change nothing.
struct AccountHealth {
  int64_t failing_since_us = 0;  // 0: not failing
  std::string failing_since_run_id;
  uint64_t failing_runs = 0;     // runs that failed or left gaps since
  template <class V> void Visit(V&& v) {
    v("failing_since_us", failing_since_us);
    v("failing_since_run_id", failing_since_run_id);
    v("failing_runs", failing_runs);
  }
};

class RollupProjection final : public Projection {
 public:
  static constexpr std::string_view kName = "rollup";
  static constexpr std::string_view kDays = "proj_rollup_days";
  static constexpr std::string_view kOpen = "proj_rollup_open";
  static constexpr std::string_view kHealth = "proj_rollup_health";

  std::string_view name() const override { return kName; }
  std::vector<std::string> column_families() const override {
    return {std::string(kDays), std::string(kOpen), std::string(kHealth)};
  }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
};

inline constexpr int64_t kDayUs = 86'400'000'000;

// "2026-12-02": the UTC day of a time.
std::string UtcDay(int64_t us);
// Midnight UTC of the first of the `days` days that end with the day of `end_us`.
constexpr int64_t FirstDayUs(int64_t end_us, uint32_t days) {
  return end_us - end_us % kDayUs - static_cast<int64_t>(days - 1) * kDayUs;
}

struct DayPoint {
  std::string day;  // "2026-12-02"
  DayRuns runs;
};
// The `days` UTC days ending with the day of `end_us`, oldest first, zero-filled; one account's
// or (nullopt) every account's. Errors: kInvalidArgument (days 0 or over 366), kCorruption, kIOError.
Result<std::vector<DayPoint>> RunsPerDay(const KvReader& reader, const std::optional<std::string>& account,
                                         int64_t end_us, uint32_t days);
// An account's health row (default: never failing). Errors: kCorruption, kIOError.
Result<AccountHealth> GetAccountHealth(const KvReader& reader, std::string_view account);

}  // namespace marketsync
