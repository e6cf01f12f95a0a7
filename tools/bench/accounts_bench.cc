// accounts_bench: many accounts on one node (issue 16). N accounts x 300 offers in emag-sim (a
// process of its own) with eMAG's limits (3 requests a second per account) and 300 ms per
// answer; one `both` start of every account, as many running at once as the engine's cap on
// runs in flight lets (the rest queued); the time until every run has ended, against the
// larger of two bounds measured in the same run: one account's floor
// (its 4 requests at 3 a second, plus one answer's latency: 1.3 s) and the engine's CPU-bound
// time for the same offers (one account with N x 300 offers, limits and latency off: a first
// sync). Also: requests at the simulator against those needed, 429 answers, this process's peak
// threads and peak RSS.
//
//   accounts_bench [--accounts N,N,...] [--offers N] [--latency-ms MS] [--max-runs N] [--sim PATH]

#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <thread>

#include "tools/bench/bench_util.h"
#include "tools/bench/engine_harness.h"

namespace marketsync::bench {
namespace {

std::string Name(uint32_t i) { return "acct-" + std::to_string(10000 + i); }

int ThreadsNow() {
  int n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Samples this process's thread count every 20 ms until destroyed; keeps the peak.
class ThreadSampler {
 public:
  ThreadSampler() : thread_([this] {
    while (!stop_) {
      peak_ = std::max(peak_.load(), ThreadsNow() - 1);  // not this sampler
      std::this_thread::sleep_for(20ms);
    }
  }) {}
  ~ThreadSampler() {
    stop_ = true;
    thread_.join();
  }
  int peak() const { return peak_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> peak_{0};
  std::thread thread_;
};

// Seconds for a first sync of `offers` offers in one account, limits and latency off.
double CpuBoundSeconds(const std::string& sim, const std::string& scratch, uint64_t offers) {
  SimProcess p(sim, {"--port", "0", "--quiet", "--no-rate-limit", "--accounts", "main", "--offers",
                     std::to_string(offers)});
  std::filesystem::remove_all(scratch);
  Opened o = Open(scratch, Options(p.base_url(), {"main"}, false, 16));
  const auto start = Clock::now();
  SyncAndWait(*o.engine, "main");
  const double seconds = SecondsSince(start);
  o = {};
  std::filesystem::remove_all(scratch);
  return seconds;
}

struct Row {
  uint32_t accounts = 0;
  double seconds = 0, bound = 0, floor = 0, cpu_bound = 0;
  uint64_t requests = 0, needed = 0, rate_limited = 0;
  int threads = 0;
  double rss_mb = 0;
};

Row ManyAccounts(const std::string& sim, const std::string& scratch, uint32_t accounts, uint32_t offers,
                 uint32_t latency_ms, uint32_t max_runs) {
  std::string names;
  std::vector<std::string> list;
  for (uint32_t i = 0; i < accounts; ++i) {
    list.push_back(Name(i));
    names += (i ? "," : "") + list.back();
  }
  Row row;
  row.accounts = accounts;
  row.cpu_bound = CpuBoundSeconds(sim, scratch, uint64_t{accounts} * offers);
  SimProcess p(sim, {"--port", "0", "--quiet", "--accounts", names, "--offers", std::to_string(offers),
                     "--latency-ms", std::to_string(latency_ms)});
  std::filesystem::remove_all(scratch);
  ResetPeakRss();
  EngineOptions options = Options(p.base_url(), list, true, 16);
  if (max_runs > 0) options.max_runs_in_flight = max_runs;
  Opened o = Open(scratch, std::move(options));
  {
    ThreadSampler threads;
    const auto start = Clock::now();
    SyncAndWait(*o.engine, "both");
    row.seconds = SecondsSince(start);
    row.threads = threads.peak();
  }
  row.rss_mb = PeakRssMb();
  const uint64_t pages = (offers + 99) / 100;
  row.needed = uint64_t{accounts} * (1 + pages);
  for (const auto& name : list) {
    const auto s = p.AccountStats(name);
    row.requests += s.requests;
    row.rate_limited += s.rate_limited;
  }
  row.floor = static_cast<double>(pages) / 3.0 + latency_ms / 1000.0;  // the last of pages + 1 at 3/s
  row.bound = std::max(row.floor, row.cpu_bound);
  o = {};
  std::filesystem::remove_all(scratch);
  return row;
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  using namespace marketsync::bench;
  CLI::App app{"accounts_bench: many accounts at eMAG's limits on one node"};
  std::vector<uint32_t> counts{10, 200, 1000};
  uint32_t offers = 300;
  uint32_t latency_ms = 300;
  std::string sim = (std::filesystem::path(argv[0]).parent_path() / "../emag-sim/emag-sim").string();
  std::string scratch = "/tmp/marketsync-accounts-bench";
  app.add_option("--accounts", counts, "Account counts to run, comma separated")->delimiter(',')->capture_default_str();
  app.add_option("--offers", offers, "Offers per account")->capture_default_str();
  app.add_option("--latency-ms", latency_ms, "Delay of every answer")->capture_default_str();
  uint32_t max_runs = 0;
  app.add_option("--max-runs", max_runs, "Runs in flight at once (0: the engine's default)")->capture_default_str();
  app.add_option("--sim", sim, "The emag-sim binary")->capture_default_str();
  app.add_option("--scratch", scratch, "A directory it may delete and fill")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  struct rlimit files {};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0) {  // a connection or two per account
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  fmt::print("## Many accounts: N x {} offers, 3 req/s per account, {} ms per answer, one start of every account, {} runs in "
             "flight at most\n\n",
             offers, latency_ms, max_runs > 0 ? max_runs : marketsync::EngineOptions{}.max_runs_in_flight);
  Table t({"accounts", "all runs ended", "bound (floor / CPU-bound)", "x bound", "requests (needed)", "429s",
           "peak threads", "peak RSS"});
  for (uint32_t n : counts) {
    const Row r = ManyAccounts(sim, scratch, n, offers, latency_ms, max_runs);
    t.Add({Thousands(n), fmt::format("{:.2f} s", r.seconds),
           fmt::format("{:.2f} s ({:.2f} / {:.2f})", r.bound, r.floor, r.cpu_bound),
           fmt::format("{:.2f}x", r.seconds / r.bound), fmt::format("{} ({})", Thousands(r.requests), Thousands(r.needed)),
           std::to_string(r.rate_limited), std::to_string(r.threads), fmt::format("{:.0f} MB", r.rss_mb)});
  }
  t.Print();
  fmt::print("The bound is the larger of one account's floor (its requests at 3 a second, plus one answer's latency) and\n"
             "the CPU-bound time: one account holding every account's offers, first-synced with limits and latency off.\n\n");
  return 0;
}
