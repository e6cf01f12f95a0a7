#pragma once

// What every handler of the server shares: the log, the engine, the metrics and the options,
// and whether the server is draining. Borrowed from the server, which outlives its handlers.

#include <atomic>
#include <cstdint>

#include "http/internal/request.h"
#include "http/server.h"

namespace marketsync::http {

struct ServerContext {
  EventLog& log;
  SyncEngine& engine;
  Metrics& metrics;
  const ServerOptions& options;
  const std::atomic<bool>& draining;  // commands answer 503 once set
};

}  // namespace marketsync::http
