// http_bench: GET /api/v1/emag/products/history?limit=50 with 100,000 runs stored, over
// loopback with keep-alive, against a trivial cpp-httplib handler configured the same way,
// both driven by wrk (Debian's package) in interleaved rounds.
//
//   http_bench [--runs N] [--seconds S] [--rounds R] [--connections C]

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <regex>
#include <spdlog/spdlog.h>
#include <thread>

#include "engine/sync_engine.h"
#include "http/metrics.h"
#include "http/server.h"
#include "projections/all.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/sync_log.h"
#include "tools/bench/history_fill.h"

namespace marketsync::bench {
namespace {

struct WrkResult {
  double rps = 0;
  double p50_ms = 0;
  double p99_ms = 0;
};

double ToMs(double v, const std::string& unit) {
  if (unit == "us") return v / 1000;
  if (unit == "s") return v * 1000;
  return v;
}

WrkResult RunWrk(const std::string& url, int seconds, int connections) {
  const std::string cmd = fmt::format("wrk -t2 -c{} -d{}s --latency '{}' 2>&1", connections, seconds, url);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run wrk");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  if (::pclose(p) != 0) throw std::runtime_error("wrk failed (is it installed? tools/install-deps adds it):\n" + out);
  WrkResult r;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) r.rps = std::stod(m[1]);
  if (std::regex_search(out, m, std::regex(R"(\s50%\s+([0-9.]+)(us|ms|s))"))) r.p50_ms = ToMs(std::stod(m[1]), m[2]);
  if (std::regex_search(out, m, std::regex(R"(\s99%\s+([0-9.]+)(us|ms|s))"))) r.p99_ms = ToMs(std::stod(m[1]), m[2]);
  if (out.find("Non-2xx") != std::string::npos) throw std::runtime_error("wrk saw errors:\n" + out);
  return r;
}

}  // namespace
}  // namespace marketsync::bench

int main(int argc, char** argv) {
  using namespace marketsync;
  using namespace marketsync::bench;
  CLI::App app{"http_bench: history over HTTP vs a trivial cpp-httplib handler, with wrk"};
  uint64_t runs = 100'000;
  int seconds = 5, rounds = 3, connections = 8;
  std::string dir = "/tmp/marketsync-http-bench";
  app.add_option("--runs", runs, "Runs stored")->capture_default_str();
  app.add_option("--seconds", seconds, "Seconds per wrk round")->capture_default_str();
  app.add_option("--rounds", rounds, "Interleaved rounds per target")->capture_default_str();
  app.add_option("--connections", connections, "Keep-alive connections")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  std::filesystem::remove_all(dir);

  EventLogOptions o = SyncLogOptions();
  auto log = EventLog::Open(dir, std::move(o));
  if (!log.ok()) return fmt::print(stderr, "{}\n", log.status().ToString()), 1;
  FillRuns(**log, runs);
  EngineOptions eo;
  eo.accounts.push_back({"main", "u", "p", "http://127.0.0.1:9/api-3"});  // never called
  eo.accounts.push_back({"fbe", "u", "p", "http://127.0.0.1:9/api-3"});
  auto engine = SyncEngine::Create(**log, eo);
  if (!engine.ok() || !(*engine)->Start().ok()) return 1;
  http::Metrics metrics;
  http::ServerOptions so;
  so.port = 0;
  so.threads = 8;
  so.max_sse_clients = 2;
  auto server = http::Server::Create(**log, **engine, metrics, so);
  if (!server.ok() || !(*server)->Start().ok()) return 1;
  spdlog::set_level(spdlog::level::warn);  // no request log lines during the runs

  // The trivial handler: the same library, pool size, TCP_NODELAY and keep-alive limit.
  httplib::Server trivial;
  trivial.set_tcp_nodelay(true);
  trivial.new_task_queue = [] { return new httplib::ThreadPool(8); };
  trivial.set_keep_alive_max_count(100000);
  trivial.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("{\"ok\":true}", "application/json"); });
  const int trivial_port = trivial.bind_to_any_port("127.0.0.1");
  std::thread t([&] { trivial.listen_after_bind(); });
  while (!trivial.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  const std::string history_url = fmt::format("http://127.0.0.1:{}/api/v1/emag/products/history?limit=50&account_type=main", (*server)->port());
  const std::string trivial_url = fmt::format("http://127.0.0.1:{}/hello", trivial_port);
  std::vector<double> h_rps, h_p50, h_p99, t_rps, t_p50, t_p99;
  for (int i = 0; i < rounds; ++i) {
    WrkResult tr = RunWrk(trivial_url, seconds, connections);
    WrkResult hr = RunWrk(history_url, seconds, connections);
    t_rps.push_back(tr.rps), t_p50.push_back(tr.p50_ms), t_p99.push_back(tr.p99_ms);
    h_rps.push_back(hr.rps), h_p50.push_back(hr.p50_ms), h_p99.push_back(hr.p99_ms);
  }
  trivial.stop();
  t.join();
  (*server)->Stop();
  const double trps = Percentile(t_rps, 50), hrps = Percentile(h_rps, 50);
  fmt::print("## HTTP: history?limit=50 with {} runs, wrk -t2 -c{} keep-alive, median of {} rounds of {} s\n\n",
             Thousands(static_cast<double>(runs)), connections, rounds, seconds);
  Table table({"target", "requests/s", "p50 ms", "p99 ms", "vs trivial"});
  table.Add({"trivial cpp-httplib handler", Thousands(trps), fmt::format("{:.3f}", Percentile(t_p50, 50)),
             fmt::format("{:.3f}", Percentile(t_p99, 50)), "1.00x"});
  table.Add({"GET history?limit=50&account_type=main", Thousands(hrps), fmt::format("{:.3f}", Percentile(h_p50, 50)),
             fmt::format("{:.3f}", Percentile(h_p99, 50)), fmt::format("{:.2f}x", hrps / trps)});
  table.Print();
  std::filesystem::remove_all(dir);
  return 0;
}
