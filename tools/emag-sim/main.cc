// emag-sim: a local eMAG Marketplace API simulator (product_offer/read and /count).

#include <signal.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <spdlog/spdlog.h>

#include "tools/emag-sim/simulator.h"

int main(int argc, char** argv) {
  CLI::App app{
      "emag-sim: a local eMAG Marketplace API simulator.\n"
      "Serves POST <base>/product_offer/read and /count (base: http://HOST:PORT/api-3) for\n"
      "each account, with HTTP Basic auth (demo logins: username demo-<account>, password\n"
      "demo-<account>-secret), deterministic catalogues, eMAG's rate limits (3 requests/s and\n"
      "180/min per account, answering 429), latency and scripted faults.\n"
      "Control routes: POST /_sim/accounts/<account>/tick (drift), GET /_sim/accounts/<account>/stats,\n"
      "GET|PUT|DELETE /_sim/faults (the fault script), GET /_sim/health."};
  std::string host = "127.0.0.1";
  int port = 0;
  std::vector<std::string> accounts{"main", "fbe"};
  marketsync::sim::SimulatorOptions options;
  bool no_rate_limit = false;
  bool quiet = false;
  std::string faults_file;
  app.add_option("--host", host, "Address to listen on")->capture_default_str();
  app.add_option("--port", port, "Port to listen on; 0 picks a free one and prints it")->capture_default_str();
  app.add_option("--tls-cert", options.tls_cert, "Serve HTTPS with this certificate (PEM; needs --tls-key)");
  app.add_option("--tls-key", options.tls_key, "The certificate's private key (PEM)");
  app.add_option("--accounts", accounts, "Account names, comma separated")->delimiter(',')->capture_default_str();
  app.add_option("--offers", options.offers, "Offers per account before drift")->capture_default_str();
  app.add_option("--seed", options.seed, "Seed of the catalogues, drift and fault probabilities")->capture_default_str();
  app.add_option("--latency-ms", options.latency_ms, "Delay added to every API answer (3500 reproduces eMAG's slow pages)")->capture_default_str();
  app.add_option("--jitter-ms", options.jitter_ms, "Random extra delay, uniform in 0..N ms")->capture_default_str();
  app.add_flag("--no-rate-limit", no_rate_limit, "Do not enforce eMAG's rate limits");
  app.add_option("--per-second", options.per_second, "Requests per second allowed per account")->capture_default_str();
  app.add_option("--per-minute", options.per_minute, "Requests per minute allowed per account")->capture_default_str();
  app.add_option("--ip-allow", options.ip_allow, "Client addresses allowed (others get 'Invalid vendor ip'); default: all")->delimiter(',');
  app.add_option("--faults", faults_file, "Fault script (JSON, see docs/emag-simulator.md) to start with")->check(CLI::ExistingFile);
  app.add_option("--threads", options.threads,
                 "Threads serving every connection (epoll; an answer's delay waits on a timer, not a thread)")
      ->capture_default_str();
  app.add_flag("--quiet", quiet, "No log line per request");
  CLI11_PARSE(app, argc, argv);

  options.rate_limit = !no_rate_limit;
  options.log_requests = !quiet;
  options.accounts.clear();
  for (const auto& a : accounts) options.accounts.push_back(marketsync::sim::DemoAccount(a));
  if (!faults_file.empty()) {
    std::ifstream in(faults_file);
    std::stringstream ss;
    ss << in.rdbuf();
    options.faults_json = ss.str();
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts

  if (options.tls_cert.empty() != options.tls_key.empty()) {
    std::cerr << "emag-sim: --tls-cert and --tls-key go together\n";
    return 2;
  }
  auto sim = marketsync::sim::Simulator::Start(options, host, port);
  if (!sim.ok()) {
    std::cerr << "emag-sim: " << sim.status().ToString() << "\n";
    return 1;
  }
  std::cout << "emag-sim listening on " << (*sim)->BaseUrl() << " (port " << (*sim)->port() << ")" << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  spdlog::info("emag-sim stopping on signal {}", sig);
  (*sim)->Stop();
  return 0;
}
