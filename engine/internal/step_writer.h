#pragma once

// StepWriter: the engine's one writer thread. A run on the IoPool never blocks on a synced
// write: it hands its steps here, and the steps that queue up meanwhile, from every run, go to
// the log in one AppendAll (each still its own atomic step): group commit across runs.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "events/event_log.h"

namespace marketsync {

// Thread safety: Submit from any thread.
class StepWriter {
 public:
  using AppendFn = std::function<std::vector<Result<AppendResult>>(std::vector<Step>)>;
  using Done = std::function<void(std::vector<Result<AppendResult>>)>;

  // `append` is the log's AppendAll (or a stand-in in tests).
  explicit StepWriter(AppendFn append);
  // Writes what is queued, then joins the thread.
  ~StepWriter();
  StepWriter(const StepWriter&) = delete;
  StepWriter& operator=(const StepWriter&) = delete;

  // Queues `steps` (written in the order submitted); `done` gets one result per step, on the
  // writer thread, once they are durable (or failed).
  void Submit(std::vector<Step> steps, Done done);

 private:
  struct Job {
    std::vector<Step> steps;
    Done done;
  };
  void Loop();

  AppendFn append_;
  std::mutex mu_;  // guards queue_, stop_
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the rest is built
};

}  // namespace marketsync
