#include "engine/internal/step_pipeline.h"

#include <mutex>

namespace marketsync {

struct StepPipeline::Shared {
  // Called with mu held: the waiters that may go now, taken out.
  std::vector<Callback> Waking() {
    std::vector<Callback> out;
    if (push_waiter && (outstanding < kDepth || !error.ok())) {
      out.push_back(std::move(push_waiter));
      push_waiter = nullptr;
    }
    if (drain_waiter && outstanding == 0) {
      out.push_back(std::move(drain_waiter));
      drain_waiter = nullptr;
    }
    return out;
  }

  WriteFn write;
  std::mutex mu;  // guards the rest
  size_t outstanding = 0;
  Status error;
  Callback push_waiter;
  Callback drain_waiter;
};

StepPipeline::StepPipeline(WriteFn write) : shared_(std::make_shared<Shared>()) { shared_->write = std::move(write); }

void StepPipeline::Push(RunStep step, Callback ready) {
  {
    std::unique_lock lk(shared_->mu);
    if (!shared_->error.ok()) {
      Status e = shared_->error;
      lk.unlock();
      return ready(e);
    }
    ++shared_->outstanding;
  }
  std::vector<RunStep> one;
  one.push_back(std::move(step));
  shared_->write(std::move(one), [shared = shared_](Status s) {
    std::vector<Callback> wake;
    Status error;
    {
      std::lock_guard lk(shared->mu);
      --shared->outstanding;
      if (!s.ok() && shared->error.ok()) shared->error = s;
      wake = shared->Waking();
      error = shared->error;
    }
    for (auto& w : wake) w(error);
  });
  std::unique_lock lk(shared_->mu);
  if (shared_->outstanding < kDepth || !shared_->error.ok()) {
    Status e = shared_->error;
    lk.unlock();
    return ready(e);
  }
  shared_->push_waiter = std::move(ready);
}

void StepPipeline::Drain(Callback done) {
  std::unique_lock lk(shared_->mu);
  if (shared_->outstanding == 0) {
    Status e = shared_->error;
    lk.unlock();
    return done(e);
  }
  shared_->drain_waiter = std::move(done);
}

}  // namespace marketsync
