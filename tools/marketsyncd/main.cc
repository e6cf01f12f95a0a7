// marketsyncd: the marketsync server. Syncs eMAG offers into a durable event log and serves the
// HTTP API (docs/API.md). `--demo` runs it against the embedded eMAG simulator.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <spdlog/formatter.h>
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "http/metrics.h"
#include "http/server.h"
#include "projections/all.h"
#include "tools/emag-sim/simulator.h"

namespace ms = marketsync;

namespace {

std::string Env(const std::string& name, const std::string& fallback = "") {
  const char* v = std::getenv(name.c_str());
  return v != nullptr ? std::string(v) : fallback;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(c == '-' ? '_' : std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One JSON object per line: {"time", "level", "msg"}.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char when[32];
    std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
    std::string text;
    for (char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"': text += "\\\""; break;
        case '\\': text += "\\\\"; break;
        case '\n': text += "\\n"; break;
        case '\t': text += "\\t"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            text += fmt::format("\\u{:04x}", c);
          } else {
            text.push_back(c);
          }
      }
    }
    fmt::format_to(std::back_inserter(dest), "{{\"time\":\"{}.{:03d}Z\",\"level\":\"{}\",\"msg\":\"{}\"}}\n", when,
                   static_cast<int>((us % 1'000'000) / 1000), spdlog::level::to_string_view(msg.level), text);
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

bool SplitListen(const std::string& listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  try {
    size_t used = 0;
    port = std::stoi(listen.substr(colon + 1), &used);
    return used == listen.size() - colon - 1 && port >= 0 && port <= 65535;
  } catch (...) {
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "marketsyncd: syncs eMAG Marketplace offers into a durable event log and serves the HTTP API.\n"
      "Accounts come from the environment: EMAG_ACCOUNTS (default main,fbe) and, for each NAME,\n"
      "EMAG_<NAME>_USERNAME, EMAG_<NAME>_PASSWORD, EMAG_<NAME>_BASE_URL (default\n"
      "https://marketplace-api.emag.ro/api-3). Tokens: MARKETSYNC_OPERATOR_TOKEN (commands and reads),\n"
      "MARKETSYNC_AUDITOR_TOKEN (reads). Without tokens it only listens on loopback.\n"
      "--demo starts the embedded eMAG simulator with accounts main and fbe: no account needed.\n"
      "Stops on SIGTERM/SIGINT: runs stop at a page boundary, are recorded as interrupted and resume\n"
      "at the next start. API: docs/API.md."};
  std::string data = Env("MARKETSYNC_DATA", "./data");
  std::string listen = Env("MARKETSYNC_LISTEN", "127.0.0.1:8080");
  std::string accounts_env = Env("EMAG_ACCOUNTS", "main,fbe");
  std::string operator_token = Env("MARKETSYNC_OPERATOR_TOKEN");
  std::string auditor_token = Env("MARKETSYNC_AUDITOR_TOKEN");
  uint32_t schedule_minutes = static_cast<uint32_t>(std::atoi(Env("MARKETSYNC_SCHEDULE_MINUTES", "0").c_str()));
  uint32_t deadline_minutes = 30;
  uint32_t threads = 16;
  uint32_t page_window = 16;
  std::string log_format = "text";
  bool demo = false;
  uint32_t demo_offers = 1275;
  uint32_t demo_latency_ms = 20;
  std::string console_dir = Env("MARKETSYNC_CONSOLE_DIR");
  app.add_option("--data", data, "Database directory (env MARKETSYNC_DATA)")->capture_default_str();
  app.add_option("--listen", listen, "HOST:PORT to serve on; port 0 picks a free one (env MARKETSYNC_LISTEN)")->capture_default_str();
  app.add_option("--accounts", accounts_env, "Account names, comma separated (env EMAG_ACCOUNTS)")->capture_default_str();
  app.add_option("--operator-token", operator_token, "Bearer token for commands (prefer env MARKETSYNC_OPERATOR_TOKEN: flags show in ps)");
  app.add_option("--auditor-token", auditor_token, "Bearer token for reads (prefer env MARKETSYNC_AUDITOR_TOKEN)");
  app.add_option("--schedule-minutes", schedule_minutes, "Sync every account every N minutes, with a jittered offset; 0 = off (env MARKETSYNC_SCHEDULE_MINUTES)")->capture_default_str();
  app.add_option("--run-deadline-minutes", deadline_minutes, "A run that takes longer fails")->capture_default_str();
  app.add_option("--page-window", page_window, "Page requests in flight per run")->capture_default_str();
  app.add_option("--threads", threads, "HTTP worker threads")->capture_default_str();
  app.add_option("--log-format", log_format, "text or json (one JSON object per line)")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  app.add_option("--console-dir", console_dir, "Directory of the web console's files, served at / (env MARKETSYNC_CONSOLE_DIR)");
  app.add_flag("--demo", demo, "Run against the embedded eMAG simulator with demo accounts main and fbe");
  app.add_option("--demo-offers", demo_offers, "Offers per demo account")->capture_default_str();
  app.add_option("--demo-latency-ms", demo_latency_ms, "Latency the demo simulator adds to each answer")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (log_format == "json") spdlog::set_formatter(std::make_unique<JsonFormatter>());

  std::string host;
  int port = 0;
  if (!SplitListen(listen, host, port)) {
    std::cerr << "marketsyncd: --listen must be HOST:PORT, not " << listen << "\n";
    return 2;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts
  ::signal(SIGPIPE, SIG_IGN);

  // Accounts: the demo simulator's, or the environment's.
  ms::EngineOptions engine_options;
  std::unique_ptr<ms::sim::Simulator> simulator;
  if (demo) {
    ms::sim::SimulatorOptions so;
    so.offers = demo_offers;
    so.latency_ms = demo_latency_ms;
    so.log_requests = false;
    auto sim = ms::sim::Simulator::Start(so, "127.0.0.1", 0);
    if (!sim.ok()) {
      std::cerr << "marketsyncd: the demo simulator did not start: " << sim.status().ToString() << "\n";
      return 1;
    }
    simulator = std::move(sim).value();
    for (const auto& a : so.accounts) {
      engine_options.accounts.push_back({a.name, a.username, a.password, simulator->BaseUrl()});
    }
    spdlog::info("demo: eMAG simulator at {} with accounts main and fbe ({} offers each)", simulator->BaseUrl(), demo_offers);
  } else {
    std::stringstream names(accounts_env);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name.empty()) continue;
      const std::string prefix = "EMAG_" + Upper(name) + "_";
      ms::emag::Account a;
      a.name = name;
      a.username = Env(prefix + "USERNAME");
      a.password = Env(prefix + "PASSWORD");
      a.base_url = Env(prefix + "BASE_URL", a.base_url);
      if (a.username.empty() || a.password.empty()) {
        std::cerr << "marketsyncd: account " << name << " needs " << prefix << "USERNAME and " << prefix
                  << "PASSWORD (or run with --demo)\n";
        return 2;
      }
      engine_options.accounts.push_back(std::move(a));
    }
  }
  engine_options.run_deadline = std::chrono::minutes(deadline_minutes);
  engine_options.schedule_interval = std::chrono::minutes(schedule_minutes);
  engine_options.page_window = page_window;

