// The eMAG client against the real simulator over loopback HTTP.

#include "engine/emag/client.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <set>
#include <thread>

#include "engine/emag/response_parser.h"
#include "tests/engine/emag/emag_client_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::emag {
namespace {

using namespace std::chrono_literals;


TEST_F(EmagClientTest, CountsAndReadsEveryPage) {
  StartSim();
  auto client = Client("main");
  CallStats stats;
  auto count = client->Count({}, &stats);
  ASSERT_OK(count);
  EXPECT_EQ(count->items, kOffers);
  EXPECT_EQ(count->pages, 3u);
  EXPECT_EQ(stats.requests, 1u);
  std::set<uint64_t> ids;
  for (uint32_t page = 1; page <= 4; ++page) {
    auto p = client->ReadPage({}, page, 100, &stats);
    ASSERT_OK(p);
    EXPECT_EQ(p->offers.size(), page <= 2 ? 100u : page == 3 ? 50u : 0u);
    for (const auto& o : p->offers) ids.insert(o.id);
  }
  EXPECT_EQ(ids.size(), kOffers);
}

TEST_F(EmagClientTest, FiltersReachTheSimulator) {
  StartSim();
  auto client = Client("main");
  auto active = client->Count(OfferFilter{1, {}, {}, {}}, nullptr);
  auto inactive = client->Count(OfferFilter{0, {}, {}, {}}, nullptr);
  ASSERT_OK(active);
  ASSERT_OK(inactive);
  EXPECT_GT(active->items, 0u);
  EXPECT_GT(inactive->items, 0u);
  EXPECT_LT(active->items + inactive->items, kOffers + 1);
  auto page = client->ReadPage({}, 1, 5, nullptr);
  ASSERT_OK(page);
  const Offer& first = page->offers[0];
  auto by_id = client->ReadPage(OfferFilter{{}, first.id, {}, {}}, 1, 100, nullptr);
  ASSERT_OK(by_id);
  ASSERT_EQ(by_id->offers.size(), 1u);
  EXPECT_EQ(by_id->offers[0], first);
  auto by_pnk = client->ReadPage(OfferFilter{{}, {}, {}, first.part_number_key}, 1, 100, nullptr);
  ASSERT_OK(by_pnk);
  ASSERT_GE(by_pnk->offers.size(), 1u);
  EXPECT_EQ(by_pnk->offers[0].part_number_key, first.part_number_key);
}

TEST_F(EmagClientTest, SimulatorAcceptsAllThreeBodyForms) {
  StartSim();
  httplib::Client raw("127.0.0.1", sim_->port());
  raw.set_basic_auth("demo-fbe", "demo-fbe-secret");
  const std::string path = "/api-3/product_offer/read";
  auto top = raw.Post(path, R"({"currentPage": 2, "itemsPerPage": 10})", "application/json");
  auto wrapped = raw.Post(path, R"({"data": {"currentPage": 2, "itemsPerPage": 10}})", "application/json");
  auto form = raw.Post(path, "data%5BcurrentPage%5D=2&data[itemsPerPage]=10", "application/x-www-form-urlencoded");
  ASSERT_TRUE(top && wrapped && form);
  auto a = ParseReadResponse(top->body), b = ParseReadResponse(wrapped->body), c = ParseReadResponse(form->body);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_OK(c);
  ASSERT_EQ(a->offers.size(), 10u);
  EXPECT_EQ(a->offers, b->offers);
  EXPECT_EQ(a->offers, c->offers);
  // Over 100 is capped.
  auto big = raw.Post(path, R"({"currentPage": 1, "itemsPerPage": 500})", "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(ParseReadResponse(big->body)->offers.size(), 100u);
}

class RetryableFaultTest : public EmagClientTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(RetryableFaultTest, IsRetriedAndSucceeds) {
  StartSim();
  Faults(std::string(R"({"rules":[{"account":"main","resource":"read","page":2,"fault":")") + GetParam() +
         R"(","times":2,"delay_ms":3000}]})");
  ClientOptions options = FastRetries();
  options.read_timeout = 500ms;  // shorter than the slow fault
  auto client = Client("main", options);
  CallStats stats;
  auto page = client->ReadPage({}, 2, 100, &stats);
  ASSERT_OK(page);
  EXPECT_EQ(page->offers.size(), 100u);
  EXPECT_EQ(stats.requests, 3u);
  EXPECT_EQ(stats.retries, 2u);
}

INSTANTIATE_TEST_SUITE_P(EveryRetryableClass, RetryableFaultTest,
                         ::testing::Values("http_500", "http_502", "http_504", "http_408", "http_429",
                                           "reset", "truncated", "malformed", "slow"),
                         [](const auto& p) { return std::string(p.param); });

TEST_F(EmagClientTest, PersistentFailureGivesUpAfterMaxAttempts) {
  StartSim();
  Faults(R"({"rules":[{"account":"main","page":3,"fault":"http_502"}]})");
  auto client = Client("main");
  CallStats stats;
  auto page = client->ReadPage({}, 3, 100, &stats);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), Status::Code::kUnavailable);
  EXPECT_FALSE(IsFatalEmagError(page.status()));
  EXPECT_EQ(stats.requests, 6u);
  EXPECT_EQ(stats.retries, 5u);
  EXPECT_NE(page.status().message().find("account main, product_offer/read page 3: HTTP 502"), std::string::npos)
      << page.status().ToString();
  EXPECT_NE(page.status().message().find("6 attempts"), std::string::npos);
}

