#pragma once

// Per-account request pacing for the eMAG API, and the clock it runs on.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace marketsync::emag {

using SteadyTime = std::chrono::steady_clock::time_point;

// Time for the client and limiter; injectable so tests run without waiting.
// Thread safety: implementations are safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() = 0;
  // Sleeps until `until`, waking early when *cancel (may be null) turns true.
  // Returns false when it woke because of cancel.
  virtual bool SleepUntil(SteadyTime until, const std::atomic<bool>* cancel) = 0;
};

// The process's real steady clock.
Clock& SystemClock();

struct RateLimit {
  uint32_t per_second = 3;   // eMAG: 3 requests/s for every non-order route, per account
  uint32_t per_minute = 180;
  // Added to each window so requests sent at the edge do not arrive inside it: eMAG counts
  // arrivals, and the time between our write and its count varies (the network, a busy server:
  // 100 ms was not enough with 200 accounts starting at once on two busy cores, where the
  // simulator read the first burst late).
  std::chrono::milliseconds margin{200};
};

// Hands out request slots so that no 1-second window holds more than per_second requests and
// no 60-second window more than per_minute, in two steps: Reserve plans a slot (and orders the
// callers: the count before the pages, lower pages first), Start admits the request when it
// actually goes out. A slot is a plan; a caller that wakes late (a busy machine, a slow
// connect) would otherwise send several late slots at once, and eMAG counts arrivals: Start
// holds the windows on the times requests were really sent. Thread safety: all methods are
// thread-safe.
class RateLimiter {
 public:
  RateLimiter(RateLimit limit, Clock* clock) : limit_(limit), clock_(clock) {}

  // Reserves the earliest slot that keeps both windows within their limits, at or after now.
  // Slots are handed out in non-decreasing order. The caller sleeps until it, then calls Start.
  SteadyTime Reserve();
  // Right before a request is sent: nullopt when it may go now (and it is counted as sent now),
  // else the earliest time it may (the caller sleeps until then and asks again).
  std::optional<SteadyTime> Start();
  // Hands out no slot before `until` (after a 429 with Retry-After or an exhausted window).
  void BlockUntil(SteadyTime until);

  const RateLimit& limit() const { return limit_; }
  Clock& clock() const { return *clock_; }

 private:
  const RateLimit limit_;
  Clock* const clock_;
  std::mutex mu_;                 // guards slots_, sent_ and blocked_until_
  std::deque<SteadyTime> slots_;  // the last per_minute slots handed out
  std::deque<SteadyTime> sent_;   // the times of the last per_minute requests sent
  SteadyTime blocked_until_{};
};

// Exponential backoff with full jitter: attempt n (1 = first retry) waits a uniformly random
// time in [0, min(cap, base * 2^(n-1))].
struct RetryPolicy {
  uint32_t max_attempts = 6;  // tries in all, the first included
  std::chrono::milliseconds base{1000};
  std::chrono::milliseconds cap{30000};

  // `unit_random` is in [0, 1).
  std::chrono::milliseconds Backoff(uint32_t retry, double unit_random) const;
};

}  // namespace marketsync::emag
