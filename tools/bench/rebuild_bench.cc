// rebuild_bench: projection rebuild rate and an as-of query, over a generated log.
//
//   rebuild_bench [--events N] [--dir DIR] [--rounds R] [--reuse]
//
// Writes a log of about N events shaped like the engine's (per run: SyncRequested,
// SyncStarted, per page a PageCommitted and 100 ProductCreated/ProductUpdated with an offer
// summary and ~300 bytes of raw JSON, then SyncCompleted; two accounts of 50,000 offers), with
// no projections registered. Then, on the same log, rounds of: a raw scan-and-decode of every
// event (the anchor), a fold of every projection, an open that builds them and a rebuild
// of all of them (medians reported); then once each projection folded alone and a history as-of
// query at the middle seq (FoldAsOf of the history projection). --reuse keeps the log
// for the next run (profiling one change again and again).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <random>

#include "schema/payload_codec.h"
#include "schema/sync_events.h"
#include "projections/all.h"
#include "projections/catalog.h"
#include "projections/history.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sync_log.h"

namespace marketsync::bench {
namespace {

constexpr uint32_t kOffersPerAccount = 50'000;
constexpr uint32_t kPerPage = 100;

uint64_t Fill(EventLog& log, uint64_t target_events) {
  std::mt19937_64 rng(3);
  const std::string filler(220, 'x');
  uint64_t run = 0;
  std::vector<Step> batch;
  auto flush = [&] {
    for (const auto& r : log.AppendAll(std::move(batch))) {
      if (!r.ok()) throw std::runtime_error(r.status().ToString());
    }
    batch.clear();
  };
  while (log.Head().seq < target_events) {
    const std::string account = run % 2 == 0 ? "main" : "fbe";
    const bool first = run < 2;
    const std::string id = fmt::format("{:016x}{:08x}", 1'764'000'000'000'000ull + run * 1'000'000, static_cast<uint32_t>(rng()));
    const std::string stream = RunStreamId(id);
    SyncRequested req;
    req.run_id = id;
    req.group_id = id;
    req.account = account;
    req.params.mode = "full";
    req.triggered_by = "bench";
    SyncStarted started;
    started.total_items = kOffersPerAccount;
    started.total_pages = kOffersPerAccount / kPerPage;
    Step head;
    head.streams.push_back({stream, kAnyVersion, {MakeEvent(req), MakeEvent(started)}});
    batch.push_back(std::move(head));
    for (uint32_t page = 1; page <= kOffersPerAccount / kPerPage; ++page) {
      Step step;
      PageCommitted pc;
      pc.page = page;
      pc.items = kPerPage;
      for (uint32_t i = 0; i < kPerPage; ++i) {
        const uint64_t offer = (page - 1) * kPerPage + i + 1;
        pc.offer_ids.push_back(offer);
        OfferSummary s;
        s.part_number = fmt::format("SKU-{}", offer);
        s.name = fmt::format("Offer {} of {}", offer, account);
        s.sale_price = fmt::format("{}.99", rng() % 1000);
        s.currency = "RON";
        s.stock = static_cast<int64_t>(rng() % 50);
        s.status = 1;
        const std::string raw = fmt::format(R"({{"id":{},"part_number":"{}","name":"{}","sale_price":{},"f":"{}"}})", offer,
                                            s.part_number, s.name, s.sale_price, filler);
        NewEvent ev;
        if (first) {
          ProductCreated c{account, offer, id, fmt::format("{:064x}", rng()), raw, s};
          ev = MakeEvent(c);
          ++pc.created;
        } else {
          ProductUpdated u{account, offer, id, fmt::format("{:064x}", rng()), {"sale_price"}, raw, s};
          ev = MakeEvent(u);
          ++pc.updated;
        }
        step.streams.push_back({ProductStreamId(account, offer), kAnyVersion, {std::move(ev)}});
      }
      step.streams.push_back({stream, kAnyVersion, {MakeEvent(pc)}});
      batch.push_back(std::move(step));
      if (batch.size() == 64) flush();
    }
    SyncCompleted done;
    done.totals.processed = kOffersPerAccount;
    Step tail;
    tail.streams.push_back({stream, kAnyVersion, {MakeEvent(done)}});
    batch.push_back(std::move(tail));
    flush();
    ++run;
  }
  return log.Head().seq;
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  using namespace marketsync;
  using namespace marketsync::bench;
  CLI::App app{"rebuild_bench: projection rebuild rate and an as-of history query over a generated log"};
  uint64_t events = 5'000'000;
  std::string dir = "/tmp/marketsync-rebuild-bench";
  app.add_option("--events", events, "Events to generate (at least)")->capture_default_str();
  bool reuse = false;
  int rounds = 3;
  app.add_option("--rounds", rounds, "Rounds of the scan, fold, open and rebuild (medians reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--dir", dir, "Scratch directory (removed first and at the end, unless --reuse)")
      ->capture_default_str();
  app.add_flag("--reuse", reuse,
               "Keep the generated log at the end, and use the one in --dir if there is one "
               "(for profiling one measure again and again)");
  CLI11_PARSE(app, argc, argv);
  if (!reuse || !std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) {
    std::filesystem::remove_all(dir);
  }

  uint64_t head = 0;
  if (std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) {
    auto log = EventLog::Open(dir, bench::SyncTypesOnly());
    if (!log.ok()) return fmt::print(stderr, "{}\n", log.status().ToString()), 1;
    head = (*log)->Head().seq;
    fmt::print(stderr, "reusing the log of {} events in {}\n", head, dir);
  } else {
    auto log = EventLog::Open(dir, bench::SyncTypesOnly());
    if (!log.ok()) return fmt::print(stderr, "{}\n", log.status().ToString()), 1;
    const auto start = Clock::now();
    head = Fill(**log, events);
    fmt::print(stderr, "generated {} events in {:.1f} s\n", head, SecondsSince(start));
  }
  std::vector<std::unique_ptr<Projection>> all = MakeAllProjections();
  std::vector<Projection*> chosen;
  for (auto& p : all) chosen.push_back(p.get());
  // Per round, in this order: the anchor (scan and decode every envelope), the fold of all
  // all into memory, the projections built by an open that registers them on the existing
  // log, and an explicit rebuild of all of them (fold + drop + write SSTs + ingest + checkpoint).
  // The open and the rebuild run on a copy (SST files hard-linked, the rest copied), so that
  // the generated log stays projection-free for the next round and for --reuse.
  std::vector<double> scan_s, fold_s, open_s, rebuild_s;
  uint64_t n = 0, bytes = 0, folded_events = 0, rebuilt_events = 0;
  const std::string copy = dir + "-copy";
  for (int round = 0; round < rounds; ++round) {
    {
      auto log = EventLog::Open(dir, bench::SyncTypesOnly());
      if (!log.ok()) return fmt::print(stderr, "{}\n", log.status().ToString()), 1;
      n = bytes = 0;
      auto start = Clock::now();
      for (auto it = (*log)->Read(1); it->Valid(); it->Next()) {
        ++n;
        bytes += it->envelope().payload.size();
      }
      scan_s.push_back(SecondsSince(start));
      MemoryStore store;
      start = Clock::now();
      auto folded = FoldLog(**log, chosen, store);
      fold_s.push_back(SecondsSince(start));
      if (!folded.ok()) return fmt::print(stderr, "{}\n", folded.status().ToString()), 1;
      folded_events = folded->events;
    }
    std::filesystem::remove_all(copy);
    std::filesystem::create_directories(copy);
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const auto to = std::filesystem::path(copy) / entry.path().filename();
      if (entry.path().extension() == ".sst") {
        std::filesystem::create_hard_link(entry.path(), to);
      } else {
        std::filesystem::copy(entry.path(), to);
      }
    }
    EventLogOptions o = SyncLogOptions();
    auto start = Clock::now();
    auto rw = EventLog::Open(copy, std::move(o));
    open_s.push_back(SecondsSince(start));
    if (!rw.ok()) return fmt::print(stderr, "{}\n", rw.status().ToString()), 1;
    start = Clock::now();
    auto report = (*rw)->RebuildProjections(AllProjectionNames());
    rebuild_s.push_back(SecondsSince(start));
    if (!report.ok()) return fmt::print(stderr, "{}\n", report.status().ToString()), 1;
    rebuilt_events = report->events;
    fmt::print(stderr, "round {}: scan {:.2f} s, fold {:.2f} s, open {:.2f} s, rebuild {:.2f} s\n", round + 1,
               scan_s.back(), fold_s.back(), open_s.back(), rebuild_s.back());
  }
  std::filesystem::remove_all(copy);

  // Once each: every projection folded alone (where the time goes), and the as-of query.
  std::vector<std::pair<std::string, double>> per_projection;
  double as_of_s = 0;
  uint64_t as_of_events = 0;
  {
    auto log = EventLog::Open(dir, bench::SyncTypesOnly());
    if (!log.ok()) return 1;
    for (Projection* p : chosen) {
      MemoryStore alone;
      const auto t0 = Clock::now();
      auto r = FoldLog(**log, {p}, alone);
      if (!r.ok()) return 1;
      per_projection.emplace_back(std::string(p->name()), SecondsSince(t0));
    }
    // As of the middle: the history projection folded to head / 2, then a page listed.
    const auto start = Clock::now();
    auto view = FoldAsOf(**log, FoldLimit{head / 2, std::nullopt}, {HistoryProjection::kName});
    if (!view.ok()) return 1;
    auto page = ListHistory((*view)->store, {});
    as_of_s = SecondsSince(start);
    if (!page.ok()) return 1;
    as_of_events = (*view)->fold.events;
  }

  const double scan = Percentile(scan_s, 50);
  auto row = [&](const std::string& what, uint64_t count, double secs) {
    return std::vector<std::string>{what, Thousands(static_cast<double>(count)), fmt::format("{:.2f}", secs),
                                    Thousands(count / secs), fmt::format("{:.2f}x", scan / secs)};
  };
  Table table({"measure", "events", "seconds", "events/s", "vs scan"});
  table.Add(row("raw scan + decode (anchor)", n, scan));
  table.Add(row("fold of every projection (in memory)", folded_events, Percentile(fold_s, 50)));
  table.Add(row("open registering every projection on the existing log", n, Percentile(open_s, 50)));
  table.Add(row("rebuild of every projection (fold + write SSTs + ingest + checkpoint)", rebuilt_events, Percentile(rebuild_s, 50)));
  for (const auto& [name, secs] : per_projection) table.Add(row(fmt::format("fold of {} alone (1 round)", name), n, secs));
  table.Add({fmt::format("as-of history at seq {} (fold + list 50; 1 round)", head / 2),
             Thousands(static_cast<double>(as_of_events)), fmt::format("{:.3f}", as_of_s),
             Thousands(as_of_events / as_of_s), "-"});
  fmt::print("## Rebuild and as-of ({} events, {} payload bytes; median of {} rounds)\n\n",
             Thousands(static_cast<double>(n)), Thousands(static_cast<double>(bytes)), rounds);
  table.Print();
  if (!reuse) std::filesystem::remove_all(dir);
  return 0;
}
