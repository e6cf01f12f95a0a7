#pragma once

// The stats projection: per account, how many offers the mirror holds, how its runs ended, the
// last successful run, and the outcomes of its most recent runs (for a success rate).
//
// Column families:
//   proj_stats_accounts      account -> AccountStats (its `offers` stored as 0, see below)
//   proj_stats_offers        account -> offers: u64 big-endian
//   proj_stats_open_runs     run id -> account, for runs not yet finished (terminal events do
//                            not repeat the account)
// The offer count has a row of its own: it changes with every created or removed offer, and
// rewriting the whole account row each time cost a first sync a few percent (version 2).

#include <cstdint>
#include <string>
#include <vector>

#include "events/projection.h"

namespace marketsync {

// Runs kept for the success rate.
inline constexpr size_t kStatsRecentRuns = 20;

struct AccountStats {
  std::string account;
  uint64_t offers = 0;  // filled by GetStats from proj_stats_offers
  uint64_t runs_requested = 0;
  uint64_t runs_completed = 0;
  uint64_t runs_completed_with_gaps = 0;
  uint64_t runs_failed = 0;
  uint64_t runs_cancelled = 0;
  std::string last_success_run_id;  // the last run that ended `completed`
  int64_t last_success_at_us = 0;
  std::string last_run_id;          // the last run that ended, however it ended
  std::string last_run_status;
  int64_t last_run_at_us = 0;
  std::vector<std::string> recent;  // statuses of the last kStatsRecentRuns finished runs, oldest first
  template <class V> void Visit(V&& v) {
    v("account", account);
    v("offers", offers);
    v("runs_requested", runs_requested);
    v("runs_completed", runs_completed);
    v("runs_completed_with_gaps", runs_completed_with_gaps);
    v("runs_failed", runs_failed);
    v("runs_cancelled", runs_cancelled);
    v("last_success_run_id", last_success_run_id);
    v("last_success_at_us", last_success_at_us);
    v("last_run_id", last_run_id);
    v("last_run_status", last_run_status);
    v("last_run_at_us", last_run_at_us);
    v("recent", recent);
  }
  // Completed runs among the recent ones, 0..1 (0 when none finished yet).
  double SuccessRate() const;
};

class StatsProjection final : public Projection {
 public:
  static constexpr std::string_view kName = "stats";
  static constexpr std::string_view kAccounts = "proj_stats_accounts";
  static constexpr std::string_view kOffers = "proj_stats_offers";
  static constexpr std::string_view kOpenRuns = "proj_stats_open_runs";

  std::string_view name() const override { return kName; }
  std::vector<std::string> column_families() const override {
    return {std::string(kAccounts), std::string(kOffers), std::string(kOpenRuns)};
  }
  uint32_t version() const override { return 2; }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
};

struct StatsReport {
  std::vector<AccountStats> accounts;  // account order
  uint64_t total_offers = 0;
  uint64_t total_runs_finished = 0;
  uint64_t total_runs_completed = 0;
};

// Errors: kCorruption, kIOError.
Result<StatsReport> GetStats(const KvReader& reader);

}  // namespace marketsync
