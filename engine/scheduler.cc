#include "engine/internal/scheduler.h"

#include <algorithm>
#include <random>

#include "base/thread_name.h"

namespace marketsync {

Scheduler::Scheduler(std::chrono::milliseconds interval, std::function<void()> tick)
    : interval_(interval), tick_(std::move(tick)), thread_([this] { Loop(); }) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void Scheduler::Loop() {
  SetThreadName("ms-schedule");
  std::mt19937_64 rng(std::random_device{}());
  const auto jitter_range = static_cast<uint64_t>(std::max<int64_t>(1, interval_.count() / 10));
  auto next = std::chrono::steady_clock::now() + interval_ +
              std::chrono::milliseconds(static_cast<int64_t>(rng() % jitter_range));
  while (true) {
    {
      std::unique_lock lk(mu_);
      if (cv_.wait_until(lk, next, [&] { return stopping_; })) return;
    }
    tick_();
    next += interval_;
  }
}

}  // namespace marketsync
