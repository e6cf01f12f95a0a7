#include "projections/stats.h"

#include "base/coding.h"
#include "schema/payload_codec.h"
#include "schema/stream_ids.h"
#include "schema/sync_events.h"
#include "projections/run_record.h"

namespace marketsync {
namespace {

Result<AccountStats> Load(ProjectionStore& store, std::string_view account) {
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(StatsProjection::kAccounts, account));
  if (!stored) {
    AccountStats s;
    s.account = account;
    return s;
  }
  return DecodeFields<AccountStats>(*stored, "stats row of " + std::string(account));
}

}  // namespace

double AccountStats::SuccessRate() const {
  if (recent.empty()) return 0;
  size_t ok = 0;
  for (const auto& s : recent) ok += s == kRunCompleted ? 1 : 0;
  return static_cast<double>(ok) / static_cast<double>(recent.size());
}

Status StatsProjection::Apply(const Envelope& e, ProjectionStore& store) {
  const auto type = static_cast<EventType>(e.type);
  if (type == EventType::kProductCreated || type == EventType::kProductRemoved) {
    const std::string_view account = ProductStreamAccount(e.stream_id);
    if (account.empty()) return Status::InvalidArgument("product event on stream " + e.stream_id);
    MS_ASSIGN_OR_RETURN(auto stored, store.Get(kOffers, account));
    uint64_t offers = stored && stored->size() == 8 ? GetFixed64BE(stored->data()) : 0;
    if (type == EventType::kProductCreated) {
      ++offers;
    } else if (offers > 0) {
      --offers;
    }
    std::string v;
    PutFixed64BE(&v, offers);
    MS_RETURN_IF_ERROR(store.Put(kOffers, account, v));
    if (!stored) {
      // The account's first offer: make sure it has an account row for GetStats to list.
      MS_ASSIGN_OR_RETURN(auto row, store.Get(kAccounts, account));
      if (!row) {
        AccountStats fresh;
        fresh.account = account;
        MS_RETURN_IF_ERROR(store.Put(kAccounts, account, EncodeFields(fresh)));
      }
    }
    return Status::Ok();
  }
  if (!IsRunStream(e.stream_id)) return Status::Ok();
  const std::string run_id = e.stream_id.substr(4);
  if (type == EventType::kSyncRequested) {
    MS_ASSIGN_OR_RETURN(auto p, DecodePayload<SyncRequested>(e.payload_version, e.payload));
    MS_ASSIGN_OR_RETURN(AccountStats s, Load(store, p.account));
    ++s.runs_requested;
    MS_RETURN_IF_ERROR(store.Put(kAccounts, p.account, EncodeFields(s)));
    return store.Put(kOpenRuns, run_id, p.account);
  }
  const std::string_view status = TerminalStatusOf(type);
  if (status.empty()) return Status::Ok();
  MS_ASSIGN_OR_RETURN(auto account, store.Get(kOpenRuns, run_id));
  if (!account) return Status::Ok();  // already finished
  MS_ASSIGN_OR_RETURN(AccountStats s, Load(store, *account));
  if (status == kRunCompleted) {
    ++s.runs_completed;
    s.last_success_run_id = run_id;
    s.last_success_at_us = e.recorded_at_us;
  } else if (status == kRunCompletedWithGaps) {
    ++s.runs_completed_with_gaps;
  } else if (status == kRunFailed) {
    ++s.runs_failed;
  } else {
    ++s.runs_cancelled;
  }
  s.last_run_id = run_id;
  s.last_run_status = status;
  s.last_run_at_us = e.recorded_at_us;
  s.recent.emplace_back(status);
  if (s.recent.size() > kStatsRecentRuns) s.recent.erase(s.recent.begin());
  MS_RETURN_IF_ERROR(store.Put(kAccounts, *account, EncodeFields(s)));
  return store.Delete(kOpenRuns, run_id);
}

Result<StatsReport> GetStats(const KvReader& reader) {
  StatsReport report;
  MS_ASSIGN_OR_RETURN(auto it, reader.Scan(StatsProjection::kAccounts));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    MS_ASSIGN_OR_RETURN(AccountStats s, DecodeFields<AccountStats>(it->value(), "stats row"));
    MS_ASSIGN_OR_RETURN(auto offers, reader.Get(StatsProjection::kOffers, s.account));
    s.offers = offers && offers->size() == 8 ? GetFixed64BE(offers->data()) : 0;
    report.total_offers += s.offers;
    report.total_runs_completed += s.runs_completed;
    report.total_runs_finished += s.runs_completed + s.runs_completed_with_gaps + s.runs_failed + s.runs_cancelled;
    report.accounts.push_back(std::move(s));
  }
  MS_RETURN_IF_ERROR(it->status());
  return report;
}

}  // namespace marketsync
