#include "projections/rollup.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

#include "projections/run_record.h"
#include "schema/payload_codec.h"
#include "schema/run_id.h"
#include "schema/stream_ids.h"
#include "schema/sync_events.h"

namespace marketsync {
namespace {

std::string DayKey(std::string_view day, std::string_view account) {
  std::string k(day);
  k.push_back('\0');
  k.append(account);
  return k;
}

// Adds to a day row with `change` applied.
template <class F>
Status UpdateDay(ProjectionStore& store, const std::string& key, F&& change) {
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(RollupProjection::kDays, key));
  DayRuns row;
  if (stored) {
    MS_ASSIGN_OR_RETURN(row, DecodeFields<DayRuns>(*stored, "rollup row"));
  }
  change(row);
  return store.Put(RollupProjection::kDays, key, EncodeFields(row));
}

// The totals and status of a terminal event; nullopt for any other event.
struct Ending {
  std::string_view status;
  SyncTotals totals;
};

template <class T>
Result<SyncTotals> TotalsOf(const Envelope& e) {
  MS_ASSIGN_OR_RETURN(T p, DecodePayload<T>(e.payload_version, e.payload));
  return p.totals;
}

Result<std::optional<Ending>> EndingOf(const Envelope& e) {
  const auto type = static_cast<EventType>(e.type);
  Ending end{TerminalStatusOf(type), {}};
  if (end.status.empty()) return std::optional<Ending>();
  Result<SyncTotals> totals = type == EventType::kSyncCompleted         ? TotalsOf<SyncCompleted>(e)
                              : type == EventType::kSyncCompletedWithGaps ? TotalsOf<SyncCompletedWithGaps>(e)
                              : type == EventType::kSyncFailed            ? TotalsOf<SyncFailed>(e)
                                                                          : TotalsOf<SyncCancelled>(e);
  MS_ASSIGN_OR_RETURN(end.totals, std::move(totals));
  return std::optional<Ending>(std::move(end));
}

void Count(DayRuns& row, const Ending& end) {
  if (end.status == kRunCompleted) ++row.completed;
  if (end.status == kRunCompletedWithGaps) ++row.completed_with_gaps;
  if (end.status == kRunFailed) ++row.failed;
  if (end.status == kRunCancelled) ++row.cancelled;
  row.created_items += end.totals.created;
  row.updated_items += end.totals.updated;
  row.removed_items += end.totals.removed;
}

Status UpdateHealth(ProjectionStore& store, const std::string& account, const std::string& run_id,
                    std::string_view status, int64_t at_us) {
  if (status == kRunCancelled) return Status::Ok();
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(RollupProjection::kHealth, account));
  AccountHealth h;
  if (stored) {
    MS_ASSIGN_OR_RETURN(h, DecodeFields<AccountHealth>(*stored, "rollup health of " + account));
  }
  if (status == kRunCompleted) {
    h = AccountHealth{};
  } else {
    if (h.failing_since_us == 0) {
      h.failing_since_us = at_us;
      h.failing_since_run_id = run_id;
    }
    ++h.failing_runs;
  }
  return store.Put(RollupProjection::kHealth, account, EncodeFields(h));
}

}  // namespace

std::string UtcDay(int64_t us) {
  const std::time_t secs = static_cast<std::time_t>(us >= 0 ? us / 1'000'000 : 0);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:%Y-%m-%d}", tm);
}

Status RollupProjection::Apply(const Envelope& e, ProjectionStore& store) {
  if (!IsRunStream(e.stream_id)) return Status::Ok();
  const auto type = static_cast<EventType>(e.type);
  MS_ASSIGN_OR_RETURN(std::optional<Ending> end, EndingOf(e));
  if (type != EventType::kSyncRequested && !end) return Status::Ok();
  const std::string run_id(RunIdOfStream(e.stream_id));
  const std::optional<int64_t> requested_us = RunIdTimeUs(run_id);
  if (!requested_us) return Status::InvalidArgument("run stream " + e.stream_id + " does not name a run id");
  const std::string day = UtcDay(*requested_us);
  if (type == EventType::kSyncRequested) {
    MS_ASSIGN_OR_RETURN(auto p, DecodePayload<SyncRequested>(e.payload_version, e.payload));
    for (const std::string& account : {p.account, std::string()}) {
      MS_RETURN_IF_ERROR(UpdateDay(store, DayKey(day, account), [](DayRuns& row) { ++row.requested; }));
    }
    return store.Put(kOpen, run_id, p.account);
  }
  MS_ASSIGN_OR_RETURN(auto account, store.Get(kOpen, run_id));
  if (!account) return Status::Ok();  // already finished
  for (const std::string& key : {DayKey(day, *account), DayKey(day, "")}) {
    MS_RETURN_IF_ERROR(UpdateDay(store, key, [&](DayRuns& row) { Count(row, *end); }));
  }
  MS_RETURN_IF_ERROR(UpdateHealth(store, *account, run_id, end->status, e.recorded_at_us));
  return store.Delete(kOpen, run_id);
}

Result<std::vector<DayPoint>> RunsPerDay(const KvReader& reader, const std::optional<std::string>& account,
                                         int64_t end_us, uint32_t days) {
  if (days == 0 || days > 366) return Status::InvalidArgument("days must be in 1..366");
  std::vector<DayPoint> out;
  out.reserve(days);
  const int64_t first = FirstDayUs(end_us, days);
  for (uint32_t i = 0; i < days; ++i) {
    DayPoint point{UtcDay(first + static_cast<int64_t>(i) * kDayUs), {}};
    MS_ASSIGN_OR_RETURN(auto stored, reader.Get(RollupProjection::kDays, DayKey(point.day, account.value_or(""))));
    if (stored) {
      MS_ASSIGN_OR_RETURN(point.runs, DecodeFields<DayRuns>(*stored, "rollup row of " + point.day));
    }
    out.push_back(std::move(point));
  }
  return out;
}

Result<AccountHealth> GetAccountHealth(const KvReader& reader, std::string_view account) {
  MS_ASSIGN_OR_RETURN(auto stored, reader.Get(RollupProjection::kHealth, account));
  if (!stored) return AccountHealth{};
  return DecodeFields<AccountHealth>(*stored, "rollup health of " + std::string(account));
}

}  // namespace marketsync
