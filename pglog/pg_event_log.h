#pragma once

// The log on PostgreSQL as an EventLog (events/event_log.h): the same semantics as RocksDB's,
// proven by the same tests (tests/events/: the suites instantiated with MS_ON_EVERY_LOG_BACKEND
// run on both). Appends from any number of nodes queue on the head row; projections fold in
// the append's transaction. docs/postgres-plan.md is the design. No libpq in this header.

#include <memory>
#include <string>

#include "base/status.h"
#include "events/event_log.h"

namespace marketsync::pglog {

// Opens the log in the database `conninfo` names (a libpq connection string; several hosts
// with target_session_attrs=read-write follow the primary). Read-write creates the tables when
// missing and brings every projection up to the head (a projection whose rows are of another
// version, or behind, is refolded). kReadOnly and kSecondary open without writing: appends
// answer kUnavailable, reads see the log as it is now (other nodes' appends included).
// Errors: kInvalidArgument (options.types empty or invalid), kUnavailable (cannot connect),
// kNotFound (a read-only open of a database without the log), kFailedPrecondition (another
// schema version), kCorruption (the head row).
Result<std::unique_ptr<EventLog>> OpenPgEventLog(const std::string& conninfo, EventLogOptions options);

}  // namespace marketsync::pglog
