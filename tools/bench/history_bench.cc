// history_bench: listing the history projection, and building the console's overview, with many
// runs stored.
//
//   history_bench [--runs N] [--queries Q]
//
// Fills a log with N runs requested over the last 30 days (SyncRequested + SyncStarted +
// PageCommitted + a terminal event each, two accounts, mixed outcomes) through the projections
// the two read (history, status, stats, rollup), then times in-process, p50 and p99:
// ListHistory (limit 50, newest first, one filter) and BuildOverview (30 days, the window's
// newest 200 runs), the heaviest query of the overview.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <random>

#include "schema/payload_codec.h"
#include "base/clock.h"
#include "projections/history.h"
#include "projections/overview.h"
#include "projections/rollup.h"
#include "projections/stats.h"
#include "projections/status.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sync_log.h"
#include "tools/bench/history_fill.h"

namespace marketsync::bench {
namespace {

// Times `query` (which throws when its answer is wrong) `queries` times.
template <class F>
void Time(const std::string& label, int queries, Table& table, F&& query) {
  std::vector<double> us;
  for (int i = 0; i < queries; ++i) {
    const auto start = Clock::now();
    query();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  table.Add({label, fmt::format("{:.0f}", Percentile(us, 50)), fmt::format("{:.0f}", Percentile(us, 99))});
}

void TimeListing(const EventLog& log, const std::string& label, const HistoryQuery& q, int queries, Table& table) {
  Time(label, queries, table, [&] {
    auto page = ListHistory(log, q);
    if (!page.ok() || page->runs.size() != q.limit) throw std::runtime_error("listing failed: " + label);
  });
}

void TimeOverview(const EventLog& log, const std::string& label, const OverviewQuery& q, uint64_t runs_in_window,
                  int queries, Table& table) {
  Time(label, queries, table, [&] {
    auto o = BuildOverview(log, q, {"main", "fbe"}, NowUs());
    if (!o.ok() || o->runs.size() != q.runs || !o->runs_truncated) throw std::runtime_error("overview failed: " + label);
    uint64_t requested = 0;
    for (const DayPoint& d : o->days) requested += d.runs.requested;
    if (requested != runs_in_window) {
      throw std::runtime_error(fmt::format("overview counted {} runs of {}: {}", requested, runs_in_window, label));
    }
  });
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
      o.projections.push_back(std::make_unique<StatusProjection>());
      o.projections.push_back(std::make_unique<StatsProjection>());
      o.projections.push_back(std::make_unique<RollupProjection>());
      auto log = EventLog::Open(dir, std::move(o));
      if (!log.ok()) throw std::runtime_error(log.status().ToString());
      const auto start = bench::Clock::now();
      // Requested over the last 30 days (the window's first day starts at midnight UTC).
      const int64_t first = FirstDayUs(NowUs(), 30);
      bench::FillRuns(**log, runs, first, std::max<int64_t>(1, (NowUs() - first) / static_cast<int64_t>(runs + 1)));
      fmt::print("## History listing and overview, {} runs stored over 30 days (filled in {:.1f} s)\n\n",
                 bench::Thousands(static_cast<double>(runs)), bench::SecondsSince(start));
      bench::Table table({"query", "p50 µs", "p99 µs"});
      HistoryQuery q;
      q.limit = 50;
      bench::TimeListing(**log, "history: no filter, limit 50", q, queries, table);
      q.account = "fbe";
      bench::TimeListing(**log, "history: account = fbe", q, queries, table);
      q.account.reset();
      q.status = std::string(kRunFailed);
      bench::TimeListing(**log, "history: status = failed (1 run in 10)", q, queries, table);
      bench::Time("status: runs in flight (none)", queries, table, [&] {
        auto active = ListActiveRuns(**log, NowUs());
        if (!active.ok() || !active->empty()) throw std::runtime_error("runs in flight failed");
      });
      bench::Time("rollup: 30 days, every account", queries, table, [&] {
        auto days = RunsPerDay(**log, std::nullopt, NowUs(), 30);
        if (!days.ok()) throw std::runtime_error("rollup failed");
      });
      OverviewQuery oq;
      bench::TimeOverview(**log, "overview: 30 days, every account, 200 runs", oq, runs, queries, table);
      oq.account = "fbe";
      bench::TimeOverview(**log, "overview: 30 days, account = fbe, 200 runs", oq, runs / 2, queries, table);
      oq.account.reset();
      oq.runs = 1000;
      bench::TimeOverview(**log, "overview: 30 days, every account, 1,000 runs", oq, runs, queries, table);
      table.Print();
    }
    std::filesystem::remove_all(dir);
  } catch (const std::exception& e) {
    fmt::print(stderr, "history_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