  ms::http::Metrics metrics;
  metrics.Describe("marketsync_append_seconds", "histogram", "Synced write time of each group commit");
  metrics.Describe("marketsync_group_commit_steps", "histogram", "Steps per group commit");
  ms::EventLogOptions log_options;
  log_options.projections = ms::MakeAllProjections();
  log_options.extra_column_families = ms::SyncEngine::ColumnFamilies();
  log_options.on_group_commit = [&metrics](size_t steps, std::chrono::microseconds t) {
    static const std::vector<double> kSteps = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    metrics.Observe("marketsync_append_seconds", "", static_cast<double>(t.count()) / 1e6, ms::http::LatencyBuckets());
    metrics.Observe("marketsync_group_commit_steps", "", static_cast<double>(steps), kSteps);
  };
  auto log = ms::EventLog::Open(data, std::move(log_options));
  if (!log.ok()) {
    std::cerr << "marketsyncd: " << log.status().ToString() << "\n";
    return 1;
  }
  auto engine = ms::SyncEngine::Create(**log, engine_options);
  if (!engine.ok()) {
    std::cerr << "marketsyncd: " << engine.status().ToString() << "\n";
    return 2;
  }

  ms::http::ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.operator_token = operator_token;
  server_options.auditor_token = auditor_token;
  server_options.threads = threads;
  server_options.max_sse_clients = std::max<size_t>(1, threads / 2);
  server_options.console_dir = console_dir;
  auto server = ms::http::Server::Create(**log, **engine, metrics, server_options);
  if (!server.ok()) {
    std::cerr << "marketsyncd: " << server.status().message() << "\n";
    return 2;
  }
  // Serve first (readyz says 503 until recovery is done), then recover.
  if (auto s = (*server)->Start(); !s.ok()) {
    std::cerr << "marketsyncd: " << s.ToString() << "\n";
    return 1;
  }
  const std::string url = fmt::format("http://{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host,
                                      (*server)->port());
  spdlog::info("listening on {} (database {}, {} accounts{})", url, data, engine_options.accounts.size(),
               operator_token.empty() && auditor_token.empty() ? ", no tokens: loopback only" : "");
  if (auto s = (*engine)->Start(); !s.ok()) {
    spdlog::error("start-up recovery failed: {}", s.ToString());
    (*server)->Stop();
    return 1;
  }
  spdlog::info("ready");
  if (demo) {
    std::cout << "\nmarketsync demo is running.\n"
              << "  Open:     " << url << "/\n"
              << "  Sync:     curl -X POST -H 'Content-Type: application/json' -d '{\"account_type\":\"main\"}' "
              << url << "/api/v1/emag/products/sync\n"
              << "  Status:   curl " << url << "/api/v1/emag/products/status\n"
              << "  History:  curl " << url << "/api/v1/emag/products/history\n"
              << "Stop with Ctrl-C.\n"
              << std::endl;
  }

  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("stopping on signal {}: runs stop at a page boundary", sig);
  (*server)->Drain();
  (*engine)->Shutdown();
  (*server)->Stop();
  engine->reset();
  if (simulator) simulator->Stop();
  spdlog::info("stopped");
  return 0;
}
