#pragma once

// The product's metrics beside the HTTP ones: counters of what runs do, folded from the events
// appended since the server started (a tail of the log), and gauges read from the stats and
// status projections at scrape time.

#include <atomic>
#include <string>

#include "events/envelope.h"
#include "http/internal/context.h"

namespace marketsync::http {

// Thread safety: Follow runs on one thread; Text and Describe from any.
class RunMetrics {
 public:
  explicit RunMetrics(ServerContext ctx) : ctx_(ctx) {}

  // HELP and TYPE of every metric this server renders (the HTTP ones included).
  void Describe();
  // The Prometheus text of every metric, with the gauges read now.
  std::string Text();
  // Counts every event appended from now on until `stopping` turns true.
  void Follow(const std::atomic<bool>& stopping);

 private:
  void Count(const Envelope& e);

  ServerContext ctx_;
};

}  // namespace marketsync::http
