#pragma once

// marketsyncd's configuration: flags, each with its environment twin (DESIGN.md §8), and the
// accounts the environment names.

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "engine/emag/client.h"
#include "engine/sealed_credentials.h"

namespace marketsync::marketsyncd {

struct Config {
  std::string data;
  std::string store;  // a PostgreSQL connection string; empty: the RocksDB directory `data`
  std::string listen;
  std::string accounts;  // names, comma separated
  std::string operator_token;
  std::string auditor_token;
  uint32_t schedule_minutes = 0;
  uint32_t deadline_minutes = 30;
  uint32_t threads = 16;
  uint32_t max_connections = 512;
  std::string ca_file;  // EMAG_CA_FILE
  std::string tls_cert;  // the API's own HTTPS
  std::string tls_key;
  bool allow_plain_http = false;
  // The key stored credentials are sealed under: the first line of --secret-key-file
  // (MARKETSYNC_SECRET_KEY_FILE), else MARKETSYNC_SECRET_KEY; the previous one likewise.
  std::string secret_key_file;           // else the key itself in MARKETSYNC_SECRET_KEY
  std::string previous_secret_key_file;  // else MARKETSYNC_PREVIOUS_SECRET_KEY
  bool generate_secret_key = false;
  uint32_t page_window = 16;
  uint32_t max_runs = 256;
  std::string node_id;        // empty: host-pid-random
  uint32_t lease_ttl_s = 15;  // with --store: how long a silent node keeps its runs
  std::string log_format = "text";
  bool demo = false;
  uint32_t demo_offers = 1275;
  uint32_t demo_latency_ms = 20;
  std::string console_dir;
};

// The defaults, read from the environment, and the flags that override them.
void AddFlags(CLI::App& app, Config& config);

// The accounts EMAG_ACCOUNTS (or --accounts) names, each from EMAG_<NAME>_USERNAME, _PASSWORD
// and _BASE_URL. Errors: kInvalidArgument naming the variables an account lacks (never their
// values).
Result<std::vector<emag::Account>> AccountsFromEnvironment(const std::string& names);

// The secret keys the configuration names (each nullopt when it names none). Errors:
// kInvalidArgument for a key file that cannot be read or a key that does not parse (never
// showing the text).
struct SecretKeys {
  std::optional<SecretKey> current;
  std::optional<SecretKey> previous;
};
Result<SecretKeys> SecretKeysOf(const Config& config);

// HOST:PORT (an IPv6 host in brackets). Errors: kInvalidArgument.
Status SplitListen(const std::string& listen, std::string* host, int* port);

}  // namespace marketsync::marketsyncd
