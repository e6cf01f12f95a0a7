// StepPipeline and Scheduler: the engine's two threads of its own.

#include "engine/internal/step_pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "engine/internal/scheduler.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

RunStep Numbered(int n) {
  RunStep s;
  s.step.correlation_id = std::to_string(n);
  return s;
}

TEST(StepPipelineTest, WritesEveryStepInOrder) {
  std::mutex mu;
  std::vector<std::string> written;
  {
    StepPipeline pipeline([&](std::vector<RunStep> steps) {
      std::lock_guard lk(mu);
      for (auto& s : steps) written.push_back(s.step.correlation_id);
      return Status::Ok();
    });
    for (int i = 0; i < 100; ++i) {
      RunStep s = Numbered(i);
      ASSERT_TRUE(pipeline.Push(std::move(s.run_events), std::move(s.step)).ok());
    }
    ASSERT_TRUE(pipeline.Drain().ok());
    std::lock_guard lk(mu);
    ASSERT_EQ(written.size(), 100u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(written[i], std::to_string(i));
  }
}

TEST(StepPipelineTest, AFailedAppendStopsThePipelineAndIsReported) {
  std::atomic<int> calls{0};
  StepPipeline pipeline([&](std::vector<RunStep>) {
    ++calls;
    return Status::IOError("disk gone");
  });
  RunStep first = Numbered(1);
  ASSERT_TRUE(pipeline.Push(std::move(first.run_events), std::move(first.step)).ok());
  Status drained = pipeline.Drain();
  EXPECT_EQ(drained.code(), Status::Code::kIOError);
  RunStep later = Numbered(2);
  EXPECT_EQ(pipeline.Push(std::move(later.run_events), std::move(later.step)).code(), Status::Code::kIOError);
  EXPECT_EQ(calls.load(), 1);
}

TEST(SchedulerTest, TicksUntilStopped) {
  std::atomic<int> ticks{0};
  Scheduler scheduler(10ms, [&] { ++ticks; });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (ticks < 3 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_GE(ticks.load(), 3);
  scheduler.Stop();
  const int stopped_at = ticks.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(ticks.load(), stopped_at);
}

}  // namespace
}  // namespace marketsync
