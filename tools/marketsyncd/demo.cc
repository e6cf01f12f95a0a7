#include "tools/marketsyncd/demo.h"

#include <spdlog/spdlog.h>

#include "tools/emag-sim/simulator.h"

namespace marketsync::marketsyncd {
namespace {

class SimulatorDemo final : public Demo {
 public:
  SimulatorDemo(sim::SimulatorOptions options, std::unique_ptr<sim::Simulator> simulator)
      : options_(std::move(options)), simulator_(std::move(simulator)) {}
  ~SimulatorDemo() override { Stop(); }

  std::vector<emag::Account> accounts() const override {
    std::vector<emag::Account> out;
    for (const auto& a : options_.accounts) out.push_back({a.name, a.username, a.password, simulator_->BaseUrl()});
    return out;
  }
  void Stop() override { simulator_->Stop(); }

 private:
  sim::SimulatorOptions options_;
  std::unique_ptr<sim::Simulator> simulator_;
};

}  // namespace

Result<std::unique_ptr<Demo>> Demo::Start(uint32_t offers, uint32_t latency_ms) {
  sim::SimulatorOptions so;
  so.offers = offers;
  so.latency_ms = latency_ms;
  so.log_requests = false;
  auto started = sim::Simulator::Start(so, "127.0.0.1", 0);
  if (!started.ok()) return Status::Unavailable("the demo simulator did not start: " + started.status().ToString());
  spdlog::info("demo: eMAG simulator at {} with accounts main and fbe ({} offers each)", (*started)->BaseUrl(), offers);
  return std::unique_ptr<Demo>(std::make_unique<SimulatorDemo>(std::move(so), std::move(started).value()));
}

}  // namespace marketsync::marketsyncd
