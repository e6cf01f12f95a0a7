// history_bench: listing the history projection with many runs stored.
//
//   history_bench [--runs N] [--queries Q]
//
// Fills a log with N runs (SyncRequested + SyncStarted + PageCommitted + a terminal event
// each, two accounts, mixed outcomes) through the history projection, then times
// ListHistory(limit 50, newest first, one filter) in-process: p50 and p99.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <random>

#include "schema/payload_codec.h"
#include "projections/history.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sync_log.h"
#include "tools/bench/history_fill.h"

namespace marketsync::bench {
namespace {

void Time(const EventLog& log, const std::string& label, HistoryQuery q, int queries, Table& table) {
  std::vector<double> us;
  std::mt19937 rng(11);
  for (int i = 0; i < queries; ++i) {
    const auto start = Clock::now();
    auto page = ListHistory(log, q);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    if (!page.ok() || page->runs.size() != q.limit) throw std::runtime_error("listing failed: " + label);
  }
  table.Add({label, fmt::format("{:.0f}", Percentile(us, 50)), fmt::format("{:.0f}", Percentile(us, 99))});
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  CLI::App app{"History projection listing with many runs stored."};
  uint64_t runs = 100000;
  int queries = 2000;
  std::string dir = (std::filesystem::temp_directory_path() / "marketsync-history-bench").string();
  app.add_option("--runs", runs, "Runs to store")->capture_default_str();
  app.add_option("--queries", queries, "Timed queries per row of the table")->capture_default_str();
  app.add_option("--dir", dir, "Scratch directory (removed afterwards)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  using namespace marketsync;
  try {
    std::filesystem::remove_all(dir);
    {
      EventLogOptions o = SyncLogOptions();
      o.projections.clear();  // only the projections this bench registers
      o.projections.push_back(std::make_unique<HistoryProjection>());
      auto log = EventLog::Open(dir, std::move(o));
      if (!log.ok()) throw std::runtime_error(log.status().ToString());
      const auto start = bench::Clock::now();
      bench::FillRuns(**log, runs);
      fmt::print("## History listing, {} runs stored (filled in {:.1f} s), limit 50, newest first\n\n",
                 bench::Thousands(static_cast<double>(runs)), bench::SecondsSince(start));
      bench::Table table({"query", "p50 µs", "p99 µs"});
      HistoryQuery q;
      q.limit = 50;
      bench::Time(**log, "no filter", q, queries, table);
      q.account = "fbe";
      bench::Time(**log, "account = fbe", q, queries, table);
      q.account.reset();
      q.status = std::string(kRunFailed);
      bench::Time(**log, "status = failed (1 run in 10)", q, queries, table);
      table.Print();
    }
    std::filesystem::remove_all(dir);
  } catch (const std::exception& e) {
    fmt::print(stderr, "history_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
