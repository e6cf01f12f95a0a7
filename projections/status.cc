#include "projections/status.h"

#include <algorithm>

#include "schema/payload_codec.h"
#include "schema/stream_ids.h"

namespace marketsync {
namespace {

Result<RunsInFlight> LoadInFlight(const KvReader& reader) {
  MS_ASSIGN_OR_RETURN(auto stored, reader.Get(StatusProjection::kActive, StatusProjection::kInFlightKey));
  if (!stored) return RunsInFlight{};
  return DecodeFields<RunsInFlight>(*stored, "status: the runs in flight");
}

// Adds (or removes) a run id in the in-flight row.
Status UpdateInFlight(ProjectionStore& store, const std::string& run_id, bool add) {
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(StatusProjection::kActive, StatusProjection::kInFlightKey));
  RunsInFlight set;
  if (stored) {
    MS_ASSIGN_OR_RETURN(set, DecodeFields<RunsInFlight>(*stored, "status: the runs in flight"));
  }
  auto at = std::lower_bound(set.ids.begin(), set.ids.end(), run_id);
  const bool present = at != set.ids.end() && *at == run_id;
  if (add == present) return Status::Ok();
  if (add) {
    set.ids.insert(at, run_id);
  } else {
    set.ids.erase(at);
  }
  return store.Put(StatusProjection::kActive, StatusProjection::kInFlightKey, EncodeFields(set));
}

}  // namespace

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
  if (record.terminal()) {
    MS_RETURN_IF_ERROR(UpdateInFlight(store, run_id, false));
    return store.Delete(kActive, run_id);
  }
  if (!stored) MS_RETURN_IF_ERROR(UpdateInFlight(store, run_id, true));
  return store.Put(kActive, run_id, EncodeFields(record));
}

Result<std::vector<ActiveRun>> ListActiveRuns(const KvReader& reader, int64_t now_us) {
  std::vector<ActiveRun> out;
  MS_ASSIGN_OR_RETURN(RunsInFlight in_flight, LoadInFlight(reader));
  for (const std::string& id : in_flight.ids) {
    MS_ASSIGN_OR_RETURN(auto stored, reader.Get(StatusProjection::kActive, id));
    if (!stored) return Status::Corruption("status: run " + id + " is in flight but has no row");
    ActiveRun run;
    MS_ASSIGN_OR_RETURN(run.record, DecodeFields<RunRecord>(*stored, "status row of run " + id));
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
  return out;
}

}  // namespace marketsync
