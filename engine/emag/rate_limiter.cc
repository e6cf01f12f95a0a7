#include "engine/emag/rate_limiter.h"

#include <algorithm>
#include <condition_variable>
#include <thread>

namespace marketsync::emag {
namespace {

class SteadyClock final : public Clock {
 public:
  SteadyTime Now() override { return std::chrono::steady_clock::now(); }
  bool SleepUntil(SteadyTime until, const std::atomic<bool>* cancel) override {
    // Short naps so a cancel is seen within 10 ms without a shared condition variable.
    while (true) {
      if (cancel != nullptr && cancel->load()) return false;
      const auto now = std::chrono::steady_clock::now();
      if (now >= until) return true;
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(until - now, std::chrono::milliseconds(10)));
    }
  }
};

}  // namespace

Clock& SystemClock() {
  static SteadyClock clock;
  return clock;
}

SteadyTime RateLimiter::Reserve() {
  std::lock_guard lk(mu_);
  SteadyTime t = std::max(clock_->Now(), blocked_until_);
  if (!slots_.empty()) t = std::max(t, slots_.back());
  const auto second = std::chrono::seconds(1) + limit_.margin;
  const auto minute = std::chrono::seconds(60) + limit_.margin;
  if (limit_.per_second > 0 && slots_.size() >= limit_.per_second) {
    t = std::max(t, slots_[slots_.size() - limit_.per_second] + second);
  }
  if (limit_.per_minute > 0 && slots_.size() >= limit_.per_minute) {
    t = std::max(t, slots_[slots_.size() - limit_.per_minute] + minute);
  }
  slots_.push_back(t);
  const size_t keep = std::max<size_t>({limit_.per_second, limit_.per_minute, 1});
  while (slots_.size() > keep) slots_.pop_front();
  return t;
}

std::optional<SteadyTime> RateLimiter::Start() {
  std::lock_guard lk(mu_);
  const SteadyTime now = clock_->Now();
  SteadyTime earliest = blocked_until_;
  if (limit_.per_second > 0 && sent_.size() >= limit_.per_second) {
    earliest = std::max(earliest, sent_[sent_.size() - limit_.per_second] + std::chrono::seconds(1) + limit_.margin);
  }
  if (limit_.per_minute > 0 && sent_.size() >= limit_.per_minute) {
    earliest = std::max(earliest, sent_[sent_.size() - limit_.per_minute] + std::chrono::seconds(60) + limit_.margin);
  }
  if (earliest > now) return earliest;
  sent_.push_back(now);
  const size_t keep = std::max<size_t>({limit_.per_second, limit_.per_minute, 1});
  while (sent_.size() > keep) sent_.pop_front();
  return std::nullopt;
}

void RateLimiter::BlockUntil(SteadyTime until) {
  std::lock_guard lk(mu_);
  blocked_until_ = std::max(blocked_until_, until);
}

std::chrono::milliseconds RetryPolicy::Backoff(uint32_t retry, double unit_random) const {
  const uint32_t shift = std::min<uint32_t>(retry > 0 ? retry - 1 : 0, 30);
  const auto ceiling = std::min<int64_t>(cap.count(), base.count() * (int64_t{1} << shift));
  const double u = std::clamp(unit_random, 0.0, 1.0);
  return std::chrono::milliseconds(static_cast<int64_t>(u * static_cast<double>(ceiling)));
}

}  // namespace marketsync::emag
