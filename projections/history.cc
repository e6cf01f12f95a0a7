#include "projections/history.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "schema/payload_codec.h"
#include "schema/run_id.h"
#include "schema/stream_ids.h"

namespace marketsync {
namespace {


std::string IndexKey(std::string_view prefix, std::string_view run_id) {
  std::string k(prefix);
  k.push_back('\0');
  k.append(run_id);
  return k;
}

}  // namespace

Status HistoryProjection::Apply(const Envelope& event, ProjectionStore& store) {
  if (!IsRunStream(event.stream_id)) return Status::Ok();
  const std::string run_id(RunIdOfStream(event.stream_id));
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(kRuns, run_id));
  RunRecord record;
  if (stored) {
    MS_ASSIGN_OR_RETURN(record, DecodeFields<RunRecord>(*stored, "history row of run " + run_id));
  }
  const std::string old_status = record.status;
  MS_RETURN_IF_ERROR(ApplyRunEvent(record, event));
  if (record.id.empty()) {
    return Status::InvalidArgument("run " + run_id + " has events before its SyncRequested");
  }
  MS_RETURN_IF_ERROR(store.Put(kRuns, run_id, EncodeFields(record)));
  if (!stored) MS_RETURN_IF_ERROR(store.Put(kByAccount, IndexKey(record.account_type, run_id), ""));
  if (old_status != record.status) {
    if (!old_status.empty()) MS_RETURN_IF_ERROR(store.Delete(kByStatus, IndexKey(old_status, run_id)));
    MS_RETURN_IF_ERROR(store.Put(kByStatus, IndexKey(record.status, run_id), ""));
  }
  return Status::Ok();
}

std::vector<HistoryGroup> GroupHistory(const std::vector<RunRecord>& runs) {
  static constexpr std::string_view kWorstFirst[] = {kRunRunning, kRunInterrupted, kRunFailed, kRunCancelled,
                                                     kRunCompletedWithGaps, kRunCompleted};
  std::vector<HistoryGroup> groups;
  std::map<std::string, size_t> index;
  for (const RunRecord& r : runs) {
    const std::string& id = r.group_id.empty() ? r.id : r.group_id;
    auto [it, fresh] = index.try_emplace(id, groups.size());
    if (fresh) groups.push_back({id, "", {}});
    groups[it->second].runs.push_back(&r);
  }
  for (HistoryGroup& g : groups) {
    for (std::string_view status : kWorstFirst) {
      if (std::any_of(g.runs.begin(), g.runs.end(), [&](const RunRecord* r) { return r->status == status; })) {
        g.status = status;
        break;
      }
    }
  }
  return groups;
}

Result<std::optional<RunRecord>> GetHistoryRun(const KvReader& log, std::string_view run_id) {
  MS_ASSIGN_OR_RETURN(auto stored, log.Get(HistoryProjection::kRuns, run_id));
  if (!stored) return std::optional<RunRecord>();
  MS_ASSIGN_OR_RETURN(RunRecord r, DecodeFields<RunRecord>(*stored, "history row of run " + std::string(run_id)));
  return std::optional<RunRecord>(std::move(r));
}

namespace {

// A cursor is the id of the last run of a page this listing gave (next_cursor), so it names a
// run the history holds; anything else was not issued by it.
Status CheckCursor(const KvReader& log, const std::string& cursor) {
  const Status not_issued = Status::InvalidArgument(
      "cursor is not one this history issued: pass next_cursor from the previous page, or leave it out");
  if (!IsRunId(cursor)) return not_issued;
  MS_ASSIGN_OR_RETURN(auto stored, log.Get(HistoryProjection::kRuns, cursor));
  return stored ? Status::Ok() : not_issued;
}

}  // namespace

Result<HistoryPage> ListHistory(const KvReader& log, const HistoryQuery& q) {
  if (q.limit == 0 || q.limit > 1000) return Status::InvalidArgument("limit must be 1..1000");
  if (!q.cursor.empty()) MS_RETURN_IF_ERROR(CheckCursor(log, q.cursor));
  // Walk the narrowest index newest first; check the other filter on the record.
  std::string_view family = HistoryProjection::kRuns;
  std::string prefix;
  if (q.status) {
    family = HistoryProjection::kByStatus;
    prefix = IndexKey(*q.status, "");
  } else if (q.account) {
    family = HistoryProjection::kByAccount;
    prefix = IndexKey(*q.account, "");
  }
  MS_ASSIGN_OR_RETURN(auto it, log.Scan(family));
  // Runs older than the cursor: seek just before it (or to the end of the prefix, or of the
  // time range).
  std::string newest = q.cursor.empty() ? std::string("\xff", 1) : q.cursor;
  if (q.to_us && q.cursor.empty()) newest = RunIdTimePrefix(*q.to_us + kRunIdSlackUs);
  const std::string oldest = q.from_us ? RunIdTimePrefix(*q.from_us - kRunIdSlackUs) : std::string();
  std::string start = prefix + newest;
  it->SeekForPrev(start);
  if (!q.cursor.empty() && it->Valid() && it->key() == prefix + q.cursor) it->Prev();
  HistoryPage page;
  for (; it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    const std::string run_id(it->key().substr(prefix.size()));
    if (run_id < oldest) break;
    RunRecord record;
    if (family == HistoryProjection::kRuns) {
      MS_ASSIGN_OR_RETURN(record, DecodeFields<RunRecord>(it->value(), "history row of run " + run_id));
    } else {
      MS_ASSIGN_OR_RETURN(auto r, GetHistoryRun(log, run_id));
      if (!r) return Status::Corruption("history index names run " + run_id + ", which has no row");
      record = std::move(*r);
    }
    if (q.account && record.account_type != *q.account) continue;
    if (q.from_us && record.requested_at_us < *q.from_us) continue;
    if (q.to_us && record.requested_at_us >= *q.to_us) continue;
    if (page.runs.size() == q.limit) {
      page.next_cursor = page.runs.back().id;
      break;
    }
    page.runs.push_back(std::move(record));
  }
  MS_RETURN_IF_ERROR(it->status());
  return page;
}

}  // namespace marketsync
