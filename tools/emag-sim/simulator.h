#pragma once

// The eMAG Marketplace API simulator: a real HTTP server on a real socket that speaks the
// protocol of ../shared/emag-api.md for product_offer/read and /count, with per-account
// credentials, deterministic catalogues, drift, eMAG's rate limits, latency and scripted faults.
// A library, so tests and `marketsyncd --demo` can embed it; `emag-sim` is its command line.
//
// Control routes beside the API (no auth; the simulator listens on loopback by default):
//   POST   /_sim/accounts/{account}/tick   one drift step; answers {"created","updated","removed"}
//   GET    /_sim/accounts/{account}/stats  {"requests", "rate_limited", "max_in_flight"}
//   GET|PUT|DELETE /_sim/faults            the fault script (see faults.h)
//   GET    /_sim/health                    {"status":"ok"}

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tools/emag-sim/catalog.h"

namespace marketsync::sim {

struct SimAccount {
  std::string name;
  std::string username;
  std::string password;
};

// The demo login of an account: username demo-<name>, password demo-<name>-secret.
SimAccount DemoAccount(const std::string& name);

struct SimulatorOptions {
  std::vector<SimAccount> accounts = {DemoAccount("main"), DemoAccount("fbe")};
  uint32_t offers = 1275;        // per account, before drift
  uint64_t seed = 42;
  uint32_t latency_ms = 0;       // added to every API answer
  uint32_t jitter_ms = 0;        // plus a uniform random 0..jitter_ms
  bool rate_limit = true;        // eMAG's limits, per account
  uint32_t per_second = 3;
  uint32_t per_minute = 180;
  std::vector<std::string> ip_allow;  // empty: every address is allowed
  std::string faults_json;            // a fault script to start with
  bool log_requests = true;           // one log line per request
  size_t threads = 2;                 // threads serving every connection (answers wait on timers)
  // HTTPS with this certificate and key (PEM files); empty: plain HTTP.
  std::string tls_cert;
  std::string tls_key;
};

struct AccountStats {
  uint64_t requests = 0;
  uint64_t rate_limited = 0;
  uint64_t max_in_flight = 0;  // most API requests of the account being answered at once
};

// Thread safety: all methods are thread-safe.
class Simulator {
 public:
  // Binds host:port (port 0 picks a free one) and serves on a thread of its own.
  // Errors: kInvalidArgument for bad options, kUnavailable when it cannot bind.
  static Result<std::unique_ptr<Simulator>> Start(SimulatorOptions options, const std::string& host,
                                                  int port);
  virtual ~Simulator() = default;

  virtual int port() const = 0;
  // http://host:port/api-3, the base URL to give an account.
  virtual std::string BaseUrl() const = 0;
  // Stops serving; requests sleeping in latency or faults are cut short. Idempotent.
  virtual void Stop() = 0;

  virtual Result<TickChanges> Tick(const std::string& account) = 0;
  virtual Status SetFaults(std::string_view json) = 0;
  virtual Result<AccountStats> Stats(const std::string& account) const = 0;
  // The offers served now, by id, as rendered JSON.
  virtual Result<std::vector<std::pair<uint64_t, std::string>>> OffersForTest(
      const std::string& account) const = 0;

 protected:
  Simulator() = default;
};

}  // namespace marketsync::sim
