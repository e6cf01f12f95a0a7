#pragma once

// The eMAG client's suites share this: the simulator on loopback, and clients for its demo
// accounts with fast retries.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "engine/emag/client.h"
#include "tests/testutil/status_matchers.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync::emag {

inline constexpr uint32_t kOffers = 250;  // 3 pages of 100

class EmagClientTest : public ::testing::Test {
 protected:
  void StartSim(sim::SimulatorOptions options = Defaults()) {
    auto s = sim::Simulator::Start(std::move(options), "127.0.0.1", 0);
    ASSERT_OK(s);
    sim_ = std::move(s).value();
  }
  static sim::SimulatorOptions Defaults() {
    sim::SimulatorOptions o;
    o.offers = kOffers;
    o.rate_limit = false;
    o.log_requests = false;
    return o;
  }
  static ClientOptions FastRetries() {
    ClientOptions o;
    o.retry.base = std::chrono::milliseconds(5);
    o.retry.cap = std::chrono::milliseconds(40);
    o.rate_limit = RateLimit{1000, 100000, std::chrono::milliseconds(0)};
    o.read_timeout = std::chrono::seconds(2);
    return o;
  }
  std::unique_ptr<EmagClient> Client(const std::string& account, ClientOptions options = FastRetries(),
                                     const std::string& password = "") {
    Account a;
    a.name = account;
    a.username = "demo-" + account;
    a.password = password.empty() ? "demo-" + account + "-secret" : password;
    a.base_url = sim_->BaseUrl();
    auto c = EmagClient::Create(a, std::move(options));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(c).value();
  }
  void Faults(const std::string& json) { ASSERT_OK(sim_->SetFaults(json)); }

  std::unique_ptr<sim::Simulator> sim_;
};

}  // namespace marketsync::emag
