#include "engine/emag/rate_limiter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace marketsync::emag {
namespace {

using namespace std::chrono_literals;

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  SteadyTime Now() override {
    std::lock_guard lk(mu_);
    return now_;
  }
  bool SleepUntil(SteadyTime until, const std::atomic<bool>* cancel) override {
    if (cancel != nullptr && cancel->load()) return false;
    std::lock_guard lk(mu_);
    now_ = std::max(now_, until);
    return true;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lk(mu_);
    now_ += d;
  }

 private:
  std::mutex mu_;
  SteadyTime now_{};
};

// Every window of `span` holds at most `limit` of the sorted slots.
void ExpectWithin(const std::vector<SteadyTime>& slots, size_t limit, std::chrono::milliseconds span) {
  for (size_t i = 0; i + limit < slots.size(); ++i) {
    ASSERT_GE(slots[i + limit] - slots[i], span) << "slots " << i << ".." << i + limit;
  }
}

TEST(RateLimiterTest, ConcurrentCallersNeverExceedEitherWindow) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{3, 180, 0ms}, &clock);
  std::mutex mu;
  std::vector<SteadyTime> slots;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        SteadyTime s = limiter.Reserve();
        std::lock_guard lk(mu);
        slots.push_back(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::sort(slots.begin(), slots.end());
  ASSERT_EQ(slots.size(), 800u);
  ExpectWithin(slots, 3, 1000ms);
  ExpectWithin(slots, 180, 60000ms);
  // And it is not needlessly slow: the first 180 fit in 60 s.
  EXPECT_LT(slots[179] - slots[0], 60s);
}

TEST(RateLimiterTest, FirstSlotsAreImmediate) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{3, 180, 0ms}, &clock);
  const auto now = clock.Now();
  EXPECT_EQ(limiter.Reserve(), now);
  EXPECT_EQ(limiter.Reserve(), now);
  EXPECT_EQ(limiter.Reserve(), now);
  EXPECT_EQ(limiter.Reserve(), now + 1s);
  clock.Advance(5s);
  EXPECT_EQ(limiter.Reserve(), now + 5s);
}

TEST(RateLimiterTest, MarginWidensTheWindow) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{1, 180, 25ms}, &clock);
  const auto now = clock.Now();
  EXPECT_EQ(limiter.Reserve(), now);
  EXPECT_EQ(limiter.Reserve(), now + 1025ms);
}

TEST(RateLimiterTest, BlockUntilDelaysEverySlot) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{3, 180, 0ms}, &clock);
  const auto now = clock.Now();
  limiter.BlockUntil(now + 7s);
  EXPECT_EQ(limiter.Reserve(), now + 7s);
  limiter.BlockUntil(now + 2s);  // never moves back
  EXPECT_EQ(limiter.Reserve(), now + 7s);
}

TEST(RetryPolicyTest, FullJitterWithinTheCappedExponential) {
  RetryPolicy p;  // 1 s base, 30 s cap
  EXPECT_EQ(p.Backoff(1, 0.0), 0ms);
  EXPECT_EQ(p.Backoff(1, 0.5), 500ms);
  EXPECT_EQ(p.Backoff(2, 0.5), 1000ms);
  EXPECT_EQ(p.Backoff(3, 0.999), 3996ms);
  EXPECT_EQ(p.Backoff(10, 0.5), 15000ms);  // capped at 30 s
  EXPECT_EQ(p.Backoff(60, 1.0), 30000ms);
}

// Slots are plans: callers that wake late (a busy machine) must not send their late slots at
// once. Start admits what the windows of real send times allow and says when the rest may go.
TEST(RateLimiterTest, LateCallersAreAdmittedByWhenTheyReallySend) {
  FakeClock clock;
  RateLimiter limiter(RateLimit{3, 180, 25ms}, &clock);
  std::vector<SteadyTime> slots;
  for (int i = 0; i < 5; ++i) slots.push_back(limiter.Reserve());
  EXPECT_EQ(slots[3] - slots[0], 1025ms);  // planned: three, then a second later two more
  clock.Advance(2000ms);                   // everyone wakes two seconds late, at once
  const SteadyTime woke = clock.Now();
  EXPECT_FALSE(limiter.Start().has_value());
  EXPECT_FALSE(limiter.Start().has_value());
  EXPECT_FALSE(limiter.Start().has_value());
  const std::optional<SteadyTime> fourth = limiter.Start();
  ASSERT_TRUE(fourth.has_value());
  EXPECT_EQ(*fourth, woke + 1025ms);  // not with the three sent now, though its slot has passed
  clock.Advance(1025ms);  // the three sent at `woke` have left the window
  EXPECT_FALSE(limiter.Start().has_value());
  EXPECT_FALSE(limiter.Start().has_value());
  EXPECT_FALSE(limiter.Start().has_value());
  EXPECT_TRUE(limiter.Start().has_value());
}

}  // namespace
}  // namespace marketsync::emag
