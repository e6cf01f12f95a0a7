#pragma once

// What the engine benches share: emag-sim in a process of its own (so this process's threads
// and memory are the engine's), an engine on a fresh log as marketsyncd opens it, a sync to its
// end, and the peak RSS.

#include <malloc.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <httplib.h>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/sync_engine.h"
#include "pglog/pg_conn.h"
#include "pglog/store.h"
#include "projections/all.h"

namespace marketsync::bench {

using namespace std::chrono_literals;

// emag-sim as a child process.
class SimProcess {
 public:
  SimProcess(const std::string& binary, std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv{const_cast<char*>(binary.c_str())};
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    const size_t at = line.find("http://");
    const size_t end = line.find(' ', at);
    if (at == std::string::npos) throw std::runtime_error("emag-sim did not start: " + line);
    base_url_ = line.substr(at, end - at);
  }
  ~SimProcess() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  const std::string& base_url() const { return base_url_; }

  struct Stats {
    uint64_t requests = 0;      // answered (abandoned ones included)
    uint64_t rate_limited = 0;  // answered 429
  };
  // What the simulator saw of `account`.
  Stats AccountStats(const std::string& account) const {
    const size_t host_end = base_url_.find('/', 7);
    httplib::Client c(base_url_.substr(0, host_end));
    auto res = c.Get("/_sim/accounts/" + account + "/stats");
    if (!res || res->status != 200) throw std::runtime_error("emag-sim stats for " + account + ": no answer");
    const auto o = boost::json::parse(res->body).as_object();
    return {o.at("requests").to_number<uint64_t>(), o.at("rate_limited").to_number<uint64_t>()};
  }
  uint64_t Requests(const std::string& account) const { return AccountStats(account).requests; }

 private:
  pid_t pid_ = -1;
  std::string base_url_;
};

inline EngineOptions Options(const std::string& url, std::vector<std::string> accounts, bool limits, uint32_t window) {
  EngineOptions o;
  for (const auto& a : accounts) o.accounts.push_back({a, "demo-" + a, "demo-" + a + "-secret", url});
  if (!limits) o.client.rate_limit = emag::RateLimit{1'000'000, 1'000'000'000, 0ms};
  o.page_window = window;
  return o;
}

struct Opened {
  std::unique_ptr<EventLog> log;
  std::unique_ptr<SyncEngine> engine;
};

// As marketsyncd runs: every projection folded in each step's batch (--no-projections: none).
inline bool g_projections = true;

// --store: a PostgreSQL connection string; the log then goes to a fresh database of that
// server each time (a superuser's connection), not to the scratch directory.
inline std::string g_store;

// Where the next log goes: the scratch directory emptied, or a new PostgreSQL database.
inline std::string FreshStore(const std::string& scratch) {
  if (g_store.empty()) {
    std::filesystem::remove_all(scratch);
    return scratch;
  }
  static int n = 0;
  const std::string db = "engine_bench_" + std::to_string(::getpid()) + "_" + std::to_string(n++);
  auto admin = pglog::PgConn::Connect(g_store);
  if (!admin.ok()) throw std::runtime_error(admin.status().ToString());
  if (Status s = (*admin)->Exec("CREATE DATABASE " + db); !s.ok()) throw std::runtime_error(s.ToString());
  return g_store + " dbname=" + db;
}

inline Opened Open(const std::string& store, EngineOptions options) {
  EventLogOptions lo = SyncLogOptions();
  lo.projections.clear();  // registered below when the bench asks for them
  if (g_projections) lo.projections = MakeAllProjections();
  auto log = pglog::OpenStore(store, std::move(lo));
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  auto engine = SyncEngine::Create(**log, std::move(options));
  if (!engine.ok()) throw std::runtime_error(engine.status().ToString());
  if (Status s = (*engine)->Start(); !s.ok()) throw std::runtime_error(s.ToString());
  return {std::move(log).value(), std::move(engine).value()};
}

inline std::vector<RunRecord> SyncAndWait(SyncEngine& engine, const std::string& account) {
  StartSyncRequest r;
  r.account_type = account;
  r.include_inactive = true;
  r.triggered_by = "bench";
  auto started = engine.StartSync(r);
  if (!started.ok()) throw std::runtime_error(started.status().ToString());
  std::vector<RunRecord> out;
  for (const auto& run : started->runs) {
    auto rec = engine.WaitForRun(run.run_id, 3600s);
    if (!rec.ok() || rec->status != kRunCompleted) throw std::runtime_error("run " + run.run_id + " did not complete");
    out.push_back(*rec);
  }
  return out;
}

// Returns freed heap to the system first, so the peak is this section's, not the last one's.
inline void ResetPeakRss() {
  malloc_trim(0);
  std::ofstream("/proc/self/clear_refs") << "5";
}

inline double PeakRssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmHWM:")) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

}  // namespace marketsync::bench
