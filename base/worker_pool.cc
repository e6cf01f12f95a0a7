#include "base/worker_pool.h"

#include <algorithm>

#include "base/thread_name.h"

namespace marketsync {

GrowingWorkerPool::GrowingWorkerPool(size_t base, size_t max, std::string thread_name)
    : max_(std::max(base, max)), thread_name_(std::move(thread_name)) {
  std::lock_guard lk(mu_);
  for (size_t i = 0; i < base; ++i) AddWorkerLocked();
}

GrowingWorkerPool::~GrowingWorkerPool() { Shutdown(); }

void GrowingWorkerPool::Enqueue(std::function<void()> fn) {
  {
    std::unique_lock lk(mu_);
    if (stop_) {  // a task that arrives while stopping is run (and finished) here
      lk.unlock();
      fn();
      return;
    }
    queue_.push_back(std::move(fn));
    if (idle_ < queue_.size() && workers_.size() < max_) AddWorkerLocked();
  }
  cv_.notify_one();
}

void GrowingWorkerPool::Shutdown() {
  {
    std::lock_guard lk(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void GrowingWorkerPool::AddWorkerLocked() {
  ++idle_;
  workers_.emplace_back([this] { Work(); });
}

void GrowingWorkerPool::Work() {
  SetThreadName(thread_name_);
  std::unique_lock lk(mu_);
  while (true) {
    cv_.wait(lk, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::function<void()> fn = std::move(queue_.front());
    queue_.pop_front();
    --idle_;
    lk.unlock();
    fn();
    lk.lock();
    ++idle_;
  }
}

}  // namespace marketsync
