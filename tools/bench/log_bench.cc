// log_bench: the event log against plain RocksDB doing the same work on the same machine.
//
//   log_bench [--seconds S] [--scan-events N] [--dir DIR]
//
// Appends: steps of 1, 10 and 100 events of about 300 bytes, from 1, 2 and 8 appenders, each step
// one synced write; plain RocksDB writes the same batches (same keys, same value sizes) with
// WriteBatch + sync from the same number of threads. Scan: decode every envelope of an N-event
// log against a raw RocksDB iterator over the same keys.

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "events/envelope_codec.h"
#include "events/event_log.h"
#include "schema/event_type.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sync_log.h"

namespace marketsync::bench {
namespace {

constexpr size_t kPayloadBytes = 200;  // with the envelope around it, about 300 bytes stored

struct Figures {
  double events_per_s = 0;
  double steps_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
};

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Runs `threads` workers calling step() until `seconds` pass; each call is one step.
template <typename StepFn>
Figures Drive(int threads, int events_per_step, double seconds, StepFn step) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(threads);
  std::vector<std::thread> workers;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      while (!stop.load(std::memory_order_relaxed)) {
        const auto s = Clock::now();
        step(t);
        latencies[t].push_back(std::chrono::duration<double, std::micro>(Clock::now() - s).count());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& w : workers) w.join();
  const double elapsed = SecondsSince(start);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  Figures f;
  f.steps_per_s = all.size() / elapsed;
  f.events_per_s = f.steps_per_s * events_per_step;
  f.p50_us = Percentile(all, 50);
  f.p99_us = Percentile(all, 99);
  return f;
}

Figures BenchLog(const std::string& dir, int threads, int events_per_step, double seconds) {
  std::filesystem::remove_all(dir);
  auto log = EventLog::Open(dir, bench::SyncTypesOnly());
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  const std::string payload = RandomBytes(kPayloadBytes, 1);
  auto f = Drive(threads, events_per_step, seconds, [&](int t) {
    Step step;
    step.correlation_id = "bench-cmd";
    StreamAppend& sa = step.streams.emplace_back();
    sa.stream_id = "run-bench-" + std::to_string(t);
    for (int i = 0; i < events_per_step; ++i) {
      sa.events.push_back({static_cast<uint16_t>(EventType::kPageFailed), 1, payload});
    }
    auto r = (*log)->Append(std::move(step));
    if (!r.ok()) throw std::runtime_error(r.status().ToString());
  });
  log->reset();
  std::filesystem::remove_all(dir);
  return f;
}

size_t EncodedEventBytes() {
  Envelope e;
  e.seq = 1;
  e.stream_id = "run-bench-0";
  e.stream_version = 1;
  e.type = static_cast<uint16_t>(EventType::kPageFailed);
  e.payload_version = 1;
  e.correlation_id = "bench-cmd";
  e.payload = RandomBytes(kPayloadBytes, 1);
  std::string out;
  SealAndEncodeEnvelope(e, &out);
  return out.size();
}

Figures BenchPlainRocks(const std::string& dir, int threads, int events_per_step, double seconds) {
  std::filesystem::remove_all(dir);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, &raw);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string value = RandomBytes(EncodedEventBytes(), 2);
  std::atomic<uint64_t> next{1};
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto f = Drive(threads, events_per_step, seconds, [&](int) {
    rocksdb::WriteBatch batch;
    const uint64_t first = next.fetch_add(events_per_step);
    for (int i = 0; i < events_per_step; ++i) batch.Put(EncodeSeqKey(first + i), value);
    rocksdb::Status ws = db->Write(wo, &batch);
    if (!ws.ok()) throw std::runtime_error(ws.ToString());
  });
  db->Close().PermitUncheckedError();
  db.reset();
  std::filesystem::remove_all(dir);
  return f;
}

// The round with the median events/s.
Figures Median(std::vector<Figures> rounds) {
  std::sort(rounds.begin(), rounds.end(),
            [](const Figures& a, const Figures& b) { return a.events_per_s < b.events_per_s; });
  return rounds[rounds.size() / 2];
}

void AppendBenchmarks(const std::string& base, double seconds, int rounds,
                      const std::vector<int>& step_sizes, const std::vector<int>& appenders,
                      bool log_only) {
  fmt::print("## Appends, sync=true, ~{} bytes per event, median of {} rounds of {:.1f} s per cell\n\n",
             EncodedEventBytes(), rounds, seconds);
  Table table({"events/step", "appenders", "log events/s", "log steps/s", "log p50 µs", "log p99 µs",
               "RocksDB events/s", "RocksDB p50 µs", "RocksDB p99 µs", "ratio"});
  for (int events : step_sizes) {
    for (int threads : appenders) {
      // Rounds alternate between the two, so drift in the machine hits both alike.
      std::vector<Figures> plain_rounds, log_rounds;
      for (int r = 0; r < rounds; ++r) {
        plain_rounds.push_back(log_only ? Figures{1, 1, 0, 0}
                                        : BenchPlainRocks(base + "/plain", threads, events, seconds));
        log_rounds.push_back(BenchLog(base + "/log", threads, events, seconds));
      }
      const Figures plain = Median(plain_rounds);
      const Figures log = Median(log_rounds);
      table.Add({std::to_string(events), std::to_string(threads), Thousands(log.events_per_s),
                 Thousands(log.steps_per_s), fmt::format("{:.0f}", log.p50_us),
                 fmt::format("{:.0f}", log.p99_us), Thousands(plain.events_per_s),
                 fmt::format("{:.0f}", plain.p50_us), fmt::format("{:.0f}", plain.p99_us),
                 fmt::format("{:.2f}x", log.events_per_s / plain.events_per_s)});
    }
  }
  table.Print();
}