struct FatalCase {
  const char* fault;
  Status::Code code;
  const char* says;
};

class FatalFaultTest : public EmagClientTest, public ::testing::WithParamInterface<FatalCase> {};

TEST_P(FatalFaultTest, FailsFastWithTheReason) {
  StartSim();
  Faults(std::string(R"({"rules":[{"account":"fbe","fault":")") + GetParam().fault +
         R"(","message":"Offer data is invalid"}]})");
  auto client = Client("fbe");
  CallStats stats;
  auto count = client->Count({}, &stats);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), GetParam().code) << count.status().ToString();
  EXPECT_TRUE(IsFatalEmagError(count.status()));
  EXPECT_EQ(stats.requests, 1u);
  EXPECT_NE(count.status().message().find(GetParam().says), std::string::npos) << count.status().ToString();
  EXPECT_NE(count.status().message().find("account fbe, product_offer/count"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    EveryFatalClass, FatalFaultTest,
    ::testing::Values(FatalCase{"http_401", Status::Code::kPermissionDenied, "HTTP 401"},
                      FatalCase{"http_403", Status::Code::kPermissionDenied, "You are not allowed to use this API"},
                      FatalCase{"invalid_ip", Status::Code::kPermissionDenied, "Invalid vendor ip [127.0.0.1]"},
                      FatalCase{"is_error", Status::Code::kFailedPrecondition, "Offer data is invalid"},
                      FatalCase{"http_400", Status::Code::kInvalidArgument, "HTTP 400"}),
    [](const auto& p) { return std::string(p.param.fault); });

TEST_F(EmagClientTest, WrongPasswordIsFatalAndNeverEchoed) {
  StartSim();
  const std::string secret = "s3cr3t-Pa55word-never-shown";
  auto client = Client("main", FastRetries(), secret);
  auto count = client->Count({}, nullptr);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), Status::Code::kPermissionDenied);
  EXPECT_EQ(count.status().message().find(secret), std::string::npos);
  // Nor in the failures of other classes.
  Faults(R"({"rules":[{"fault":"reset"}]})");
  auto good_login = Client("main", FastRetries(), secret);
  auto failed = good_login->ReadPage({}, 1, 100, nullptr);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message().find(secret), std::string::npos);
  EXPECT_EQ(failed.status().message().find("Authorization"), std::string::npos);
}

TEST_F(EmagClientTest, IpAllowListRefusesOtherAddresses) {
  sim::SimulatorOptions o = Defaults();
  o.ip_allow = {"10.9.9.9"};
  StartSim(o);
  auto count = Client("main")->Count({}, nullptr);
  ASSERT_FALSE(count.ok());
  EXPECT_EQ(count.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(count.status().message().find("Invalid vendor ip"), std::string::npos);
}

TEST_F(EmagClientTest, CredentialsInTheBaseUrlAreRefusedWithoutEchoingThem) {
  Account a{"main", "u", "p", "https://user:hunter2@marketplace-api.emag.ro/api-3"};
  auto c = EmagClient::Create(a);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos);
  EXPECT_FALSE(EmagClient::Create(Account{"main", "u", "p", "ftp://x/api-3"}).ok());
}

TEST_F(EmagClientTest, RateLimitedSimulatorIsHonoured) {
  sim::SimulatorOptions o = Defaults();
  o.rate_limit = true;
  StartSim(o);
  ClientOptions options = FastRetries();
  // A wide margin: the simulator counts arrivals, and a loaded machine can delay one by more
  // than the production margin.
  options.rate_limit = RateLimit{3, 180, std::chrono::milliseconds(200)};
  auto client = Client("main", options);
  const auto start = std::chrono::steady_clock::now();
  CallStats total;
  for (int i = 0; i < 7; ++i) {
    CallStats s;
    ASSERT_OK(client->Count({}, &s));
    total.rate_limit_hits += s.rate_limit_hits;
  }
  // 7 calls at 3/s need two full windows; the simulator saw no excess.
  EXPECT_GE(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(total.rate_limit_hits, 0u);
  EXPECT_EQ(sim_->Stats("main")->rate_limited, 0u);
}

TEST_F(EmagClientTest, CancelStopsAWaitingCall) {
  StartSim();
  Faults(R"({"rules":[{"fault":"http_500"}]})");
  ClientOptions options = FastRetries();
  options.retry.base = 10s;
  options.retry.cap = 10s;
  auto client = Client("main", options);
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = client->ReadPage({}, 1, 100, nullptr, CallControl{&cancel, std::nullopt, std::nullopt, nullptr});
  canceller.join();
  ASSERT_FALSE(r.ok());
  // Either the backoff was cut short, or (rarely, with jitter near 0) it had already retried.
  if (r.status().code() == Status::Code::kCancelled) {
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  }
}

TEST_F(EmagClientTest, DeadlineEndsRetries) {
  StartSim();
  Faults(R"({"rules":[{"fault":"http_500"}]})");
  ClientOptions options = FastRetries();
  options.retry.base = 2s;
  options.retry.cap = 2s;
  auto client = Client("main", options);
  const auto deadline = std::chrono::steady_clock::now() + 100ms;
  auto r = client->ReadPage({}, 1, 100, nullptr, CallControl{nullptr, deadline, std::nullopt, nullptr});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().code() == Status::Code::kDeadlineExceeded || r.status().code() == Status::Code::kUnavailable)
      << r.status().ToString();
}

}  // namespace
}  // namespace marketsync::emag
