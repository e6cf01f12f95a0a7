#include "engine/internal/step_writer.h"

#include "base/thread_name.h"

namespace marketsync {

StepWriter::StepWriter(AppendFn append) : append_(std::move(append)), thread_([this] { Loop(); }) {}

StepWriter::~StepWriter() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StepWriter::Submit(std::vector<Step> steps, Done done) {
  {
    std::lock_guard lk(mu_);
    queue_.push_back({std::move(steps), std::move(done)});
  }
  cv_.notify_one();
}

void StepWriter::Loop() {
  SetThreadName("ms-steps");
  while (true) {
    std::vector<Job> jobs;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      while (!queue_.empty()) {
        jobs.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<Step> all;
    std::vector<size_t> sizes;
    for (auto& job : jobs) {
      sizes.push_back(job.steps.size());
      for (auto& s : job.steps) all.push_back(std::move(s));
    }
    std::vector<Result<AppendResult>> results = append_(std::move(all));
    size_t next = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
      std::vector<Result<AppendResult>> mine;
      for (size_t i = 0; i < sizes[j]; ++i, ++next) {
        mine.push_back(next < results.size() ? std::move(results[next])
                                             : Result<AppendResult>(Status::Internal("the log gave no result")));
      }
      jobs[j].done(std::move(mine));
    }
  }
}

}  // namespace marketsync
