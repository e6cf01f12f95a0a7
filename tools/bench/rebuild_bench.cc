// rebuild_bench: projection rebuild rate and an as-of query, over a generated log.
//
//   rebuild_bench [--events N] [--dir DIR]
//
// Writes a log of about N events shaped like the engine's (per run: SyncRequested,
// SyncStarted, per page a PageCommitted and 100 ProductCreated/ProductUpdated with an offer
// summary and ~300 bytes of raw JSON, then SyncCompleted; two accounts of 50,000 offers), with
// no projections registered. Then, on the same log, in this order: a raw scan-and-decode of
// every event (the anchor), a rebuild of all four projections in one pass, and a history
// as-of query at the middle seq (FoldAsOf of the history projection).

#include <CLI/CLI.hpp>
#include <filesystem>
#include <random>

#include "events/payload_codec.h"
#include "events/sync_events.h"
#include "projections/all.h"
#include "projections/history.h"
#include "tools/bench/bench_util.h"

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
        step.streams.push_back({fmt::format("product-{}-{}", account, offer), kAnyVersion, {std::move(ev)}});
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
  app.add_option("--dir", dir, "Scratch directory (removed first)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::remove_all(dir);

  uint64_t head = 0;
  {
    auto log = EventLog::Open(dir, {});
    if (!log.ok()) return fmt::print(stderr, "{}\n", log.status().ToString()), 1;
    const auto start = Clock::now();
    head = Fill(**log, events);
    fmt::print(stderr, "generated {} events in {:.1f} s\n", head, SecondsSince(start));
  }
  std::vector<std::unique_ptr<Projection>> all = MakeAllProjections();
  std::vector<Projection*> chosen;
  for (auto& p : all) chosen.push_back(p.get());
  double scan_s = 0, fold_s = 0, as_of_s = 0;
  uint64_t n = 0, bytes = 0;
  FoldResult fold;
  uint64_t as_of_events = 0;
  std::vector<std::pair<std::string, double>> per_projection;
  {
    auto log = EventLog::Open(dir, {});
    if (!log.ok()) return 1;
    // The anchor: scan and decode every envelope.
    auto start = Clock::now();
    for (auto it = (*log)->Read(1); it->Valid(); it->Next()) {
      ++n;
      bytes += it->envelope().payload.size();
    }
    scan_s = SecondsSince(start);
    // The fold alone, into memory.
    MemoryStore store;
    start = Clock::now();
    auto folded = FoldLog(**log, chosen, store);
    fold_s = SecondsSince(start);
    if (!folded.ok()) return fmt::print(stderr, "{}\n", folded.status().ToString()), 1;
    fold = *folded;
    // Each projection folded alone: where the time goes.
    for (Projection* p : chosen) {
      MemoryStore alone;
      const auto t0 = Clock::now();
      auto r = FoldLog(**log, {p}, alone);
      if (!r.ok()) return 1;
      per_projection.emplace_back(std::string(p->name()), SecondsSince(t0));
    }
    // As of the middle: the history projection folded to head / 2, then a page listed.
    start = Clock::now();
    auto view = FoldAsOf(**log, FoldLimit{head / 2, std::nullopt}, {HistoryProjection::kName});
    if (!view.ok()) return 1;
    auto page = ListHistory((*view)->store, {});
    as_of_s = SecondsSince(start);
    if (!page.ok()) return 1;
    as_of_events = (*view)->fold.events;
  }
  // Registering the projections on the existing log builds them (the rebuild path), then an
  // explicit rebuild of all four: fold + drop + write + flush + checkpoint.
  EventLogOptions o;
  o.projections = MakeAllProjections();
  auto start = Clock::now();
  auto rw = EventLog::Open(dir, std::move(o));
  const double open_s = SecondsSince(start);
  if (!rw.ok()) return fmt::print(stderr, "{}\n", rw.status().ToString()), 1;
  start = Clock::now();
  auto report = (*rw)->RebuildProjections(AllProjectionNames());
  const double rebuild_s = SecondsSince(start);
  if (!report.ok()) return fmt::print(stderr, "{}\n", report.status().ToString()), 1;
  rw->reset();

  Table table({"measure", "events", "seconds", "events/s", "vs scan"});
  table.Add({"raw scan + decode (anchor)", Thousands(static_cast<double>(n)), fmt::format("{:.2f}", scan_s),
             Thousands(n / scan_s), "1.00x"});
  table.Add({"fold of all 4 projections (in memory)", Thousands(static_cast<double>(fold.events)), fmt::format("{:.2f}", fold_s),
             Thousands(fold.events / fold_s), fmt::format("{:.2f}x", scan_s / fold_s)});
  for (const auto& [name, secs] : per_projection) {
    table.Add({fmt::format("fold of {} alone", name), Thousands(static_cast<double>(n)), fmt::format("{:.2f}", secs),
               Thousands(n / secs), fmt::format("{:.2f}x", scan_s / secs)});
  }
  table.Add({"open registering all 4 on the existing log", Thousands(static_cast<double>(n)), fmt::format("{:.2f}", open_s),
             Thousands(n / open_s), fmt::format("{:.2f}x", scan_s / open_s)});
  table.Add({"rebuild all 4 (fold + write + flush + checkpoint)", Thousands(static_cast<double>(report->events)),
             fmt::format("{:.2f}", rebuild_s), Thousands(report->events / rebuild_s),
             fmt::format("{:.2f}x", scan_s / rebuild_s)});
  table.Add({fmt::format("as-of history at seq {} (fold + list 50)", head / 2), Thousands(static_cast<double>(as_of_events)),
             fmt::format("{:.3f}", as_of_s), Thousands(as_of_events / as_of_s), "-"});
  fmt::print("## Rebuild and as-of ({} events, {} payload bytes)\n\n", Thousands(static_cast<double>(n)),
             Thousands(static_cast<double>(bytes)));
  table.Print();
  std::filesystem::remove_all(dir);
  return 0;
}
