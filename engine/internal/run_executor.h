#pragma once

// RunExecutor: one attempt of one run, from its reload to its terminal step (DESIGN.md §5). The
// whole run lifecycle in one place: SyncStarted at once, SyncCounted when product_offer/count
// answers (asked ahead of every page), one step per page as it arrives in order (PageCommitted
// with its product changes, or PageFailed), then SyncCompleted,
// SyncCompletedWithGaps, SyncFailed, SyncCancelled or SyncInterrupted.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/emag/client.h"
#include "engine/emag/page_stream.h"
#include "engine/internal/raw_hash_index.h"
#include "engine/internal/run_journal.h"
#include "engine/internal/run_state.h"
#include "engine/internal/step_pipeline.h"

namespace marketsync {

struct RunExecutorOptions {
  uint32_t page_window = 16;  // page requests in flight
  std::chrono::milliseconds run_deadline{std::chrono::minutes(30)};
};

// Thread safety: one Execute per executor at a time (the engine makes one per run job).
class RunExecutor {
 public:
  // Everything borrowed must outlive the executor.
  RunExecutor(RunJournal& journal, RawHashIndex& raw_hashes, emag::EmagClient& client, RunExecutorOptions options)
      : journal_(journal), raw_hashes_(raw_hashes), client_(client), options_(options) {}

  // Runs the run on from where its stream says it stands (`st`, loaded with its seen offers:
  // RunJournal::Load(id, true)) until it ends or is asked to stop (`active`). Errors: the log's
  // (the run is then left for recovery).
  Status Execute(RunState st, RunFlags& active);

  // The class of a failed request, as SyncFailed records it.
  static ErrorClass ClassOf(const Status& s);

 private:
  // What the count told, and what the run has ahead of it.
  struct Plan {
    bool counted = false;
    uint64_t count_items = 0;
    uint32_t per_page = 100;
    uint32_t last_page = 0;  // max_pages or open-ended until the count or a short page says
    bool limited = false;    // max_pages cut the run short of the catalogue
  };

  // The last page to request before the count answers: one past what the account's mirror
  // (or an earlier attempt's count) fills; open-ended (the window bounds it) when nothing is known.
  uint32_t PagesBeforeCount(const RunRecord& r, uint32_t first_page, uint32_t per_page) const;
  // Appends SyncStarted at once: the count comes later, in SyncCounted.
  Status Begin(RunState& st, uint32_t first_page, uint32_t per_page);
  // SyncCounted for the count's answer; sizes the run's tables and ends the plan at its last page.
  std::vector<NewEvent> Counted(RunState& st, const emag::FetchedCount& count, Plan& plan);
  // Takes the count and the pages in order until the stream ends or the run must stop; `fatal`
  // is set to a request failure that ends the run.
  Status TakePages(RunState& st, emag::PageStream& stream, RunFlags& active, Plan& plan, Status* fatal);
  // One fetched page: its step (PageCommitted or PageFailed) into the pipeline.
  Status TakePage(RunState& st, emag::FetchedPage& page, emag::PageStream& stream, Plan& plan,
                  StepPipeline& pipeline, Status* fatal);
  // SyncCancelled or SyncInterrupted when the flags ask for it (*stopped says so).
  Status StopIfAsked(RunState& st, const RunFlags& active, uint64_t extra_requests, bool* stopped);
  // The step of one fetched page: its PageCommitted and the changed products. Reads only the
  // run's id and account of the record (the pipeline may be folding other fields meanwhile).
  Status PreparePage(RunState& st, emag::FetchedPage& page, std::vector<NewEvent>* run_events, Step* out);
  // The end of a run that read every page it was to read.
  Status Complete(RunState& st, uint64_t extra_requests, const Plan& plan);
  // The offers the run did not see (removed, when the run may remove) and the part numbers
  // held by several offers.
  Status CollectUnseen(RunState& st, bool may_remove, Step& step, uint64_t& removed,
                       std::vector<DuplicatePartNumber>& duplicates);

  RunJournal& journal_;
  RawHashIndex& raw_hashes_;
  emag::EmagClient& client_;
  RunExecutorOptions options_;
  uint64_t extra_requests_ = 0;  // requests no event holds yet (a count that failed)
};

}  // namespace marketsync
