#pragma once

// A pool of threads that grows with its work: it starts with `base` workers and adds one
// whenever a task arrives and none is free, up to `max`; only past `max` tasks at once do new
// ones wait. Made for servers that give each connection a worker for its whole life (cpp-httplib
// does): a fixed pool of N is stopped by N idle or slow connections. Workers never shrink.
//
// Thread safety: Enqueue from any thread; Shutdown once (the destructor calls it).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace marketsync {

class GrowingWorkerPool {
 public:
  GrowingWorkerPool(size_t base, size_t max, std::string thread_name);
  ~GrowingWorkerPool();
  GrowingWorkerPool(const GrowingWorkerPool&) = delete;
  GrowingWorkerPool& operator=(const GrowingWorkerPool&) = delete;

  // Runs `fn` on a worker. After Shutdown it runs on the calling thread.
  void Enqueue(std::function<void()> fn);
  // Lets the workers finish what is queued, then joins them.
  void Shutdown();

 private:
  void AddWorkerLocked();
  void Work();

  const size_t max_;
  const std::string thread_name_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> workers_;  // grows to max_; joined at shutdown
  size_t idle_ = 0;                   // workers waiting for a task
  bool stop_ = false;
};

}  // namespace marketsync
