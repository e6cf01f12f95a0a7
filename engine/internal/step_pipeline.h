#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "base/status.h"
#include "events/step.h"

namespace marketsync {

// The events a step appends to its run's stream, and the rest of the step.
struct RunStep {
  std::vector<NewEvent> run_events;
  Step step;
};

// The page steps of one run on their way to the log, so that preparing the next pages (product
// state reads, fingerprints) overlaps the synced writes: each step is handed to `write` (the
// engine's StepWriter, through the run's journal) as soon as it is pushed, where steps of every
// run that queue up meanwhile share one write; at most kDepth wait. After a failed write it
// takes no more steps and reports that failure. No thread of its own; callbacks run where
// `write` completes.
// Thread safety: Push and Drain from the run (one at a time); `write` may complete on any thread.
// The owner drains before destroying it (write's callbacks fold into the run's state).
class StepPipeline {
 public:
  static constexpr size_t kDepth = 8;
  using Callback = std::function<void(Status)>;
  using WriteFn = std::function<void(std::vector<RunStep>, Callback)>;

  explicit StepPipeline(WriteFn write);
  StepPipeline(const StepPipeline&) = delete;
  StepPipeline& operator=(const StepPipeline&) = delete;

  // Hands the step on; `ready` runs once fewer than kDepth steps wait (at once, or when a write
  // completes), with an earlier write's failure if there was one (the step is then dropped).
  void Push(RunStep step, Callback ready);
  // `done` runs once every pushed step is written, with the first failure.
  void Drain(Callback done);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace marketsync
