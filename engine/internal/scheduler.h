#pragma once

// Scheduler: calls a tick every interval on a thread of its own, the first after the interval
// plus a jittered offset (up to a tenth of it), so scheduled syncs do not start on round clock
// times, as eMAG asks.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace marketsync {

// Thread safety: Stop may be called from any thread; the destructor stops and joins.
class Scheduler {
 public:
  // Starts at once; `interval` must be positive.
  Scheduler(std::chrono::milliseconds interval, std::function<void()> tick);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // No tick starts after this returns; a tick in progress finishes first.
  void Stop();

 private:
  void Loop();

  const std::chrono::milliseconds interval_;
  const std::function<void()> tick_;
  std::mutex mu_;  // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts after the rest is built
};

}  // namespace marketsync
