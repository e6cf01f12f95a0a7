// emag_bench: the eMAG client pulling from the simulator over loopback HTTP.
//
//   emag_bench [--raw-offers N] [--latency-ms MS] [--skip-raw] [--skip-seed]
//
// Raw pull: one account, limits and latency off: pages/s and offers/s (the ceiling later sync
// benchmarks compare with). Seed conditions: 2 accounts x 1,275 offers, eMAG's limits on per
// account, 3.5 s per answer, both accounts pulled at once, against the floor the limit and the
// latency set.

#include <CLI/CLI.hpp>
#include <thread>

#include "engine/emag/client.h"
#include "tools/bench/pull.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync::bench {
namespace {

std::unique_ptr<emag::EmagClient> ClientFor(const sim::Simulator& s, const std::string& account, bool limits) {
  emag::Account a{account, "demo-" + account, "demo-" + account + "-secret", s.BaseUrl()};
  emag::ClientOptions o;
  if (!limits) o.rate_limit = emag::RateLimit{1'000'000, 1'000'000'000, std::chrono::milliseconds(0)};
  auto c = emag::EmagClient::Create(a, o);
  if (!c.ok()) throw std::runtime_error(c.status().ToString());
  return std::move(c).value();
}

void RawPull(uint32_t offers) {
  sim::SimulatorOptions o;
  o.accounts = {sim::DemoAccount("main")};
  o.offers = offers;
  o.rate_limit = false;
  o.log_requests = false;
  auto s = sim::Simulator::Start(o, "127.0.0.1", 0);
  if (!s.ok()) throw std::runtime_error(s.status().ToString());
  fmt::print("## Raw pull: 1 account, {} offers, limits and latency off (best of 3)\n\n", Thousands(offers));
  Table table({"pages in flight", "pages/s", "offers/s", "seconds"});
  for (uint32_t window : {1u, 2u, 4u}) {
    PullResult best;
    best.seconds = 1e9;
    for (int round = 0; round < 3; ++round) {
      auto client = ClientFor(**s, "main", false);
      PullResult r = Pull(*client, window);
      if (r.offers != offers) throw std::runtime_error("pulled " + std::to_string(r.offers) + " offers");
      if (r.seconds < best.seconds) best = r;
    }
    table.Add({std::to_string(window), fmt::format("{:.0f}", best.pages / best.seconds),
               Thousands(best.offers / best.seconds), fmt::format("{:.2f}", best.seconds)});
  }
  table.Print();
}

void SeedConditions(uint32_t latency_ms) {
  sim::SimulatorOptions o;
  o.offers = 1275;
  o.latency_ms = latency_ms;
  o.log_requests = false;
  auto s = sim::Simulator::Start(o, "127.0.0.1", 0);
  if (!s.ok()) throw std::runtime_error(s.status().ToString());
  auto main_client = ClientFor(**s, "main", true);
  auto fbe_client = ClientFor(**s, "fbe", true);
  const auto start = Clock::now();
  PullResult main_r, fbe_r;
  std::thread a([&] { main_r = Pull(*main_client, 16); });
  std::thread b([&] { fbe_r = Pull(*fbe_client, 16); });
  a.join();
  b.join();
  const double wall = SecondsSince(start);
  // 1 count + 13 pages = 14 requests per account at 3/s: the 14th starts after 13/3 s and
  // ends one latency later.
  const double floor = 13.0 / 3.0 + latency_ms / 1000.0;
  fmt::print("## Seed conditions: 2 accounts x 1,275 offers, 3 req/s and 180/min per account, {} ms per answer\n\n",
             latency_ms);
  Table table({"account", "offers", "requests", "429s", "seconds"});
  table.Add({"main", Thousands(main_r.offers), std::to_string(main_r.requests), std::to_string(main_r.rate_limit_hits),
             fmt::format("{:.2f}", main_r.seconds)});
  table.Add({"fbe", Thousands(fbe_r.offers), std::to_string(fbe_r.requests), std::to_string(fbe_r.rate_limit_hits),
             fmt::format("{:.2f}", fbe_r.seconds)});
  table.Print();
  fmt::print("wall time {:.2f} s, floor {:.2f} s: {:.2f}x the floor (the seed's ERP: about 218 s)\n\n", wall, floor,
             wall / floor);
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  CLI::App app{"eMAG client benchmarks against the simulator over loopback HTTP."};
  uint32_t raw_offers = 20000;
  uint32_t latency_ms = 3500;
  bool skip_raw = false, skip_seed = false;
  app.add_option("--raw-offers", raw_offers, "Offers in the raw pull benchmark")->capture_default_str();
  app.add_option("--latency-ms", latency_ms, "Per-answer latency in the seed benchmark")->capture_default_str();
  app.add_flag("--skip-raw", skip_raw, "Skip the raw pull benchmark");
  app.add_flag("--skip-seed", skip_seed, "Skip the seed-conditions benchmark");
  CLI11_PARSE(app, argc, argv);
  try {
    if (!skip_raw) marketsync::bench::RawPull(raw_offers);
    if (!skip_seed) marketsync::bench::SeedConditions(latency_ms);
  } catch (const std::exception& e) {
    fmt::print(stderr, "emag_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
