#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/status.h"
#include "events/step.h"

namespace marketsync {

// The events a step appends to its run's stream, and the rest of the step.
struct RunStep {
  std::vector<NewEvent> run_events;
  Step step;
};

// Appends a run's page steps in order on a thread of its own, so that preparing the next pages
// (product state reads, fingerprints) overlaps the synced writes, and the steps that queue up
// meanwhile share one write (each still its own atomic step). At most kDepth steps wait. After
// a failed append it takes no more steps and reports that failure.
class StepPipeline {
 public:
  static constexpr size_t kDepth = 8;
  using AppendFn = std::function<Status(std::vector<RunStep>)>;
  explicit StepPipeline(AppendFn append);
  // Drains, then stops and joins the thread.
  ~StepPipeline();
  StepPipeline(const StepPipeline&) = delete;
  StepPipeline& operator=(const StepPipeline&) = delete;

  // Queues a step (waits while kDepth steps wait). Errors: an earlier append's failure.
  Status Push(std::vector<NewEvent> run_events, Step step);
  // Waits until every pushed step is written; the first failure, if any.
  Status Drain();

 private:
  void Loop();

  AppendFn append_;
  std::mutex mu_;  // guards queue_, busy_, stop_, error_
  std::condition_variable cv_;
  std::deque<RunStep> queue_;
  bool busy_ = false;
  bool stop_ = false;
  Status error_;
  std::thread thread_;  // last: starts after the rest is built
};

}  // namespace marketsync
