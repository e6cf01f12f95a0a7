// The log on PostgreSQL (issue 17): appends with a synchronous standby against plain INSERTs of
// the same rows, and what the gap-free chain costs. Starts its own cluster with tools/pg-cluster
// (a primary and a synchronous standby under Patroni, strict mode) unless --store names one.
//
// For each cell (appenders x events a step), a fresh database:
//   log    N threads Append steps of E events (~300 bytes stored each) to PgEventLog: one head
//          row, the SHA-256 chain, group commit (every step queued while a group is written
//          joins the next one).
//   plain  N threads, a connection each, one transaction per step INSERTing the same E rows
//          (seq from a bigserial, stream id, version, the envelope's bytes) with unnest, no head
//          row and no chain; synchronous_commit as the cluster has it.

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <random>
#include <thread>

#include "events/envelope_codec.h"
#include "pglog/pg_arrays.h"
#include "pglog/pg_conn.h"
#include "pglog/pg_event_log.h"
#include "schema/event_type.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sync_log.h"

namespace marketsync::bench {
namespace {

constexpr size_t kPayloadBytes = 200;

std::string Payload(uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(kPayloadBytes, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Runs a command, its last line of output (tools/pg-cluster prints the connection string).
std::string LastLine(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) return {};
  std::string last, line;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    line = buf;
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (!line.empty()) last = line;
  }
  return ::pclose(p) == 0 ? last : std::string();
}

// Runs `work(thread, step)` on `threads` threads for `seconds`; completed steps per second.
template <typename Work>
double StepsPerSecond(int threads, double seconds, Work work) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> steps{0};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (uint64_t i = 0; !stop; ++i) {
        if (!work(t, i)) {
          std::fprintf(stderr, "a step failed\n");
          std::exit(1);
        }
        ++steps;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  return static_cast<double>(steps) / SecondsSince(start);
}

Step MakeStep(const std::string& stream, size_t events, const std::string& payload) {
  Step step;
  StreamAppend& sa = step.streams.emplace_back();
  sa.stream_id = stream;
  for (size_t i = 0; i < events; ++i) sa.events.push_back({static_cast<uint16_t>(EventType::kPageFailed), 1, payload});
  return step;
}

double LogEventsPerSecond(const std::string& conninfo, int appenders, size_t events, double seconds) {
  auto log = pglog::OpenPgEventLog(conninfo, SyncTypesOnly());
  if (!log.ok()) {
    std::fprintf(stderr, "open: %s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  const std::string payload = Payload(1);
  const double steps = StepsPerSecond(appenders, seconds, [&](int t, uint64_t) {
    return (*log)->Append(MakeStep("run-" + std::to_string(t), events, payload)).ok();
  });
  return steps * static_cast<double>(events);
}

double PlainEventsPerSecond(const std::string& conninfo, int appenders, size_t events, double seconds) {
  std::vector<std::unique_ptr<pglog::PgConn>> conns;
  for (int t = 0; t < appenders; ++t) conns.push_back(std::move(pglog::PgConn::Connect(conninfo)).value());
  if (!conns[0]->Exec("CREATE TABLE IF NOT EXISTS plain_events (seq bigserial PRIMARY KEY, stream_id text NOT NULL, "
                      "version bigint NOT NULL, envelope bytea NOT NULL, UNIQUE (stream_id, version))")
           .ok()) {
    std::exit(1);
  }
  // The same bytes the log stores: an envelope of the same payload, sealed once.
  Envelope e;
  e.stream_id = "run-0";
  e.seq = 1;
  e.stream_version = 1;
  e.type = static_cast<uint16_t>(EventType::kPageFailed);
  e.payload_version = 1;
  e.payload = Payload(1);
  std::string envelope;
  SealAndEncodeEnvelope(e, &envelope);
  const std::string rows_bytes = pglog::ByteaArray(std::vector<std::string>(events, envelope));
  const double steps = StepsPerSecond(appenders, seconds, [&](int t, uint64_t i) {
    pglog::PgConn& c = *conns[static_cast<size_t>(t)];
    std::vector<uint64_t> versions;
    for (size_t k = 0; k < events; ++k) versions.push_back(i * events + k + 1);
    const std::string stream = "run-" + std::to_string(t);
    return c.Exec("BEGIN").ok() &&
           c.Exec("INSERT INTO plain_events (stream_id, version, envelope) "
                  "SELECT $1, * FROM unnest($2::bigint[], $3::bytea[])",
                  {pglog::PgParam::Text(stream), pglog::PgParam::Text(pglog::IntArray(versions)),
                   pglog::PgParam::Text(rows_bytes)})
               .ok() &&
           c.Exec("COMMIT").ok();
  });
  return steps * static_cast<double>(events);
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  namespace b = marketsync::bench;
  CLI::App app{"Appends to the log on PostgreSQL with a synchronous standby, against plain INSERTs"};
  std::string store;
  double seconds = 3;
  std::vector<int> appenders{1, 8};
  std::vector<size_t> events{1, 10, 100};
  app.add_option("--store", store, "A PostgreSQL connection string (a superuser's); unset: start a cluster with tools/pg-cluster");
  app.add_option("--seconds", seconds, "Seconds per measurement")->capture_default_str();
  app.add_option("--appenders", appenders, "Appender threads to try")->capture_default_str();
  app.add_option("--events", events, "Events a step to try")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::string cluster_dir;
  const std::string tool = std::string(MARKETSYNC_SOURCE_DIR) + "/tools/pg-cluster";
  if (store.empty()) {
    cluster_dir = (std::filesystem::temp_directory_path() / "marketsync-bench-cluster").string();
    std::filesystem::remove_all(cluster_dir);
    store = b::LastLine(tool + " start " + cluster_dir);
    if (store.empty()) {
      std::fprintf(stderr, "tools/pg-cluster start failed (tools/install-deps installs Patroni and etcd)\n");
      return 1;
    }
  }
  auto admin = marketsync::pglog::PgConn::Connect(store);
  if (!admin.ok()) {
    std::fprintf(stderr, "%s\n", admin.status().ToString().c_str());
    return 1;
  }
  auto setting = (*admin)->Query("SELECT current_setting('synchronous_standby_names'), current_setting('synchronous_commit')");
  fmt::print("## The log on PostgreSQL: appends vs plain INSERTs ({} s a cell; synchronous_standby_names '{}', "
             "synchronous_commit {})\n\n",
             seconds, setting.ok() ? setting->rows[0][0].value_or("") : "?",
             setting.ok() ? setting->rows[0][1].value_or("") : "?");
  b::Table table({"appenders", "events a step", "log events/s", "plain INSERT events/s", "log / plain"});
  int cell = 0;
  for (int a : appenders) {
    for (size_t e : events) {
      const std::string log_db = "bench_log_" + std::to_string(cell), plain_db = "bench_plain_" + std::to_string(cell);
      ++cell;
      (void)(*admin)->Exec("CREATE DATABASE " + log_db);
      (void)(*admin)->Exec("CREATE DATABASE " + plain_db);
      const double log = b::LogEventsPerSecond(store + " dbname=" + log_db, a, e, seconds);
      const double plain = b::PlainEventsPerSecond(store + " dbname=" + plain_db, a, e, seconds);
      table.Add({std::to_string(a), std::to_string(e), b::Thousands(log), b::Thousands(plain),
                 fmt::format("{:.2f}x", log / plain)});
    }
  }
  table.Print();
  if (!cluster_dir.empty()) {
    admin->reset();
    (void)std::system((tool + " stop " + cluster_dir + " > /dev/null").c_str());
    std::filesystem::remove_all(cluster_dir);
  }
  return 0;
}
