// PageStream against the simulator: pages in order with several in flight, a failed page
// reported in its place, the end moved by SetLastPage, and Stop abandoning what is in flight.

#include "engine/emag/page_stream.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "tests/engine/emag/emag_client_fixture.h"

namespace marketsync::emag {
namespace {

using namespace std::chrono_literals;

TEST_F(EmagClientTest, PageStreamHandsPagesInOrderWithSeveralInFlight) {
  sim::SimulatorOptions o = Defaults();
  o.offers = 1000;
  o.latency_ms = 200;
  o.jitter_ms = 150;  // pages finish out of order
  StartSim(o);
  auto client = Client("fbe");
  PageStream stream(*client, {}, 1, 10, 100, 10, CallControl{});
  uint32_t expected = 1;
  std::set<uint64_t> ids;
  while (auto page = stream.Next()) {
    EXPECT_EQ(page->page, expected++);
    ASSERT_OK(page->result);
    for (const auto& offer : page->result->offers) ids.insert(offer.id);
  }
  EXPECT_EQ(expected, 11u);
  EXPECT_EQ(ids.size(), 1000u);
  // The simulator saw several of them being answered at once.
  EXPECT_GE(sim_->Stats("fbe")->max_in_flight, 3u);
}

TEST_F(EmagClientTest, PageStreamReportsAFailedPageAndGoesOn) {
  StartSim();
  Faults(R"({"rules":[{"account":"main","page":2,"fault":"http_500"}]})");
  auto client = Client("main");
  PageStream stream(*client, {}, 1, 3, 100, 3, CallControl{});
  std::vector<bool> ok;
  while (auto page = stream.Next()) ok.push_back(page->result.ok());
  EXPECT_EQ(ok, (std::vector<bool>{true, false, true}));
}

TEST_F(EmagClientTest, StoppingAPageStreamAbandonsRequestsInFlight) {
  sim::SimulatorOptions o = Defaults();
  o.latency_ms = 5000;
  StartSim(o);
  auto client = Client("main");
  const auto start = std::chrono::steady_clock::now();
  {
    PageStream stream(*client, {}, 1, 3, 100, 3, CallControl{});
    std::this_thread::sleep_for(100ms);
  }  // destruction stops and joins
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST_F(EmagClientTest, AnOpenEndedStreamEndsWhereSetLastPageSays) {
  StartSim();
  auto client = Client("main");
  PageStream stream(*client, {}, 1, PageStream::kOpenEnded, 100, 2, CallControl{});
  auto first = stream.Next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->page, 1u);
  stream.SetLastPage(2);
  stream.SetLastPage(5);  // only ever lowered
  std::vector<uint32_t> pages;
  while (auto page = stream.Next()) pages.push_back(page->page);
  EXPECT_EQ(pages, (std::vector<uint32_t>{2}));
}

TEST_F(EmagClientTest, AStreamStartsAtItsFirstPage) {
  StartSim();
  auto client = Client("fbe");
  PageStream stream(*client, {}, 2, 3, 100, 4, CallControl{});
  std::vector<uint32_t> pages;
  size_t offers = 0;
  while (auto page = stream.Next()) {
    pages.push_back(page->page);
    ASSERT_OK(page->result);
    offers += page->result->offers.size();
  }
  EXPECT_EQ(pages, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(offers, kOffers - 100);  // pages 2 and 3 of 250 offers
}

}  // namespace
}  // namespace marketsync::emag
