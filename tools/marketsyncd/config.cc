#include "tools/marketsyncd/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace marketsync::marketsyncd {
namespace {

std::string Env(const std::string& name, const std::string& fallback = "") {
  const char* v = std::getenv(name.c_str());
  return v != nullptr ? std::string(v) : fallback;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(c == '-' ? '_' : std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

void AddFlags(CLI::App& app, Config& c) {
  c.data = Env("MARKETSYNC_DATA", "./data");
  c.store = Env("MARKETSYNC_STORE", "");
  c.listen = Env("MARKETSYNC_LISTEN", "127.0.0.1:8080");
  c.accounts = Env("EMAG_ACCOUNTS", "main,fbe");
  c.operator_token = Env("MARKETSYNC_OPERATOR_TOKEN");
  c.auditor_token = Env("MARKETSYNC_AUDITOR_TOKEN");
  c.schedule_minutes = static_cast<uint32_t>(std::atoi(Env("MARKETSYNC_SCHEDULE_MINUTES", "0").c_str()));
  c.max_runs = static_cast<uint32_t>(std::atoi(Env("MARKETSYNC_MAX_RUNS", "256").c_str()));
  c.console_dir = Env("MARKETSYNC_CONSOLE_DIR");
  c.ca_file = Env("EMAG_CA_FILE");
  c.tls_cert = Env("MARKETSYNC_TLS_CERT");
  c.tls_key = Env("MARKETSYNC_TLS_KEY");
  c.allow_plain_http = Env("MARKETSYNC_ALLOW_PLAIN_HTTP") == "1";
  c.secret_key_file = Env("MARKETSYNC_SECRET_KEY_FILE");
  c.previous_secret_key_file = Env("MARKETSYNC_PREVIOUS_SECRET_KEY_FILE");
  app.add_option("--data", c.data, "Database directory (env MARKETSYNC_DATA)")->capture_default_str();
  app.add_option("--store", c.store,
                 "The event log on PostgreSQL instead of --data: a libpq connection string, postgres://USER@HOST:PORT/DB "
                 "or 'host=... dbname=...'; several hosts with target_session_attrs=read-write follow the primary "
                 "(env MARKETSYNC_STORE; never logged with its password)");
  app.add_option("--listen", c.listen, "HOST:PORT to serve on; port 0 picks a free one (env MARKETSYNC_LISTEN)")
      ->capture_default_str();
  app.add_option("--accounts", c.accounts, "Account names, comma separated (env EMAG_ACCOUNTS)")->capture_default_str();
  app.add_option("--operator-token", c.operator_token,
                 "Bearer token for commands (prefer env MARKETSYNC_OPERATOR_TOKEN: flags show in ps)");
  app.add_option("--auditor-token", c.auditor_token, "Bearer token for reads (prefer env MARKETSYNC_AUDITOR_TOKEN)");
  app.add_option("--schedule-minutes", c.schedule_minutes,
                 "Sync every account every N minutes, accounts spread over the interval with jitter (an account's "
                 "own schedule_minutes wins); 0 = off (env MARKETSYNC_SCHEDULE_MINUTES)")
      ->capture_default_str();
  app.add_option("--run-deadline-minutes", c.deadline_minutes, "A run that takes longer fails")->capture_default_str();
  app.add_option("--page-window", c.page_window, "Page requests in flight per run")->capture_default_str();
  app.add_option("--node-id", c.node_id,
                 "This node's name in the log's run owners and heartbeats (default: host-pid-random; unique per process)");
  app.add_option("--lease-ttl", c.lease_ttl_s,
                 "With --store: seconds a node that stopped beating keeps its runs before another node takes them "
                 "over and resumes them (it beats every third of this; each node times the others' beats by its "
                 "own clock)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-runs", c.max_runs,
                 "Runs executing at once, over every account (a waiting run holds no thread); more wait "
                 "queued (status queued_syncs) "
                 "(env MARKETSYNC_MAX_RUNS)")
      ->check(CLI::Range(1u, 4096u))
      ->capture_default_str();
  app.add_option("--ca-file", c.ca_file,
                 "PEM file of the CAs eMAG's HTTPS certificate is checked against, instead of the system's "
                 "(env EMAG_CA_FILE); verification itself cannot be turned off");
  app.add_option("--tls-cert", c.tls_cert,
                 "Serve HTTPS with this PEM certificate chain, the server's certificate first (env "
                 "MARKETSYNC_TLS_CERT; needs --tls-key)");
  app.add_option("--tls-key", c.tls_key, "The PEM private key of --tls-cert (env MARKETSYNC_TLS_KEY)");
  app.add_flag("--allow-plain-http", c.allow_plain_http,
               "Serve plain HTTP with tokens on a non-loopback address, because a reverse proxy in front "
               "terminates TLS (env MARKETSYNC_ALLOW_PLAIN_HTTP=1; see docs/DEPLOY.md)");
  app.add_option("--secret-key-file", c.secret_key_file,
                 "File whose first line is the key that stored credentials are sealed under (64 hex digits or "
                 "base64 of 32 bytes; or the key itself in env MARKETSYNC_SECRET_KEY). Without one, accounts "
                 "cannot be added through the API");
  app.add_option("--previous-secret-key-file", c.previous_secret_key_file,
                 "While rotating keys: the key being retired (or env MARKETSYNC_PREVIOUS_SECRET_KEY); credentials "
                 "sealed under it are sealed again under --secret-key-file at start");
  app.add_flag("--generate-secret-key", c.generate_secret_key, "Print a new random secret key and exit");
  app.add_option("--threads", c.threads, "HTTP workers kept ready (each open connection holds one)")
      ->capture_default_str();
  app.add_option("--max-connections", c.max_connections,
                 "HTTP connections served at once (workers are added up to this; past it new ones wait)")
      ->capture_default_str();
  app.add_option("--log-format", c.log_format, "text or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--console-dir", c.console_dir,
                 "Directory of the web console's files, served at / (env MARKETSYNC_CONSOLE_DIR)");
  app.add_flag("--demo", c.demo, "Run against the embedded eMAG simulator with demo accounts main and fbe");
  app.add_option("--demo-offers", c.demo_offers, "Offers per demo account")->capture_default_str();
  app.add_option("--demo-latency-ms", c.demo_latency_ms, "Latency the demo simulator adds to each answer")
      ->capture_default_str();
}

Result<std::vector<emag::Account>> AccountsFromEnvironment(const std::string& names) {
  std::vector<emag::Account> out;
  std::stringstream list(names);
  std::string name;
  while (std::getline(list, name, ',')) {
    if (name.empty()) continue;
    const std::string prefix = "EMAG_" + Upper(name) + "_";
    emag::Account a;
    a.name = name;
    a.username = Env(prefix + "USERNAME");
    a.password = Env(prefix + "PASSWORD");
    a.base_url = Env(prefix + "BASE_URL", a.base_url);
    if (a.username.empty() || a.password.empty()) {
      return Status::InvalidArgument("account " + name + " needs " + prefix + "USERNAME and " + prefix +
                                     "PASSWORD (or run with --demo)");
    }
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

// A key from its file, else from the environment variable `env` (a file named on the command
// line or in the environment wins); nullopt when neither is given. Errors name where the key
// came from, never the key.
Result<std::optional<SecretKey>> KeyFrom(const std::string& file, const char* env) {
  std::string source = Env(env);
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in || !std::getline(in, source)) return Status::InvalidArgument("cannot read a secret key from " + file);
  }
  if (source.empty()) return std::optional<SecretKey>();
  auto key = SecretKey::Parse(source);
  if (!key.ok()) return Status::InvalidArgument((file.empty() ? std::string(env) : file) + ": " + key.status().message());
  return std::optional<SecretKey>(*key);
}

}  // namespace

Result<SecretKeys> SecretKeysOf(const Config& c) {
  SecretKeys keys;
  MS_ASSIGN_OR_RETURN(keys.current, KeyFrom(c.secret_key_file, "MARKETSYNC_SECRET_KEY"));
  MS_ASSIGN_OR_RETURN(keys.previous, KeyFrom(c.previous_secret_key_file, "MARKETSYNC_PREVIOUS_SECRET_KEY"));
  if (keys.previous && !keys.current) {
    return Status::InvalidArgument("a previous secret key needs the new one (MARKETSYNC_SECRET_KEY or --secret-key-file)");
  }
  return keys;
}

Status SplitListen(const std::string& listen, std::string* host, int* port) {
  const Status bad = Status::InvalidArgument("--listen must be HOST:PORT, not " + listen);
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad;
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') *host = host->substr(1, host->size() - 2);
  const char* begin = listen.data() + colon + 1;
  const char* end = listen.data() + listen.size();
  const auto [p, ec] = std::from_chars(begin, end, *port);
  if (begin == end || ec != std::errc() || p != end || *port < 0 || *port > 65535) return bad;
  return Status::Ok();
}

}  // namespace marketsync::marketsyncd
