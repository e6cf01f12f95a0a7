#include "http/internal/connection_pool.h"

#include <httplib.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/thread_name.h"

namespace marketsync::http {
namespace {

// Thread safety: enqueue from httplib's accept thread, shutdown once; the workers are internal.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  ConnectionPool(size_t base, size_t max) : max_(std::max(base, max)) {
    std::lock_guard lk(mu_);
    for (size_t i = 0; i < base; ++i) AddWorkerLocked();
  }
  ~ConnectionPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::unique_lock lk(mu_);
      if (stop_) {  // a connection accepted while stopping: served (and closed) here
        lk.unlock();
        fn();
        return;
      }
      queue_.push_back(std::move(fn));
      if (idle_ < queue_.size() && workers_.size() < max_) AddWorkerLocked();
    }
    cv_.notify_one();
  }

  // Lets the workers finish what is queued, then joins them (as httplib's ThreadPool does).
  void shutdown() override {
    {
      std::lock_guard lk(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }

 private:
  void AddWorkerLocked() {
    ++idle_;
    workers_.emplace_back([this] { Work(); });
  }

  void Work() {
    SetThreadName("ms-http");
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

  const size_t max_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> workers_;  // grows to max_, never shrinks; joined at shutdown
  size_t idle_ = 0;                   // workers waiting for a connection
  bool stop_ = false;
};

}  // namespace

httplib::TaskQueue* NewConnectionPool(size_t base, size_t max) { return new ConnectionPool(base, max); }

}  // namespace marketsync::http
