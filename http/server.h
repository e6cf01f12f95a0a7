#pragma once

// The HTTP front end (DESIGN.md §7, docs/API.md): commands go to the SyncEngine, queries to the
// projections (live, or folded "as of" a point), and the log's tail to Server-Sent Events.
// cpp-httplib stays inside server.cc; this header is cheap to include.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace marketsync {
class EventLog;
class SyncEngine;
}  // namespace marketsync

namespace marketsync::http {

class Metrics;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0 picks a free port
  // Bearer tokens. With neither set, only loopback hosts may be bound.
  std::string operator_token;      // commands (and reads)
  std::string auditor_token;       // reads
  size_t threads = 16;             // request workers kept ready (each connection holds one)
  size_t max_connections = 512;    // workers added as connections need them; past this, new ones wait
  size_t max_sse_clients = 8;      // more get 503
  size_t max_body_bytes = 64 * 1024;
  size_t keep_alive_max_requests = 100000;
  int listen_backlog = 1024;
  std::chrono::milliseconds sync_wait{std::chrono::minutes(10)};  // run_async: false
  // A command that arrives while the engine is still starting (recovering runs, loading the
  // accounts) waits this long for it, then gets 503 not_ready.
  std::chrono::milliseconds ready_wait{std::chrono::seconds(10)};
  std::chrono::seconds sse_heartbeat{15};
  // HTTPS: a PEM certificate chain (the server's first) and its key; both empty serves HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // With tokens, plain HTTP is refused on a non-loopback host unless a proxy in front terminates
  // TLS and this says so.
  bool allow_plain_http = false;
  // A directory of static files served at / (the web console); empty serves none.
  std::string console_dir;
};

// Thread safety: Start and Stop from one thread; requests are served on the server's pool.
class Server {
 public:
  // `log` and `engine` must outlive the server; `metrics` too (shared with the log's hook).
  // Errors: kInvalidArgument (no tokens and a non-loopback host; tokens over plain HTTP on a
  // non-loopback host without allow_plain_http; a certificate or key that cannot be used; bad
  // options).
  static Result<std::unique_ptr<Server>> Create(EventLog& log, SyncEngine& engine, Metrics& metrics,
                                                ServerOptions options);
  virtual ~Server() = default;
  // Binds and starts serving on a thread of its own. Errors: kUnavailable (cannot bind).
  virtual Status Start() = 0;
  // The bound port (after Start).
  virtual int port() const = 0;
  // Refuses new commands (503) from now on; reads keep working until Stop.
  virtual void Drain() = 0;
  // Stops listening and joins the workers; idempotent.
  virtual void Stop() = 0;

 protected:
  Server() = default;
};

// The checks Server::Create makes before it reads a certificate, for a caller that wants to
// refuse bad options before it opens anything. Errors: kInvalidArgument, as Create's.
Status CheckServerOptions(const ServerOptions& options);

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(const std::string& host);

}  // namespace marketsync::http
