#include "projections/status.h"

#include "schema/payload_codec.h"
#include "schema/stream_ids.h"

namespace marketsync {

Status StatusProjection::Apply(const Envelope& event, ProjectionStore& store) {
  if (!IsRunStream(event.stream_id)) return Status::Ok();
  const std::string run_id = event.stream_id.substr(4);
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(kActive, run_id));
  // Events after a run's end (none are written today) leave it finished.
  if (!stored && event.type != static_cast<uint16_t>(EventType::kSyncRequested)) return Status::Ok();
  RunRecord record;
  if (stored) {
    MS_ASSIGN_OR_RETURN(record, DecodeFields<RunRecord>(*stored, "status row of run " + run_id));
  }
  MS_RETURN_IF_ERROR(ApplyRunEvent(record, event));
  if (record.terminal()) return store.Delete(kActive, run_id);
  return store.Put(kActive, run_id, EncodeFields(record));
}

Result<std::vector<ActiveRun>> ListActiveRuns(const KvReader& reader, int64_t now_us) {
  std::vector<ActiveRun> out;
  MS_ASSIGN_OR_RETURN(auto it, reader.Scan(StatusProjection::kActive));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ActiveRun run;
    MS_ASSIGN_OR_RETURN(run.record, DecodeFields<RunRecord>(it->value(), "status row of run " + std::string(it->key())));
    const RunRecord& r = run.record;
    run.current_page = r.last_page;
    if (r.started_at_us > 0 && now_us > r.started_at_us && r.status == kRunRunning) {
      run.items_per_second = static_cast<double>(r.processed_items) * 1e6 / static_cast<double>(now_us - r.started_at_us);
      if (run.items_per_second > 0 && r.total_items >= r.processed_items) {
        run.eta_seconds = static_cast<double>(r.total_items - r.processed_items) / run.items_per_second;
      }
    }
    out.push_back(std::move(run));
  }
  MS_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace marketsync
