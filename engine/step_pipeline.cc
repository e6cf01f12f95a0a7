#include "engine/internal/step_pipeline.h"

#include "base/thread_name.h"

namespace marketsync {

StepPipeline::StepPipeline(AppendFn append) : append_(std::move(append)), thread_([this] { Loop(); }) {}

StepPipeline::~StepPipeline() {
  Drain().IgnoreError();  // the caller already saw any failure through Push or Drain
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

Status StepPipeline::Push(std::vector<NewEvent> run_events, Step step) {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return queue_.size() < kDepth || !error_.ok(); });
  if (!error_.ok()) return error_;
  queue_.push_back({std::move(run_events), std::move(step)});
  cv_.notify_all();
  return Status::Ok();
}

Status StepPipeline::Drain() {
  std::unique_lock lk(mu_);
  cv_.wait(lk, [&] { return (queue_.empty() && !busy_) || !error_.ok(); });
  return error_;
}

void StepPipeline::Loop() {
  SetThreadName("ms-steps");
  while (true) {
    std::vector<RunStep> batch;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      while (!queue_.empty()) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      busy_ = true;
    }
    Status s = append_(std::move(batch));
    {
      std::lock_guard lk(mu_);
      busy_ = false;
      if (!s.ok() && error_.ok()) {
        error_ = s;
        queue_.clear();
      }
    }
    cv_.notify_all();
  }
}

}  // namespace marketsync
