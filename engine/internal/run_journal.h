#pragma once

// RunJournal: how the engine reads a run back from its stream and appends its steps. Every
// event of a run goes through here, so the in-memory record stays what the log says, and the
// raw-hash index learns each durable step's product rows.

#include <string>
#include <vector>

#include "engine/internal/raw_hash_index.h"
#include "engine/internal/run_state.h"
#include "engine/internal/step_pipeline.h"
#include "events/event_log.h"
#include "schema/run_enums.h"
#include "schema/sync_events.h"

namespace marketsync {

// Thread safety: the journal itself is stateless beyond its references; a RunState is used
// by one run's threads as StepPipeline describes.
class RunJournal {
 public:
  // Both must outlive the journal.
  RunJournal(EventLog& log, RawHashIndex& raw_hashes) : log_(log), raw_hashes_(raw_hashes) {}

  EventLog& log() const { return log_; }

  // The run as its stream tells it; with_seen also collects the offers its pages held.
  // Errors: kNotFound (no such run), kCorruption, kIOError.
  Result<RunState> Load(const std::string& run_id, bool with_seen) const;

  // Appends events to the run stream (plus whatever else the step carries) and folds them
  // into the record.
  Status Append(RunState& state, std::vector<NewEvent> run_events, Step step);
  // Several steps of the run, in order, usually in one synced write (each still atomic).
  Status AppendAll(RunState& state, std::vector<RunStep> items);

  // AppendAll in two halves, for a writer elsewhere: the log's steps (the run's events copied
  // for the fold), then the fold of what the log answered into the record and the index.
  struct Prepared {
    std::vector<Step> steps;
    std::vector<std::vector<NewEvent>> run_events;
    std::vector<std::vector<RawHashIndex::Change>> product_changes;
  };
  static Prepared Prepare(RunState& state, std::vector<RunStep> items);
  Status Fold(RunState& state, Prepared& prepared, std::vector<Result<AppendResult>> results);

  // The run's totals so far, for its terminal event.
  static SyncTotals Totals(const RunRecord& r, uint64_t extra_requests, uint64_t removed);
  // The terminal step's own writes: release the account (expecting this run to hold it).
  static Step ReleaseStep(const RunRecord& r);

  // Terminal steps: SyncCancelled, SyncFailed (both release the account).
  static RunStep CancelledStep(const RunState& st, uint64_t extra_requests);
  static RunStep FailedStep(const RunState& st, uint64_t extra_requests, ErrorClass error_class, std::string message);
  // A stop at a page boundary; the lease stays, so the next start resumes the run.
  static RunStep InterruptStep(const RunState& st, std::string reason);
  // FailedStep, appended (recovery's: a run that cannot go on).
  Status FinishFailed(RunState& st, uint64_t extra_requests, ErrorClass error_class, std::string message);

 private:
  EventLog& log_;
  RawHashIndex& raw_hashes_;
};

}  // namespace marketsync
