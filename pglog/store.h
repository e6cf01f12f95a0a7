#pragma once

// Where a log lives, as an operator names it (`--store`): a RocksDB directory, the embedded
// default, or a PostgreSQL database by its libpq connection string (`postgres://…`,
// `postgresql://…`, or `host=… dbname=…`; several hosts with target_session_attrs=read-write
// follow the primary after a failover). The one place that chooses a backend, so events/ never
// links libpq.

#include <memory>
#include <string>

#include "base/status.h"
#include "events/event_log.h"

namespace marketsync::pglog {

// True when `store` names a PostgreSQL database rather than a directory.
bool IsPostgresStore(const std::string& store);

// Opens the log `store` names, with EventLog::Open's or OpenPgEventLog's errors.
Result<std::unique_ptr<EventLog>> OpenStore(const std::string& store, EventLogOptions options);

// `store` fit for a log line or an error: a directory as it is; a connection string as
// "PostgreSQL host=… port=… dbname=… user=…", never its password.
std::string DescribeStore(const std::string& store);

}  // namespace marketsync::pglog