void ScanBenchmark(const std::string& base, uint64_t n) {
  const std::string dir = base + "/scan";
  std::filesystem::remove_all(dir);
  {
    auto log = EventLog::Open(dir, bench::SyncTypesOnly());
    if (!log.ok()) throw std::runtime_error(log.status().ToString());
    const std::string payload = RandomBytes(kPayloadBytes, 3);
    for (uint64_t written = 0; written < n; written += 1000) {
      Step step;
      StreamAppend& sa = step.streams.emplace_back();
      sa.stream_id = "run-scan-" + std::to_string(written / 100000);
      for (int i = 0; i < 1000; ++i) sa.events.push_back({static_cast<uint16_t>(EventType::kPageFailed), 1, payload});
      auto r = (*log)->Append(std::move(step));
      if (!r.ok()) throw std::runtime_error(r.status().ToString());
    }
  }
  EventLogOptions ro = bench::SyncTypesOnly();
  ro.mode = EventLogOptions::Mode::kReadOnly;
  auto log = EventLog::Open(dir, std::move(ro));
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  // The raw side: the same database opened read-only by RocksDB itself, same read options.
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<std::string> names;
  rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).PermitUncheckedError();
  for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_ptr = nullptr;
  rocksdb::Status os = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, families, &handles, &raw_ptr);
  if (!os.ok()) throw std::runtime_error(os.ToString());
  std::unique_ptr<rocksdb::DB> raw_db(raw_ptr);
  rocksdb::ColumnFamilyHandle* events_cf = nullptr;
  for (auto* h : handles) {
    if (h->GetName() == "events") events_cf = h;
  }
  rocksdb::ReadOptions raw_options;
  raw_options.readahead_size = 2 << 20;  // as EventLog::Read

  double best_decode = 1e9, best_raw = 1e9;
  uint64_t decoded = 0, raw_seen = 0, checksum = 0;
  for (int round = 0; round < 5; ++round) {
    auto start = Clock::now();
    decoded = 0;
    for (auto it = (*log)->Read(1); it->Valid(); it->Next()) {
      checksum += it->envelope().stream_version;
      ++decoded;
    }
    best_decode = std::min(best_decode, SecondsSince(start));
    start = Clock::now();
    raw_seen = 0;
    std::unique_ptr<rocksdb::Iterator> it(raw_db->NewIterator(raw_options, events_cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      checksum += it->value().size();
      ++raw_seen;
    }
    best_raw = std::min(best_raw, SecondsSince(start));
  }
  for (auto* h : handles) raw_db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  raw_db.reset();
  fmt::print("## Scan of {} events (best of 5)\n\n", Thousands(static_cast<double>(n)));
  Table table({"scan", "events", "seconds", "events/s", "ratio to raw"});
  table.Add({"scan and decode (EventLog::Read)", Thousands(decoded), fmt::format("{:.3f}", best_decode),
             Thousands(decoded / best_decode), fmt::format("{:.2f}x", best_raw / best_decode)});
  table.Add({"raw RocksDB iterator", Thousands(raw_seen), fmt::format("{:.3f}", best_raw),
             Thousands(raw_seen / best_raw), "1.00x"});
  table.Print();
  if (checksum == 42) fmt::print(" ");  // keeps the loops from being optimised away
  log->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  CLI::App app{"Event log benchmarks: the log against plain RocksDB on the same machine."};
  double seconds = 2;
  int rounds = 3;
  uint64_t scan_events = 1'000'000;
  std::string dir = (std::filesystem::temp_directory_path() / "marketsync-log-bench").string();
  bool skip_appends = false;
  bool log_only = false;
  std::vector<int> step_sizes{1, 10, 100};
  std::vector<int> appenders{1, 2, 8};
  app.add_option("--seconds", seconds, "How long each append cell runs")->check(CLI::PositiveNumber);
  app.add_option("--rounds", rounds, "Rounds per append cell; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--scan-events", scan_events, "Events in the scan benchmark's log (0 skips it)");
  app.add_option("--dir", dir, "Scratch directory (removed afterwards)");
  app.add_flag("--skip-appends", skip_appends, "Run only the scan benchmark");
  app.add_option("--step-sizes", step_sizes, "Events per step to measure")->delimiter(',');
  app.add_option("--appenders", appenders, "Concurrent appender counts to measure")->delimiter(',');
  app.add_flag("--log-only", log_only, "Skip the plain RocksDB baseline (for profiling)");
  CLI11_PARSE(app, argc, argv);
  try {
    std::filesystem::create_directories(dir);
    if (!skip_appends) marketsync::bench::AppendBenchmarks(dir, seconds, rounds, step_sizes, appenders, log_only);
    if (scan_events > 0) marketsync::bench::ScanBenchmark(dir, scan_events);
    std::filesystem::remove_all(dir);
  } catch (const std::exception& e) {
    fmt::print(stderr, "log_bench: {}\n", e.what());
    return 1;
  }
  return 0;
}
