#pragma once

// Server-Sent Events of the log (GET /api/v1/events/stream): where a stream starts, and the
// next chunk of `id:`/`event:`/`data:` records from a seq on.

#include <cstdint>
#include <string>

#include "base/status.h"
#include "events/event_log.h"
#include "http/internal/request.h"

namespace marketsync::http {

// The seq a stream starts after: Last-Event-ID when sent (a reconnect), else `after` (0).
// Errors: kInvalidArgument naming the parameter or header.
Result<uint64_t> StreamStart(const Request& req);

// Up to `max_events` events from *next on as SSE records (only run streams when runs_only);
// advances *next past what it read. Empty when the log has nothing from *next yet. Errors: an
// event that does not render.
Result<std::string> NextEventChunk(const EventLog& log, uint64_t* next, bool runs_only, size_t max_events = 500);

}  // namespace marketsync::http
