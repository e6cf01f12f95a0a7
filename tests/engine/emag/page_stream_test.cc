// PageStream against the simulator: pages in order with several in flight, a failed page
// reported in its place, the end moved by SetLastPage, and Stop abandoning what is in flight;
// with the count: asked ahead of every page, handed out as soon as it answers, ending the
// stream where it says, and lifting the bound on pages before it.

#include "engine/emag/page_stream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
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
  while (auto page = stream.NextPage()) {
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
  while (auto page = stream.NextPage()) ok.push_back(page->result.ok());
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
  auto first = stream.NextPage();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->page, 1u);
  stream.SetLastPage(2);
  stream.SetLastPage(5);  // only ever lowered
  std::vector<uint32_t> pages;
  while (auto page = stream.NextPage()) pages.push_back(page->page);
  EXPECT_EQ(pages, (std::vector<uint32_t>{2}));
}

TEST_F(EmagClientTest, AStreamStartsAtItsFirstPage) {
  StartSim();
  auto client = Client("fbe");
  PageStream stream(*client, {}, 2, 3, 100, 4, CallControl{});
  std::vector<uint32_t> pages;
  size_t offers = 0;
  while (auto page = stream.NextPage()) {
    pages.push_back(page->page);
    ASSERT_OK(page->result);
    offers += page->result->offers.size();
  }
  EXPECT_EQ(pages, (std::vector<uint32_t>{2, 3}));
  EXPECT_EQ(offers, kOffers - 100);  // pages 2 and 3 of 250 offers
}

// The items of a counted stream, as "count:<items>", "page:<n>" or "count failed"/"page <n> failed".
std::vector<std::string> Drain(PageStream& stream) {
  std::vector<std::string> out;
  while (auto item = stream.Next()) {
    if (auto* count = std::get_if<FetchedCount>(&*item)) {
      out.push_back(count->result.ok() ? "count:" + std::to_string(count->result->items) : "count failed");
    } else {
      const auto& page = std::get<FetchedPage>(*item);
      out.push_back(page.result.ok() ? "page:" + std::to_string(page.page)
                                     : "page " + std::to_string(page.page) + " failed");
    }
  }
  return out;
}

PageStreamOptions Counted(uint32_t window, uint32_t last_before_count = PageStream::kOpenEnded) {
  PageStreamOptions o;
  o.window = window;
  o.count = true;
  o.last_before_count = last_before_count;
  return o;
}

TEST_F(EmagClientTest, TheCountIsTheFirstRequestTheAccountSends) {
  StartSim();
  // Fires only if the account's first request is the count: then the count fails (400).
  Faults(R"({"rules":[{"account":"main","nth":1,"resource":"count","fault":"http_400"}]})");
  ClientOptions slow = FastRetries();
  slow.rate_limit = RateLimit{1, 60, std::chrono::milliseconds(0)};  // one request a second
  auto client = Client("main", slow);
  PageStream stream(*client, {}, Counted(4), CallControl{});
  auto first = stream.Next();
  ASSERT_TRUE(first.has_value());
  auto* count = std::get_if<FetchedCount>(&*first);
  ASSERT_NE(count, nullptr) << "a page was handed out before the count";
  EXPECT_EQ(count->result.status().code(), Status::Code::kInvalidArgument) << count->result.status().ToString();
  stream.Stop();
}

TEST_F(EmagClientTest, TheCountEndsTheStreamAtItsLastPage) {
  StartSim();
  auto client = Client("fbe");
  // 250 offers: 3 pages. Bounded at 3 before the count (say, what the mirror held), nothing
  // past the end is asked for, whichever answers first.
  PageStream stream(*client, {}, Counted(4, 3), CallControl{});
  std::vector<std::string> items = Drain(stream);
  std::vector<std::string> pages;
  for (const auto& i : items) {
    if (i.starts_with("page")) pages.push_back(i);
  }
  EXPECT_EQ(pages, (std::vector<std::string>{"page:1", "page:2", "page:3"}));
  EXPECT_EQ(std::count(items.begin(), items.end(), "count:250"), 1) << ::testing::PrintToString(items);
  EXPECT_EQ(sim_->Stats("fbe")->requests, 4u);
}

TEST_F(EmagClientTest, PagesPastTheBoundWaitForTheCount) {
  StartSim();
  Faults(R"({"rules":[{"account":"main","resource":"count","fault":"slow","delay_ms":300}]})");
  auto client = Client("main");
  PageStream stream(*client, {}, Counted(4, 1), CallControl{});
  // Page 1 answers at once; pages 2 and 3 are only asked for once the count lifted the bound.
  EXPECT_EQ(Drain(stream), (std::vector<std::string>{"page:1", "count:250", "page:2", "page:3"}));
  EXPECT_EQ(sim_->Stats("main")->requests, 4u);
}

TEST_F(EmagClientTest, AnEmptyCountEndsTheStreamWithNoPage) {
  StartSim();
  Faults(R"({"rules":[{"account":"main","resource":"read","fault":"slow","delay_ms":300}]})");  // the count first
  auto client = Client("main");
  OfferFilter none;
  none.id = 999999999;
  PageStream stream(*client, none, Counted(4, 1), CallControl{});
  EXPECT_EQ(Drain(stream), (std::vector<std::string>{"count:0"}));
}

TEST_F(EmagClientTest, AFailedCountIsHandedOutAndThePagesStopAtTheBound) {
  StartSim();
  Faults(R"({"rules":[{"account":"main","resource":"count","fault":"http_401"}]})");
  auto client = Client("main");
  PageStream stream(*client, {}, Counted(4, 2), CallControl{});
  std::vector<std::string> items = Drain(stream);
  EXPECT_EQ(std::count(items.begin(), items.end(), "count failed"), 1) << ::testing::PrintToString(items);
  EXPECT_EQ(items.size(), 3u) << ::testing::PrintToString(items);  // the count and pages 1, 2
}

}  // namespace
}  // namespace marketsync::emag
