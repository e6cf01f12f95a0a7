// Progress that is durable as it happens (issue 16): under the seed's conditions (1,275 offers,
// eMAG's 3 requests a second, 3.5 s per answer) SyncStarted is written at once, each page is
// committed as soon as it and the pages before it arrived, the count goes ahead of every page
// and ends the run where it says, and no page past the end is asked for.

#include <gtest/gtest.h>

#include "engine/sync_engine.h"
#include "schema/payload_codec.h"
#include "tests/testutil/engine_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

using namespace std::chrono_literals;

constexpr double kLatency = 3.5;   // seconds per answer, as the seed measured
constexpr double kPerSecond = 3;   // eMAG's limit
constexpr double kSlack = 1.0;     // what the issue allows on top

double Seconds(int64_t from_us, int64_t to_us) { return static_cast<double>(to_us - from_us) / 1e6; }

TEST(DurableProgressTest, UnderTheSeedsConditionsEachPageCommitsAsItArrives) {
  testing::TempDir dir;
  sim::SimulatorOptions so = testing::QuietSimulator(1275);
  so.latency_ms = static_cast<uint32_t>(kLatency * 1000);
  so.rate_limit = true;  // the simulator answers 429 past 3 a second
  auto sim = sim::Simulator::Start(so, "127.0.0.1", 0);
  ASSERT_OK(sim);
  auto log = testing::OpenEngineLog(dir.Sub("db"));
  ASSERT_OK(log);
  EngineOptions eo = testing::EngineFor(**sim, {"main"});
  eo.client = emag::ClientOptions{};  // eMAG's limits and timeouts, as marketsyncd runs
  eo.page_window = 16;
  auto engine = SyncEngine::Create(**log, eo);
  ASSERT_OK(engine);
  ASSERT_OK((*engine)->Start());
  const std::vector<std::string> ids = testing::SyncToEnd(**engine, testing::FullSync("main"));
  ASSERT_EQ(ids.size(), 1u);
  auto record = (*engine)->GetRun(ids[0]);
  ASSERT_OK(record);
  EXPECT_EQ(record->status, kRunCompleted);

  auto events = (*log)->ReadStream(RunStreamId(ids[0]));
  ASSERT_OK(events);
  const int64_t requested = events->front().recorded_at_us;
  int64_t started = 0;
  std::vector<std::pair<uint32_t, int64_t>> pages;  // page, committed at
  std::optional<SyncCounted> counted;
  for (const Envelope& e : *events) {
    switch (static_cast<EventType>(e.type)) {
      case EventType::kSyncStarted: {
        auto p = DecodePayload<SyncStarted>(e.payload_version, e.payload);
        ASSERT_OK(p);
        EXPECT_TRUE(p->awaiting_count);
        started = e.recorded_at_us;
        EXPECT_TRUE(pages.empty() && !counted) << "SyncStarted comes first";
        break;
      }
      case EventType::kSyncCounted: {
        auto p = DecodePayload<SyncCounted>(e.payload_version, e.payload);
        ASSERT_OK(p);
        counted = *p;
        break;
      }
      case EventType::kPageCommitted: {
        auto p = DecodePayload<PageCommitted>(e.payload_version, e.payload);
        ASSERT_OK(p);
        pages.emplace_back(p->page, e.recorded_at_us);
        break;
      }
      default: break;
    }
  }
  ASSERT_NE(started, 0);
  EXPECT_LE(Seconds(requested, started), kSlack) << "SyncStarted waited";
  ASSERT_EQ(pages.size(), 13u);
  EXPECT_LE(Seconds(started, pages[0].second), kLatency + kSlack) << "the first page waited";
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_EQ(pages[i].first, i + 1) << "pages commit in order";
    // Page k's request is the (k+1)th of the account (after the count): its slot is at k/3 s,
    // its answer 3.5 s later, and it commits then, not in a burst at the end.
    const double due = static_cast<double>(i + 1) / kPerSecond + kLatency + kSlack;
    EXPECT_LE(Seconds(requested, pages[i].second), due) << "page " << pages[i].first << " waited";
  }
  ASSERT_TRUE(counted.has_value());
  EXPECT_EQ(counted->total_items, 1275u);
  EXPECT_EQ(counted->total_pages, 13u);
  EXPECT_EQ(counted->requests, 1u);
  // The count and 13 pages: nothing past the end, nothing refused.
  EXPECT_EQ((*sim)->Stats("main")->requests, 14u);
  EXPECT_EQ((*sim)->Stats("main")->rate_limited, 0u);
  EXPECT_EQ(record->api_requests_made, 14u);
}

}  // namespace
}  // namespace marketsync
