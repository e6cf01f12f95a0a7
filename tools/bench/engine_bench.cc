// engine_bench: sync runs end to end through the engine, against emag-sim in a process of its own
// (so this process's memory is the engine's).
//
//   engine_bench [--offers N] [--sim PATH] [--skip-seed] [--skip-overhead] [--no-projections]
//
// The log is opened with every projection, as marketsyncd opens it (--no-projections: none).
// Seed scenario: both accounts x 1,275 offers, eMAG's limits, 3.5 s per answer, against the
// floor those set. Engine overhead: N offers (default 100,000) in one account with limits and
// latency off: a first sync (all created) and a re-sync (all unchanged), as ratios to the raw
// pull rate of the client from the same simulator in the same run, this process's CPU seconds
// per 100,000 offers for each pull, and peak RSS of the sync.

#include <malloc.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <httplib.h>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <thread>

#include "engine/sync_engine.h"
#include "projections/all.h"
#include "schema/event_type.h"
#include "schema/stream_ids.h"
#include "tools/bench/engine_harness.h"
#include "tools/bench/pull.h"

namespace marketsync::bench {
namespace {

using namespace std::chrono_literals;

// When a run's progress became durable, in seconds after its SyncRequested: SyncStarted, the
// first and the last PageCommitted.
struct Durable {
  double started = -1, first_page = -1, last_page = -1;
};

Durable DurableProgress(const EventLog& log, const std::string& run_id) {
  auto events = log.ReadStream(RunStreamId(run_id));
  if (!events.ok() || events->empty()) throw std::runtime_error("run " + run_id + ": no stream");
  const int64_t t0 = events->front().recorded_at_us;
  auto at = [&](const Envelope& e) { return static_cast<double>(e.recorded_at_us - t0) / 1e6; };
  Durable d;
  for (const Envelope& e : *events) {
    if (e.type == static_cast<uint16_t>(EventType::kSyncStarted) && d.started < 0) d.started = at(e);
    if (e.type == static_cast<uint16_t>(EventType::kPageCommitted)) {
      if (d.first_page < 0) d.first_page = at(e);
      d.last_page = at(e);
    }
  }
  return d;
}

void SeedScenario(const std::string& sim, const std::string& scratch) {
  SimProcess p(sim, {"--port", "0", "--quiet", "--latency-ms", "3500"});
  Opened o = Open(FreshStore(scratch), Options(p.base_url(), {"main", "fbe"}, true, 16));
  const auto start = Clock::now();
  auto runs = SyncAndWait(*o.engine, "both");
  const double wall = SecondsSince(start);
  const double floor = 13.0 / 3.0 + 3.5;
  fmt::print("## Seed scenario through the engine: 2 accounts x 1,275 offers, eMAG limits, 3.5 s per answer\n\n");
  Table t({"account", "created", "pages", "requests at the simulator (needed)", "429s", "SyncStarted at", "first page at",
           "last page at", "seconds from SyncStarted"});
  for (const auto& r : runs) {
    const Durable d = DurableProgress(*o.log, r.id);
    t.Add({r.account_type, Thousands(r.created_items), std::to_string(r.pages_processed),
           fmt::format("{} ({})", p.Requests(r.account_type), r.pages_processed + 1), std::to_string(r.rate_limit_hits),
           fmt::format("{:.2f} s", d.started), fmt::format("{:.2f} s", d.first_page),
           fmt::format("{:.2f} s", d.last_page), fmt::format("{:.2f}", r.DurationSeconds(0))});
  }
  t.Print();
  fmt::print("Times are from the run's SyncRequested to the event's durable write.\n"
             "wall time {:.2f} s (command to both terminal events), floor {:.2f} s: {:.2f}x the floor (the seed's ERP: about 218 s)\n\n",
             wall, floor, wall / floor);
  o = {};
  std::filesystem::remove_all(scratch);
}

double RawPullOffersPerSecond(const std::string& url, uint32_t window, uint64_t* offers) {
  auto client = emag::EmagClient::Create({"main", "demo-main", "demo-main-secret", url},
                                         Options(url, {"main"}, false, window).client);
  if (!client.ok()) throw std::runtime_error(client.status().ToString());
  const PullResult r = Pull(**client, window);
  *offers = r.offers;
  return r.offers / r.seconds;
}

// CPU seconds (user + system) this process has used: the engine's threads and the client's,
// not the simulator's.
double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

void Overhead(const std::string& sim, const std::string& scratch, uint32_t offers, int rounds, uint32_t engine_window) {
  SimProcess p(sim, {"--port", "0", "--quiet", "--no-rate-limit", "--accounts", "main", "--offers", std::to_string(offers)});
  constexpr uint32_t kWindow = 2;
  // Rounds interleave the three pulls, so drift in the machine (other tenants, RocksDB's
  // background flushes) hits them alike; each figure is the median of its rounds.
  std::vector<double> raw, first, again, first_rss, again_rss, raw_cpu, first_cpu, again_cpu;
  uint64_t pulled = 0;
  // One untimed pull first: the simulator renders each offer's JSON once and caches it, and
  // that is the simulator's cost, not the client's (it made the first round's pull ~2x slower).
  RawPullOffersPerSecond(p.base_url(), kWindow, &pulled);
  for (int round = 0; round < rounds; ++round) {
    double cpu = ProcessCpuSeconds();
    raw.push_back(RawPullOffersPerSecond(p.base_url(), kWindow, &pulled));
    raw_cpu.push_back(ProcessCpuSeconds() - cpu);

    Opened o = Open(FreshStore(scratch), Options(p.base_url(), {"main"}, false, engine_window));
    ResetPeakRss();
    auto start = Clock::now();
    cpu = ProcessCpuSeconds();
    auto created = SyncAndWait(*o.engine, "main");
    first.push_back(created[0].created_items / SecondsSince(start));
    first_cpu.push_back(ProcessCpuSeconds() - cpu);
    first_rss.push_back(PeakRssMb());
    ResetPeakRss();
    start = Clock::now();
    cpu = ProcessCpuSeconds();
    auto unchanged = SyncAndWait(*o.engine, "main");
    again.push_back(unchanged[0].unchanged_items / SecondsSince(start));
    again_cpu.push_back(ProcessCpuSeconds() - cpu);
    again_rss.push_back(PeakRssMb());

    if (created[0].created_items != offers || unchanged[0].unchanged_items != offers) {
      throw std::runtime_error("the syncs did not see every offer");
    }
  }
  std::filesystem::remove_all(scratch);
  const double raw_rate = Median(raw);
  fmt::print("## Engine overhead: 1 account, {} offers, limits and latency off, median of {} rounds\n\n"
             "Pages in flight: {} for the raw pull (its best), {} for the engine. Projections: {}.\n\n",
             Thousands(offers), rounds, kWindow, engine_window,
             g_projections ? "all of them, as marketsyncd runs" : "none (--no-projections)");
  // CPU per 100,000 offers of this process (not the simulator's): where the time goes when the
  // rates move with the machine's other tenants.
  auto per_100k = [&](const std::vector<double>& v) { return fmt::format("{:.2f}", Median(v) * 100000.0 / offers); };
  Table t({"pull", "offers/s", "ratio to raw pull", "CPU s per 100k offers", "peak RSS MB (max of rounds)"});
  t.Add({"raw client pull", Thousands(raw_rate), "1.00x", per_100k(raw_cpu), ""});
  t.Add({"first sync (all created)", Thousands(Median(first)), fmt::format("{:.2f}x", Median(first) / raw_rate),
         per_100k(first_cpu), fmt::format("{:.0f}", *std::max_element(first_rss.begin(), first_rss.end()))});
  t.Add({"re-sync (all unchanged)", Thousands(Median(again)), fmt::format("{:.2f}x", Median(again) / raw_rate),
         per_100k(again_cpu), fmt::format("{:.0f}", *std::max_element(again_rss.begin(), again_rss.end()))});
  t.Print();
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  CLI::App app{"Sync runs through the engine against emag-sim (run as a separate process)."};
  uint32_t offers = 100000;
  std::string sim = (std::filesystem::canonical("/proc/self/exe").parent_path().parent_path() / "emag-sim" / "emag-sim").string();
  std::string scratch = (std::filesystem::temp_directory_path() / "marketsync-engine-bench").string();
  bool skip_seed = false, skip_overhead = false;
  int rounds = 3;
  uint32_t engine_window = 4;
  app.add_option("--offers", offers, "Offers in the engine overhead benchmark")->capture_default_str();
  app.add_option("--sim", sim, "The emag-sim binary")->capture_default_str();
  app.add_option("--dir", scratch, "Scratch directory for the log (removed afterwards)")->capture_default_str();
  app.add_option("--store", marketsync::bench::g_store,
                 "The log on PostgreSQL instead: a superuser's connection string; each sync's log goes to a new "
                 "database there (tools/pg-cluster start DIR prints one)");
  app.add_option("--rounds", rounds, "Rounds of the overhead benchmark (medians are reported)")->check(CLI::PositiveNumber);
  app.add_option("--engine-window", engine_window, "Pages in flight for the engine in the overhead benchmark")->capture_default_str();
  app.add_flag("--skip-seed", skip_seed, "Skip the seed scenario");
  app.add_flag("--skip-overhead", skip_overhead, "Skip the engine overhead benchmark");
  bool no_projections = false;
  app.add_flag("--no-projections", no_projections, "Open the log without every projection (the bare engine)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  try {
    if (!skip_seed) marketsync::bench::SeedScenario(sim, scratch);
    marketsync::bench::g_projections = !no_projections;
    if (!skip_overhead) marketsync::bench::Overhead(sim, scratch, offers, rounds, engine_window);
  } catch (const std::exception& e) {
    fmt::print(stderr, "engine_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
