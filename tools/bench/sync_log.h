#pragma once

// Log options for the benches: the sync event types, with or without the projections.

#include "events/event_log.h"
#include "projections/all.h"
#include "schema/event_type.h"

namespace marketsync::bench {

// The sync event types and nothing else (no projections, no engine family).
inline EventLogOptions SyncTypesOnly() {
  EventLogOptions o;
  o.types = SyncEventTypes();
  return o;
}

}  // namespace marketsync::bench
