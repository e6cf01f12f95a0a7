#pragma once

// RunExecutor: one attempt of one run, from its reload to its terminal step (DESIGN.md §5). The
// whole run lifecycle in one place: SyncStarted at once, SyncCounted when product_offer/count
// answers (asked ahead of every page), one step per page as it arrives in order (PageCommitted
// with its product changes, or PageFailed), then SyncCompleted,
// SyncCompletedWithGaps, SyncFailed, SyncCancelled or SyncInterrupted. A coroutine on the
// IoPool: it holds no thread while it waits for pages (the page stream's asynchronous calls) or
// for its steps to be durable (the engine's StepWriter).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/emag/client.h"
#include "engine/emag/page_stream.h"
#include "engine/internal/coro.h"
#include "engine/internal/raw_hash_index.h"
#include "engine/internal/run_journal.h"
#include "engine/internal/run_state.h"
#include "engine/internal/step_pipeline.h"
#include "engine/internal/step_writer.h"

namespace marketsync {

struct RunExecutorOptions {
  uint32_t page_window = 16;  // page requests in flight
  std::chrono::milliseconds run_deadline{std::chrono::minutes(30)};
  // Other nodes write this account's mirror too (EngineOptions::lease_ttl above zero): the
  // raw-hash index this node kept since its last run of the account may be stale, so each
  // attempt loads it again.
  bool shared_log = false;
};

// Thread safety: one Execute per executor at a time (the engine makes one per run job).
class RunExecutor {
 public:
  // Everything borrowed must outlive the executor.
  RunExecutor(RunJournal& journal, RawHashIndex& raw_hashes, StepWriter& writer, emag::EmagClient& client,
              RunExecutorOptions options)
      : journal_(journal), raw_hashes_(raw_hashes), writer_(writer), client_(client), options_(options) {}

  // Runs the run on from where its stream says it stands (`st`, loaded with its seen offers:
  // RunJournal::Load(id, true)) until it ends or is asked to stop (`active`). Errors: the log's
  // (the run is then left for recovery).
  Task<Status> Execute(RunState st, RunFlags& active);

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
  // SyncStarted, appended at once: the count comes later, in SyncCounted.
  RunStep BeginStep(RunState& st, uint32_t first_page, uint32_t per_page);
  // SyncCounted for the count's answer; sizes the run's tables and ends the plan at its last page.
  std::vector<NewEvent> Counted(RunState& st, const emag::FetchedCount& count, Plan& plan);
  // Takes the count and the pages in order until the stream ends or the run must stop; `fatal`
  // is set to a request failure that ends the run. Every step it pushed is written when it ends.
  Task<Status> TakePages(RunState& st, emag::PageStream& stream, RunFlags& active, Plan& plan, Status* fatal);
  // One fetched page: its step (PageCommitted or PageFailed) into the pipeline.
  Task<Status> TakePage(RunState& st, emag::FetchedPage& page, emag::PageStream& stream, Plan& plan,
                        StepPipeline& pipeline, Status* fatal);
  // SyncCancelled or SyncInterrupted when the flags ask for it.
  std::optional<RunStep> StopStep(const RunState& st, const RunFlags& active) const;
  // The step of one fetched page: its PageCommitted and the changed products. Reads only the
  // run's id and account of the record (the writer may be folding other fields meanwhile).
  Status PreparePage(RunState& st, emag::FetchedPage& page, std::vector<NewEvent>* run_events, Step* out);
  // The end of a run that read every page it was to read.
  Result<RunStep> CompleteStep(RunState& st, uint64_t extra_requests, const Plan& plan);
  // The offers the run did not see (removed, when the run may remove) and the part numbers
  // held by several offers.
  Status CollectUnseen(RunState& st, bool may_remove, Step& step, uint64_t& removed,
                       std::vector<DuplicatePartNumber>& duplicates);
  // Steps through the StepWriter; `done` once they are durable and folded into `st`.
  void Write(RunState& st, std::vector<RunStep> items, std::function<void(Status)> done);
  Task<Status> WriteNow(RunState& st, RunStep step);

  RunJournal& journal_;
  RawHashIndex& raw_hashes_;
  StepWriter& writer_;
  emag::EmagClient& client_;
  RunExecutorOptions options_;
  uint64_t extra_requests_ = 0;  // requests no event holds yet (a count that failed)
};

}  // namespace marketsync
