// marketsyncd: the marketsync server. Syncs eMAG offers into a durable event log and serves the
// HTTP API (docs/API.md). `--demo` runs it against the embedded eMAG simulator.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include <fmt/format.h>

#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "http/metrics.h"
#include "http/server.h"
#include "pglog/store.h"
#include "projections/all.h"
#include "tools/marketsyncd/config.h"
#include "tools/marketsyncd/demo.h"
#include "tools/marketsyncd/json_log.h"

namespace ms = marketsync;
namespace msd = marketsync::marketsyncd;

namespace {

// An exit code and what to print first.
struct Exit {
  int code = 0;
  std::string message;
};

// The log, with group commit timings in the metrics.
ms::Result<std::unique_ptr<ms::EventLog>> OpenLog(const std::string& store, ms::http::Metrics& metrics) {
  metrics.Describe("marketsync_append_seconds", "histogram", "Synced write time of each group commit");
  metrics.Describe("marketsync_group_commit_steps", "histogram", "Steps per group commit");
  ms::EventLogOptions log_options = ms::SyncLogOptions();
  log_options.on_group_commit = [&metrics](size_t steps, std::chrono::microseconds t) {
    static const std::vector<double> kSteps = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
    metrics.Observe("marketsync_append_seconds", "", static_cast<double>(t.count()) / 1e6, ms::http::LatencyBuckets());
    metrics.Observe("marketsync_group_commit_steps", "", static_cast<double>(steps), kSteps);
  };
  // RocksDB's warnings and errors go to the server log, not to a LOG file on the data disk.
  log_options.info_log = [](bool error, std::string_view line) {
    if (error) {
      spdlog::error("rocksdb: {}", line);
    } else {
      spdlog::warn("rocksdb: {}", line);
    }
  };
  log_options.on_fail_stop = [](const ms::Status& failure) {
    spdlog::critical("the event log stopped writing: {}. /readyz answers 503 and commands 503 "
                     "(log_fail_stopped) until marketsyncd is restarted; queries keep working.",
                     failure.message());
  };
  return ms::pglog::OpenStore(store, std::move(log_options));
}

// The engine's settings from the command line (the accounts are set apart).
void SetEngineOptions(const msd::Config& c, const msd::SecretKeys& keys, ms::EngineOptions& o) {
  o.run_deadline = std::chrono::minutes(c.deadline_minutes);
  o.schedule_interval = std::chrono::minutes(c.schedule_minutes);
  o.page_window = c.page_window;
  o.max_runs_in_flight = c.max_runs;
  o.node_id = c.node_id;
  // Several nodes share a log only on PostgreSQL; RocksDB is one process's alone.
  if (ms::pglog::IsPostgresStore(c.store)) o.lease_ttl = std::chrono::seconds(c.lease_ttl_s);
  o.client.ca_file = c.ca_file;
  o.secret_key = keys.current;
  o.previous_secret_key = keys.previous;
}

void PrintDemoHelp(const std::string& url) {
  std::cout << "\nmarketsync demo is running.\n"
            << "  Open:     " << url << "/\n"
            << "  Sync:     curl -X POST -H 'Content-Type: application/json' -d '{\"account_type\":\"main\"}' "
            << url << "/api/v1/emag/products/sync\n"
            << "  Status:   curl " << url << "/api/v1/emag/products/status\n"
            << "  History:  curl " << url << "/api/v1/emag/products/history\n"
            << "Stop with Ctrl-C.\n"
            << std::endl;
}

// Serves until SIGINT or SIGTERM (blocked in `signals`), then stops at a page boundary.
Exit Serve(const msd::Config& c, const std::string& host, int port, ms::EngineOptions engine_options,
           const sigset_t& signals) {
  ms::http::ServerOptions server_options;
  server_options.host = host;
  server_options.port = port;
  server_options.operator_token = c.operator_token;
  server_options.auditor_token = c.auditor_token;
  server_options.threads = c.threads;
  server_options.max_connections = std::max<size_t>(c.max_connections, c.threads);
  server_options.max_sse_clients = std::max<size_t>(1, c.threads / 2);
  server_options.console_dir = c.console_dir;
  server_options.tls_cert_file = c.tls_cert;
  server_options.tls_key_file = c.tls_key;
  server_options.allow_plain_http = c.allow_plain_http;
  // Options first: a refused configuration creates no database.
  if (auto s = ms::http::CheckServerOptions(server_options); !s.ok()) return {2, s.message()};
  ms::http::Metrics metrics;
  const std::string store = c.store.empty() ? c.data : c.store;
  auto log = OpenLog(store, metrics);
  if (!log.ok()) return {1, log.status().ToString()};
  auto engine = ms::SyncEngine::Create(**log, engine_options);
  if (!engine.ok()) return {2, engine.status().ToString()};
  auto server = ms::http::Server::Create(**log, **engine, metrics, server_options);
  if (!server.ok()) return {2, server.status().message()};
  // Serve first (readyz says 503 until recovery is done), then recover.
  if (auto s = (*server)->Start(); !s.ok()) return {1, s.ToString()};
  const std::string url = fmt::format("{}://{}:{}", c.tls_cert.empty() ? "http" : "https",
                                      host.find(':') != std::string::npos ? "[" + host + "]" : host, (*server)->port());
  spdlog::info("listening on {} (database {}, {} accounts{})", url, ms::pglog::DescribeStore(store),
               engine_options.accounts.size(),
               c.operator_token.empty() && c.auditor_token.empty() ? ", no tokens: loopback only" : "");
  if (auto s = (*engine)->Start(); !s.ok()) {
    spdlog::error("start-up failed: {}", s.ToString());
    (*server)->Stop();
    return {1, ""};
  }
  spdlog::info("ready");
  if (c.demo) PrintDemoHelp(url);
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("stopping on signal {}: runs stop at a page boundary", sig);
  (*server)->Drain();
  (*engine)->Shutdown();
  (*server)->Stop();
  engine->reset();
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "marketsyncd: syncs eMAG Marketplace offers into a durable event log and serves the HTTP API.\n"
      "Accounts come from the environment: EMAG_ACCOUNTS (default main,fbe) and, for each NAME,\n"
      "EMAG_<NAME>_USERNAME, EMAG_<NAME>_PASSWORD, EMAG_<NAME>_BASE_URL (default\n"
      "https://marketplace-api.emag.ro/api-3). Tokens: MARKETSYNC_OPERATOR_TOKEN (commands and reads),\n"
      "MARKETSYNC_AUDITOR_TOKEN (reads). More accounts are added at run time through /api/v1/accounts;\n"
      "their credentials are stored sealed under MARKETSYNC_SECRET_KEY (docs/API.md, Accounts).\n"
      "Without tokens it only listens on loopback; with tokens on another address it serves HTTPS\n"
      "(--tls-cert, --tls-key) or, behind a TLS proxy, --allow-plain-http.\n"
      "--demo starts the embedded eMAG simulator with accounts main and fbe: no account needed.\n"
      "Stops on SIGTERM/SIGINT: runs stop at a page boundary, are recorded as interrupted and resume\n"
      "at the next start. API: docs/API.md."};
  msd::Config c;
  msd::AddFlags(app, c);
  CLI11_PARSE(app, argc, argv);
  if (c.log_format == "json") spdlog::set_formatter(std::make_unique<msd::JsonFormatter>());
  if (c.generate_secret_key) {
    auto key = ms::SecretKey::Generate();
    if (!key.ok()) {
      std::cerr << "marketsyncd: " << key.status().message() << "\n";
      return 1;
    }
    std::cout << key->ToHex() << "\n";
    return 0;
  }
  auto keys = msd::SecretKeysOf(c);
  if (!keys.ok()) {
    std::cerr << "marketsyncd: " << keys.status().message() << "\n";
    return 2;
  }

  std::string host;
  int port = 0;
  if (auto s = msd::SplitListen(c.listen, &host, &port); !s.ok()) {
    std::cerr << "marketsyncd: " << s.message() << "\n";
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
  std::unique_ptr<msd::Demo> demo;
  if (c.demo) {
    auto started = msd::Demo::Start(c.demo_offers, c.demo_latency_ms);
    if (!started.ok()) {
      std::cerr << "marketsyncd: " << started.status().message() << "\n";
      return 1;
    }
    demo = std::move(started).value();
    engine_options.accounts = demo->accounts();
  } else {
    auto accounts = msd::AccountsFromEnvironment(c.accounts);
    if (!accounts.ok()) {
      std::cerr << "marketsyncd: " << accounts.status().message() << "\n";
      return 2;
    }
    engine_options.accounts = std::move(accounts).value();
  }
  SetEngineOptions(c, *keys, engine_options);

  const Exit exit = Serve(c, host, port, std::move(engine_options), signals);
  if (!exit.message.empty()) std::cerr << "marketsyncd: " << exit.message << "\n";
  if (demo) demo->Stop();
  if (exit.code == 0) spdlog::info("stopped");
  return exit.code;
}
