// StepPipeline and Scheduler: a run's steps on their way to the log, and the engine's clock.

#include "engine/internal/step_pipeline.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "engine/internal/scheduler.h"
#include "engine/internal/step_writer.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

RunStep Numbered(int n) {
  RunStep s;
  s.step.correlation_id = std::to_string(n);
  return s;
}

Status PushAndWait(StepPipeline& pipeline, RunStep step) {
  std::promise<Status> ready;
  pipeline.Push(std::move(step), [&](Status s) { ready.set_value(s); });
  return ready.get_future().get();
}

Status DrainAndWait(StepPipeline& pipeline) {
  std::promise<Status> done;
  pipeline.Drain([&](Status s) { done.set_value(s); });
  return done.get_future().get();
}

// Through a real StepWriter thread whose "log" records the correlation ids, slowly, so that
// steps queue up behind a write.
TEST(StepPipelineTest, WritesEveryStepInOrderWithAtMostDepthWaiting) {
  std::mutex mu;
  std::vector<std::string> written;
  std::vector<size_t> batch_sizes;
  StepWriter writer([&](std::vector<Step> steps) {
    std::this_thread::sleep_for(2ms);
    std::lock_guard lk(mu);
    batch_sizes.push_back(steps.size());
    std::vector<Result<AppendResult>> out;
    for (auto& s : steps) {
      written.push_back(s.correlation_id);
      out.push_back(AppendResult{});
    }
    return out;
  });
  std::atomic<size_t> waiting{0};
  std::atomic<size_t> most_waiting{0};
  StepPipeline pipeline([&](std::vector<RunStep> steps, StepPipeline::Callback done) {
    most_waiting = std::max(most_waiting.load(), ++waiting);
    std::vector<Step> plain;
    for (auto& s : steps) plain.push_back(std::move(s.step));
    writer.Submit(std::move(plain), [&, done](std::vector<Result<AppendResult>> r) {
      --waiting;
      done(r.front().status());
    });
  });
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(PushAndWait(pipeline, Numbered(i)).ok());
  ASSERT_TRUE(DrainAndWait(pipeline).ok());
  std::lock_guard lk(mu);
  ASSERT_EQ(written.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(written[i], std::to_string(i));
  EXPECT_LE(most_waiting.load(), StepPipeline::kDepth);
  EXPECT_GT(*std::max_element(batch_sizes.begin(), batch_sizes.end()), 1u);  // they shared writes
}

TEST(StepPipelineTest, AFailedWriteStopsThePipelineAndIsReported) {
  std::atomic<int> calls{0};
  StepPipeline pipeline([&](std::vector<RunStep>, StepPipeline::Callback done) {
    ++calls;
    done(Status::IOError("disk gone"));
  });
  EXPECT_EQ(PushAndWait(pipeline, Numbered(1)).code(), Status::Code::kIOError);
  EXPECT_EQ(DrainAndWait(pipeline).code(), Status::Code::kIOError);
  EXPECT_EQ(PushAndWait(pipeline, Numbered(2)).code(), Status::Code::kIOError);
  EXPECT_EQ(calls.load(), 1);
}

TEST(StepWriterTest, StepsOfManySubmittersShareWritesAndEachGetsItsOwnResults) {
  std::atomic<int> appends{0};
  StepWriter writer([&](std::vector<Step> steps) {
    ++appends;
    std::this_thread::sleep_for(5ms);
    std::vector<Result<AppendResult>> out;
    for (auto& s : steps) {
      if (s.correlation_id == "bad") {
        out.push_back(Status::FailedPrecondition("expected version"));
      } else {
        out.push_back(AppendResult{std::stoull(s.correlation_id), 0});
      }
    }
    return out;
  });
  std::vector<std::promise<std::vector<Result<AppendResult>>>> results(40);
  for (int i = 0; i < 40; ++i) {
    std::vector<Step> steps(2);
    steps[0].correlation_id = std::to_string(i);
    steps[1].correlation_id = i == 7 ? "bad" : std::to_string(i + 1000);
    writer.Submit(std::move(steps), [&, i](std::vector<Result<AppendResult>> r) { results[i].set_value(std::move(r)); });
  }
  for (int i = 0; i < 40; ++i) {
    auto r = results[i].get_future().get();
    ASSERT_EQ(r.size(), 2u);
    ASSERT_TRUE(r[0].ok());
    EXPECT_EQ(r[0]->first_seq, static_cast<uint64_t>(i));
    EXPECT_EQ(r[1].ok(), i != 7);  // one failing step fails alone
  }
  EXPECT_LT(appends.load(), 40);
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
